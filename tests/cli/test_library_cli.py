"""`idds library keygen | sign | verify | show` as a hospital would use them."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest

from idds.drugs import generate_keypair, reference_library_path, sign_file
from tests.cli.helpers import assert_clean_refusal, idds, idds_json


def test_hospital_signs_and_uses_its_own_library(tmp_path: Path) -> None:
    prefix = tmp_path / "hospital"
    assert idds("library", "keygen", "--out", str(prefix)).returncode == 0
    library = tmp_path / "library.toml"
    shutil.copy(reference_library_path(), library)
    library.write_text(library.read_text().replace('"15 mg/day"', '"12 mg/day"'))

    unsigned = idds("library", "verify", str(library), "--key", f"{prefix}.pub")
    assert_clean_refusal(unsigned, "unsigned")

    signed = idds("library", "sign", str(library), "--key", f"{prefix}.key")
    assert signed.returncode == 0, signed.stderr
    verified = idds_json("library", "verify", str(library), "--key", f"{prefix}.pub")
    assert verified["valid"] is True

    store = tmp_path / "trust-store.toml"
    store.write_text('keys = ["hospital.pub"]\n')
    env = {**os.environ, "IDDS_LIBRARY": str(library), "HOME": str(tmp_path)}
    shown = idds("library", "show", "--json", "--trust-store", str(store), env=env)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["drugs"]["morphine"]["max_daily_dose"] == "12 mg/day (soft)"

    library.write_text(library.read_text().replace('"12 mg/day"', '"120 mg/day"'))
    tampered = idds("library", "show", "--trust-store", str(store), env=env)
    assert_clean_refusal(tampered, "changed after signing")
    # the default trust store does not know the hospital key
    assert_clean_refusal(idds("library", "verify", str(library)), "not in the trust store")


def test_reference_library_shows() -> None:
    data = idds_json("library", "show")
    assert len(data["drugs"]) == 8
    assert data["drugs"]["ziconotide"]["max_daily_dose"] == "19.2 mcg/day (hard)"


def test_sign_refuses_a_malformed_library(tmp_path: Path) -> None:
    prefix = tmp_path / "k"
    idds("library", "keygen", "--out", str(prefix))
    library = tmp_path / "library.toml"
    shutil.copy(reference_library_path(), library)
    library.write_text(library.read_text().replace('kind = "hard"', 'kind = "firm"', 1))
    assert_clean_refusal(idds("library", "sign", str(library), "--key", f"{prefix}.key"),
                         "kind")
    assert not (tmp_path / "library.toml.sig").exists()


def test_keygen_never_overwrites(tmp_path: Path) -> None:
    prefix = tmp_path / "k"
    assert idds("library", "keygen", "--out", str(prefix)).returncode == 0
    before = Path(f"{prefix}.key").read_bytes()
    assert_clean_refusal(idds("library", "keygen", "--out", str(prefix)), "already exists")
    assert Path(f"{prefix}.key").read_bytes() == before


def test_demo_runs(tmp_path: Path) -> None:
    """The main job end to end (a smaller closing trial than `make demo` runs)."""
    done = idds("demo", "--patients", "20", "--days", "3", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "not a medical device" in done.stdout
    assert "suggested start" in done.stdout
    assert "47-year-old man" in done.stdout
    assert (tmp_path / "report.html").exists()


def test_demo_json_is_the_same_story_as_data(tmp_path: Path) -> None:
    """`--json` gives the demo's numbers; the implant runs the program just calculated."""
    data = idds_json("demo", "--patients", "20", "--days", "3", "--out", str(tmp_path))
    # he is assessed at referral before anything is implanted: a candidate for a trial first
    assert data["candidacy"]["outcome"] == "screening trial first"
    assert "refractory-pain" in data["candidacy"]["deciding"]
    # then screened (the trials' default method), and the criteria decide with the result
    assert data["screening"]["verdict"] == "POSITIVE"
    assert data["candidacy_after_screening"]["outcome"] == "implanted pump"
    start = data["conversion"]["suggested_start"]
    assert data["program"]["therapy"]["dose"] == f"{start['value']:g} {start['unit']}"
    delivered = data["implant_run"]["delivered_mg_per_day"]
    assert delivered[1] == pytest.approx(start["value"], rel=0.2)  # day 2: basal + boluses
    assert data["refill_plan"]["days_to_alarm"] > 0
    assert set(data["trial"]["arms"]) >= {"cmm", "it-standard"}
    assert all(isinstance(c["holds"], bool) for c in data["claims"])
    assert Path(data["report"]["html"]).exists()
    assert "not a medical device" in data["disclaimer"]


def test_trumpet_json(tmp_path: Path) -> None:
    data = idds_json("pump", "trumpet", "--rate", "0.5 mL/day", "--hours", "2", "--out",
                     str(tmp_path))
    assert data["rate"] == "0.5 mL/day" and data["windows"][0]["window_min"] == 2
    assert all(Path(f).exists() for f in data["files"])


def _signed_copy(tmp_path: Path, prefix: Path, version: str) -> Path:
    folder = tmp_path / f"v{version}"
    folder.mkdir()
    library = folder / "library.toml"
    text = re.sub(r'^version = ".*"$', f'version = "{version}"',
                  reference_library_path().read_text(), count=1, flags=re.MULTILINE)
    library.write_text(text)
    sign_file(library, Path(f"{prefix}.key"))  # signing itself is tested above, via the CLI
    return library


def test_trust_store_file_not_environment_and_no_rollback(tmp_path: Path) -> None:
    """Finding 6: IDDS_TRUSTED_KEYS extended the trust store, and an older signed library
    replaced a newer one. Now: the site trust-store file only, and the version never goes
    back (~/.idds/library-version.json)."""
    prefix = tmp_path / "hospital"
    generate_keypair(prefix)
    newer, older = (_signed_copy(tmp_path, prefix, v) for v in ("2031.2", "2031.1"))
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "IDDS_TRUSTED_KEYS": f"{prefix}.pub"}
    assert_clean_refusal(idds("library", "show", "--library", str(newer), env=env),
                         "not in the trust store")
    assert_clean_refusal(idds("library", "show", "--library", str(newer), "--trusted-key",
                              f"{prefix}.pub", env=env), "No such option")
    store = tmp_path / "trust-store.toml"
    store.write_text('keys = ["hospital.pub"]\n')
    trusted = ["--trust-store", str(store)]
    shown = idds("library", "show", "--json", "--library", str(newer), *trusted, env=env)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["version"] == "2031.2"
    record = home / ".idds" / "library-version.json"
    before = record.read_bytes()
    rolled = idds("convert", "--drug", "morphine", "--dose", "300 mg/day", "--from", "oral",
                  "--to", "intrathecal", "--library", str(older), *trusted, env=env)
    assert_clean_refusal(rolled, "version 2031.1 is older than version 2031.2")
    assert record.read_bytes() == before
    store.chmod(0o666)
    assert_clean_refusal(idds("library", "show", "--library", str(newer), *trusted, env=env),
                         "writable by group or others")
