"""`idds screen` through the real entry point: the course table, --json, --plot, refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.helpers import assert_clean_refusal, idds, idds_json


def test_the_table_shows_the_course_and_the_verdict_with_its_reasons() -> None:
    done = idds("screen", "--archetype", "seed-case", "--method", "infusion", "--days", "2")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "not a medical device" in out
    assert "3.6 mg/day intrathecal morphine by catheter infusion for 2 days" in out
    for column in ("CSF ng/mL", "NRS", "diary", "RR/min", "POSS"):
        assert column in out
    assert "Verdict: POSITIVE" in out
    assert "Pain fell by >= 50% from the baseline NRS" in out
    assert "µg" not in out


def test_json_names_the_dose_the_verdict_and_every_hour() -> None:
    doc = idds_json("screen", "--archetype", "opioid-naive", "--seed", "3")
    assert doc["dose"]["bolus_mg"] == pytest.approx(0.1)
    assert doc["dose"]["opioid_tolerant"] is False
    assert doc["verdict"] in {"POSITIVE", "NEGATIVE", "STOPPED_FOR_SAFETY"}
    assert doc["reasons"]
    hours = [h["hour_h"] for h in doc["course"]]
    assert hours[0] < 0 and hours[-1] >= 24
    first = doc["course"][0]
    assert {"csf_ng_per_ml", "pain_nrs", "diary_nrs", "respiratory_rate_per_min",
            "sedation_poss", "side_effect_grades"} <= set(first)
    assert doc["rule"]["relief_threshold_percent"] == 50.0
    tolerant = idds_json("screen", "--archetype", "typical-tolerant")
    assert tolerant["dose"]["bolus_mg"] == pytest.approx(0.5)  # capped at the hard maximum


def test_a_large_naive_bolus_is_stopped_for_safety_with_the_rate_named() -> None:
    """Opioid-naive patient 0 of seed 7: 0.5 mg (the top of the PACC trial range) stops the
    trial when breathing falls below 8/min; the library's 0.1 mg does not."""
    doc = idds_json("screen", "--archetype", "opioid-naive", "--bolus", "0.5 mg", "--seed", "7")
    assert doc["dose"]["bolus_mg"] == pytest.approx(0.5)
    assert doc["verdict"] == "STOPPED_FOR_SAFETY"
    assert doc["lowest_respiratory_rate_per_min"] < 8.0 and doc["stopped_at_h"] > 0
    assert "respiratory rate" in doc["reasons"][0] and "below the stop rule's 8/min" in \
        doc["reasons"][0]
    usual = idds_json("screen", "--archetype", "opioid-naive", "--seed", "7")
    assert usual["verdict"] != "STOPPED_FOR_SAFETY"
    assert usual["lowest_respiratory_rate_per_min"] > doc["lowest_respiratory_rate_per_min"]
    done = idds("screen", "--archetype", "opioid-naive", "--bolus", "0.5 mg", "--seed", "7")
    assert done.returncode == 0 and "Verdict: STOPPED_FOR_SAFETY" in done.stdout


def test_plot_writes_a_png(tmp_path: Path) -> None:
    png = tmp_path / "screen.png"
    done = idds("screen", "--archetype", "frail-elderly", "--plot", str(png))
    assert done.returncode == 0, done.stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"plot: {png}" in done.stdout


@pytest.mark.parametrize(("args", "fragment"), [
    (["--method", "drip"], "--method must be bolus or infusion"),
    (["--method", "infusion", "--days", "4"], "--days must be 1-3"),
    (["--days", "2"], "--days is for --method infusion"),
    (["--method", "infusion", "--bolus", "0.1 mg"], "--bolus is for --method bolus"),
    (["--bolus", "0.6 mg"], "hard maximum bolus"),
    (["--bolus", "0.3 mg/day"], "--bolus"),
    (["--archetype", "athlete"], "unknown archetype 'athlete'"),
    (["--drug", "fentanyl"], "cannot be given fentanyl"),
    (["--drug", "aspirin"], "not in the library"),
    (["--seed", "-1"], "--seed must be a whole number >= 0"),
])
def test_refusals_are_one_line(args: list[str], fragment: str) -> None:
    assert_clean_refusal(idds("screen", *args), fragment)


def test_a_bad_plot_name_or_rule_is_refused_before_anything_runs(tmp_path: Path) -> None:
    out = tmp_path / "screen.txt"
    assert_clean_refusal(idds("screen", "--plot", str(out)), "must end in one of")
    rule = tmp_path / "rule.toml"
    rule.write_text("stop_poss = 9\n")
    assert_clean_refusal(idds("screen", "--rule", str(rule), "--plot",
                              str(tmp_path / "p.png")), "stop_poss 2-4")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rule.toml"]


EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "patients"


def test_a_candidate_record_is_screened_as_that_patient() -> None:
    """`--patient` reads the candidacy file: the dose follows its regimen (360 mg/day oral
    morphine: tolerant), the baseline its pain at rest."""
    doc = idds_json("screen", "--patient", str(EXAMPLES / "seed-case.toml"))
    assert doc["patient"].startswith("seed case") and doc["archetype"] is None
    assert doc["dose"]["opioid_tolerant"] is True
    assert doc["dose"]["bolus_mg"] <= 0.5  # the library's hard maximum bolus
    assert any("360 mg/day oral morphine equivalent" in r for r in doc["dose"]["reasons"])
    both = idds("screen", "--patient", str(EXAMPLES / "seed-case.toml"), "--archetype",
                "seed-case")
    assert_clean_refusal(both, "give --patient or --archetype, not both")
    missing = idds("screen", "--patient", "no-such-file.toml")
    assert_clean_refusal(missing, "no-such-file.toml")
