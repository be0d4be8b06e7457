"""`idds candidacy` through the real entry point: the finish screen, --json, a hospital's
signed criteria, and one-line refusals (exit status 2, no traceback, nothing written)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from idds.drugs import generate_keypair, sign_file
from idds.selection import reference_criteria_path
from tests.cli.helpers import assert_clean_refusal, idds

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "patients"


def _env(home: Path, columns: int = 160) -> dict[str, str]:
    return {**os.environ, "HOME": str(home), "COLUMNS": str(columns)}


def _run(*args: str, cwd: Path, columns: int = 160) -> tuple[int, str, str]:
    done = idds(*args, env=_env(cwd, columns))
    return done.returncode, done.stdout, done.stderr


def test_the_finish_screen_shows_the_verdict_every_criterion_and_the_sources(
        tmp_path: Path) -> None:
    code, out, err = _run("candidacy", "--patient",
                          str(EXAMPLES / "implant-after-positive-screen.toml"), cwd=tmp_path)
    assert code == 0, err
    assert "Verdict: IMPLANTED PUMP" in out
    assert "screening-trial: positive: pain fell 60% >= 50%" in out
    for criterion in ("refractory-pain", "gi-obstruction", "mao-inhibitor",
                      "vertebral-metastases", "life-expectancy-route"):
        assert criterion in out
    assert "300 mg/day OME" in out and "240 day" in out
    assert "Infumorph label" in out and "Oncology 1999;13 Suppl 2:37" in out
    assert "not a medical device" in out
    # the one file written: the newest criteria version accepted (anti-rollback)
    assert list(tmp_path.iterdir()) == [tmp_path / ".idds"]
    record = json.loads((tmp_path / ".idds" / "criteria-version.json").read_text())
    assert record["libraries"]["IDDS reference candidacy criteria"]["version"] == "2026.12.02"


def test_a_deferred_patient_is_told_what_to_fix(tmp_path: Path) -> None:
    code, out, err = _run("candidacy", "--patient", str(EXAMPLES / "deferred-fix-first.toml"),
                          cwd=tmp_path)
    assert code == 0, err
    assert "Verdict: DEFERRED" in out
    fix = out[out.index("Fix first, then assess again:"):]
    assert "pause rivaroxaban" in fix and "treat the systemic infection" in fix


def test_json_gives_the_same_verdict_as_data(tmp_path: Path) -> None:
    for name, outcome in (("implant-after-positive-screen", "implanted pump"),
                          ("external-catheter-short-prognosis", "external catheter"),
                          ("contraindicated-ileus", "not a candidate"),
                          ("screening-trial-first", "screening trial first"),
                          ("deferred-fix-first", "deferred")):
        code, out, err = _run("candidacy", "--patient", str(EXAMPLES / f"{name}.toml"),
                              "--json", cwd=tmp_path)
        assert code == 0, err
        data = json.loads(out)
        assert data["outcome"] == outcome, name
        assert data["deciding"] and len(data["reasons"]) == len(data["deciding"])
        assert {f["criterion"] for f in data["findings"]} >= set(data["deciding"])
        assert all(f["source"] for f in data["findings"])
        assert data["signed_by_key"] == "fd3390b18ca64893"
    assert data["to_fix"] and data["life_expectancy"] == {"value": 210.0, "unit": "day"}


def test_a_hospital_criteria_file_through_its_trust_store(tmp_path: Path) -> None:
    private, _ = generate_keypair(tmp_path / "hospital")
    criteria = tmp_path / "criteria.toml"
    criteria.write_text(reference_criteria_path().read_text().replace(
        'external_below = "90 day"', 'external_below = "180 day"'))
    sign_file(criteria, private)
    store = tmp_path / "trust-store.toml"
    store.write_text('keys = ["hospital.pub"]\n')
    patient = str(EXAMPLES / "deferred-fix-first.toml")
    code, out, err = _run("candidacy", "--patient", str(EXAMPLES / "contraindicated-ileus.toml"),
                          "--criteria", str(criteria), "--trust-store", str(store), "--json",
                          cwd=tmp_path)
    assert code == 0, err
    assert json.loads(out)["criteria_file"] == str(criteria)
    untrusted = idds("candidacy", "--patient", patient, "--criteria", str(criteria),
                     env=_env(tmp_path))
    assert_clean_refusal(untrusted, "not in the trust store")
    criteria.write_text(criteria.read_text().replace('"180 day"', '"30 day"'))
    tampered = idds("candidacy", "--patient", patient, "--criteria", str(criteria),
                    "--trust-store", str(store), env=_env(tmp_path))
    assert_clean_refusal(tampered, "fails its signature check")
    assert tampered.stdout == ""


def test_bad_patient_files_are_one_line_naming_the_field_and_the_file(tmp_path: Path) -> None:
    source = (EXAMPLES / "screening-trial-first.toml").read_text()
    cases = {
        "missing.toml": (source.replace("nrs_movement = 4\n", ""),
                         "[pain] nrs_movement is missing"),
        "unit.toml": (source.replace('"160 mg/day"', '"160 mg"'),
                      "[regimen] oral_morphine_equivalent"),
        "range.toml": (source.replace("nrs_rest = 3", "nrs_rest = 12"),
                       "[pain] nrs_rest 12 is outside 0-10"),
        "unknown.toml": (source.replace("[infection]", "[infection]\nlocal = true"),
                         "[infection] has unknown key(s) ['local']"),
        "toml.toml": ("[patient\n", "is not valid TOML"),
    }
    home = tmp_path / "home"
    home.mkdir()
    for name, (text, fragment) in cases.items():
        path = tmp_path / name
        path.write_text(text)
        done = idds("candidacy", "--patient", str(path), env=_env(home))
        assert_clean_refusal(done, fragment)
        assert str(path) in done.stderr and done.stdout == ""
    assert_clean_refusal(idds("candidacy", "--patient", str(tmp_path / "none.toml"),
                              env=_env(home)), "cannot read patient file")
    assert list(home.iterdir()) == []  # a refusal writes nothing


def test_the_example_files_are_the_documented_ones(tmp_path: Path) -> None:
    """docs/selection.md shows a real run of the screening-trial example."""
    docs = (Path(__file__).resolve().parents[2] / "docs" / "selection.md").read_text()
    shutil.copy(EXAMPLES / "screening-trial-first.toml", tmp_path / "p.toml")
    code, out, _ = _run("candidacy", "--patient", str(tmp_path / "p.toml"), cwd=tmp_path,
                        columns=100)
    assert code == 0
    for line in out.splitlines()[:6]:
        assert line.strip() in docs
