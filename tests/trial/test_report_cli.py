"""The report renders offline with every figure; the CLI writes it; bad input exits 2."""

from __future__ import annotations

import json
import re
from pathlib import Path

from idds.trial import TrialConfig, run_trial
from idds.trial.metrics import METRIC_KEYS
from idds.trial.report import FIGURES, write_report
from idds.trial.weekly import WEEKLY_KEYS
from tests.cli.helpers import assert_clean_refusal, idds


def test_report_has_every_figure_and_documented_keys(tmp_path: Path) -> None:
    result = run_trial(TrialConfig(patients=6, days=8, arms=("cmm", "it-standard"), seed=3))
    files = write_report(result, tmp_path, pdf=False, csv=False)
    metrics_path, page = files.metrics, files.html.read_text()
    assert files.pdf is None and files.csv is None
    for name in FIGURES:
        assert f"id='fig-{name}'" in page
    # every cohort figure and the chosen patient's day view
    assert len(re.findall(r"src='data:image/png;base64,", page)) == len(FIGURES) + 1
    assert "http://" not in page and "https://" not in page  # works offline
    assert "not a medical device" in page
    data = json.loads(metrics_path.read_text())
    assert data["metric_keys"] == METRIC_KEYS
    assert data["weekly_keys"] == WEEKLY_KEYS
    for arm in ("cmm", "it-standard"):
        assert set(data["arms"][arm]["metrics"]) == set(METRIC_KEYS)
        weekly = data["arms"][arm]["weekly"]
        assert set(weekly) == set(WEEKLY_KEYS)
        assert weekly["weeks"] == [0, 1, 2]  # baseline, days 1-7, day 8
        for key in ("prevalence_grade1", "prevalence_grade2"):
            assert set(weekly[key]) == set(data["symptoms"])
            assert all(len(v) == 3 for v in weekly[key].values())
        survival = data["arms"][arm]["survival"]
        assert survival["times_days"][0] == 0 and survival["survival"][0] == 1
    for heading in ("Methods", "Interpretation", "Checks against published findings",
                    "The seed case", "Survival", "Baseline characteristics", "Outcomes"):
        assert f"<h2>{heading}</h2>" in page, heading
    assert page.count("<figcaption>") == len(FIGURES) + 1


def test_every_metric_and_weekly_key_is_documented() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "trial.md").read_text()
    for key in (*METRIC_KEYS, *WEEKLY_KEYS):
        assert f"`{key}`" in doc, key


def test_trial_cli_json(tmp_path: Path) -> None:
    done = idds("trial", "--patients", "8", "--days", "2", "--out", str(tmp_path), "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert set(data["arms"]) == {"cmm", "it-standard"}
    for name in ("report.html", "report.pdf", "metrics.json", "patient_days.csv"):
        assert (tmp_path / name).exists(), name


def test_trial_cli_bad_input() -> None:
    assert_clean_refusal(idds("trial", "--arms", "cmm,laser"), "unknown arm")
    assert_clean_refusal(idds("trial", "--patients", "0"), "--patients must be at least 1")
    assert_clean_refusal(idds("trial", "--patients", "2", "--days", "1", "--scheduler",
                              "tcp://127.0.0.1:9"), "cannot reach the Dask scheduler")


def test_trial_cli_refuses_a_negative_seed_and_an_unwritable_out(tmp_path: Path) -> None:
    assert_clean_refusal(idds("trial", "--patients", "2", "--days", "1", "--seed", "-1"),
                         "--seed must be a whole number >= 0")
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert_clean_refusal(idds("trial", "--patients", "2", "--days", "1", "--out",
                              str(blocker / "sub")), "is not a writable folder")


def test_the_seed_claims_read_the_trial() -> None:
    from idds.trial.claims import check

    result = run_trial(TrialConfig(patients=20, days=8, arms=("cmm", "it-standard"), seed=4))
    claims = check(result)
    assert [c.statement for c in claims] == [
        "same or better relief", "far fewer systemic side effects",
        "at about 1/100-1/300 of the oral dose"]
    ratio = result.arms["it-standard"].metrics["prior_oral_per_it"].mean
    assert f"1/{ratio:.0f}" in claims[2].evidence
    assert claims[2].holds == (90 <= ratio <= 330)
    only_pump = run_trial(TrialConfig(patients=4, days=2, arms=("it-standard",), seed=4))
    assert check(only_pump) == []
