"""A trial of any size: batches come back as summaries, histories are kept for the first
patients only, and a rare outcome can be run to a stated precision."""

from __future__ import annotations

import json
import math
import tracemalloc
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from idds.trial import ARMS, LocalExecutor, TrialConfig, TrialError, TrialSettings, run_trial
from idds.trial.batch import simulate_batch
from idds.trial.engine import ArmRun, Baseline
from idds.trial.metrics import PatientOutcomes, patient_outcomes, ratio_ci
from idds.trial.precision import Precision, PrecisionError
from idds.trial.weekly import WeeklySums, weekly_series, weekly_sums
from tests.cli.helpers import assert_clean_refusal, idds

BASE = dict(days=7, arms=("cmm", "it-standard"), seed=4)


@pytest.fixture(scope="module")
def batch() -> ArmRun:
    from idds.drugs import load_library
    from idds.physiology import sample_cohort

    [run] = simulate_batch(sample_cohort(16, seed=8), [ARMS["it-standard"]], load_library(),
                           TrialSettings(days=9))
    return run


def _part(run: ArmRun, at: slice) -> tuple[WeeklySums, PatientOutcomes]:
    base = Baseline({k: v[at] for k, v in run.baseline.row.items()},
                    run.baseline.grades[:, at], run.baseline.inventory[:, at])
    history = {k: v[:, at] for k, v in run.history.items()}
    return (weekly_sums(history, run.grades[:, :, at], run.inventory[:, :, at], base, 300.0),
            patient_outcomes(history, base.row, run.visits[at], run.refills[at], 300.0,
                             run.prior_oral_mg_per_day[at]))


@settings(max_examples=25, deadline=None)
@given(cuts=st.lists(st.integers(1, 15), max_size=4, unique=True))
def test_batch_sums_add_up_to_the_whole_cohort(batch: ArmRun, cuts: list[int]) -> None:
    edges = [0, *sorted(cuts), 16]
    parts = [_part(batch, slice(a, b)) for a, b in pairwise(edges)]
    whole = weekly_series(batch.history, batch.grades, batch.inventory, batch.baseline, 300.0)
    added = WeeklySums.add(w for w, _o in parts).series()
    for key, values in whole.items():
        if isinstance(values, dict):
            for label, series in values.items():
                np.testing.assert_allclose(added[key][label], series, rtol=1e-12)
        else:
            np.testing.assert_allclose(added[key], values, rtol=1e-12, err_msg=key)
    joined = PatientOutcomes.concatenate([o for _w, o in parts])
    one = _part(batch, slice(0, 16))[1]
    for key, value in one.__dict__.items():
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(getattr(joined, key), value, err_msg=key)


def test_keeping_fewer_histories_changes_no_metric() -> None:
    full = run_trial(TrialConfig(patients=12, batch_size=5, **BASE))  # type: ignore[arg-type]
    few = run_trial(TrialConfig(patients=12, batch_size=5, histories=7,  # type: ignore[arg-type]
                                **BASE), LocalExecutor(2))
    assert few.histories_kept == 7 and full.histories_kept == 12
    for name, arm in full.arms.items():
        other = few.arms[name]
        assert {k: e.as_json() for k, e in arm.metrics.items()} == {
            k: e.as_json() for k, e in other.metrics.items()}
        assert other.weekly == arm.weekly
        assert other.survival.as_json() == arm.survival.as_json()
        for key, values in arm.history.items():
            np.testing.assert_array_equal(other.history[key], values[:, :7], err_msg=key)
        np.testing.assert_array_equal(other.grades, arm.grades[:, :, :7])
        assert other.baseline.row["pain_mean"].size == 12


def test_a_precision_target_stops_at_the_same_patient_whatever_the_workers() -> None:
    # cmm's taper-free oral arm has withdrawal days often enough to reach a loose precision
    config = TrialConfig(patients=60, days=7, arms=("cmm",), seed=1, batch_size=10,
                         precision=Precision(1.0, "withdrawal_episodes_per_100_patient_days"))
    one = run_trial(config)
    three = run_trial(config, LocalExecutor(3))  # waves of 3 batches: some run in vain
    assert one.precision is not None and one.precision.reached
    assert 10 <= one.config.patients < 60 and one.config.patients % 10 == 0
    assert three.config.patients == one.config.patients
    assert one.precision.as_json() == three.precision.as_json()  # type: ignore[union-attr]
    rate, width = one.precision.arms["cmm"]
    assert width <= 1.0 and rate.low < rate.mean < rate.high
    # the same numbers as a plain trial of that many patients
    plain = run_trial(TrialConfig(patients=one.config.patients, days=7, arms=("cmm",), seed=1,
                                  batch_size=10))
    assert ({k: e.as_json() for k, e in one.arms["cmm"].metrics.items()}
            == {k: e.as_json() for k, e in plain.arms["cmm"].metrics.items()})


def test_a_precision_not_reached_says_the_budget_is_spent() -> None:
    config = TrialConfig(patients=4, days=2, arms=("it-standard",), seed=2, batch_size=2,
                         precision=Precision(0.05))
    result = run_trial(config)
    assert result.precision is not None and not result.precision.reached
    assert result.config.patients == 4 == result.precision.patients_run
    assert "not reached" in result.precision.line()
    rate, width = result.precision.arms["it-standard"]
    assert rate.mean == 0 and rate.low == 0 and rate.high > 0 and math.isinf(width)


@pytest.mark.parametrize(("width", "outcome", "fragment"), [
    (0.0, "respiratory_events_per_100_patient_days", "above 0"),
    (math.nan, "respiratory_events_per_100_patient_days", "above 0"),
    (5.0, "respiratory_events_per_100_patient_days", "at most 4"),
    (0.5, "pain_change_percent", "not a rare outcome"),
])
def test_a_bad_precision_is_refused(width: float, outcome: str, fragment: str) -> None:
    with pytest.raises(PrecisionError, match=fragment):
        Precision(width, outcome)


def test_every_event_rate_can_be_run_to_a_precision() -> None:
    from idds.trial.metrics import EVENT_RATES
    from idds.trial.precision import RARE_OUTCOMES

    assert RARE_OUTCOMES.keys() == EVENT_RATES.keys()


def test_histories_must_keep_one_patient() -> None:
    with pytest.raises(TrialError, match="--histories must be at least 1"):
        TrialConfig(patients=3, days=1, arms=("cmm",), histories=0)


def test_a_bootstrap_interval_stays_small_in_memory_for_a_big_cohort() -> None:
    rng = np.random.default_rng(0)
    n = 200_000
    num, den = rng.gamma(2.0, 50.0, n), rng.gamma(3.0, 1.0, n)
    tracemalloc.start()
    try:
        est = ratio_ci(num, den, seed=1)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert est.low < est.mean < est.high
    assert peak < 200e6  # all 1000 resamples at once would be 1.6 GB of indices


def test_cli_runs_to_a_precision_and_keeps_few_histories(tmp_path: Path) -> None:
    done = idds("trial", "--patients", "30", "--days", "5", "--arms", "cmm", "--seed", "1",
                "--batch-size", "10", "--histories", "4", "--target-precision", "1.5",
                "--target-outcome", "withdrawal_episodes_per_100_patient_days",
                "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "Precision: days with a withdrawal score >= 3" in done.stdout
    data = json.loads((tmp_path / "metrics.json").read_text())
    assert data["histories_kept"] == 4
    precision = data["precision"]
    assert precision["outcome"] == "withdrawal_episodes_per_100_patient_days"
    assert precision["patients_budget"] == 30
    assert precision["patients_run"] == data["config"]["patients"]
    rows = (tmp_path / "patient_days.csv").read_text().splitlines()
    assert len(rows) == 1 + 4 * 5  # header, then 4 patients x 5 days
    assert "the first 4 patients" in done.stdout
    assert "Sample size: set by a stopping rule" in (tmp_path / "report.html").read_text()


def test_cli_refuses_bad_precision_and_histories_cleanly() -> None:
    small = ("trial", "--patients", "3", "--days", "1", "--arms", "cmm")
    assert_clean_refusal(idds(*small, "--target-precision", "0"), "--target-precision")
    assert_clean_refusal(idds(*small, "--target-precision", "0.5", "--target-outcome", "pain"),
                         "not a rare outcome")
    assert_clean_refusal(idds(*small, "--target-outcome", "pain"), "give both")
    assert_clean_refusal(idds(*small, "--histories", "0"), "--histories must be at least 1")
    assert_clean_refusal(idds(*small, "--histories", "2", "--patient", "2"),
                         "choose 0 to 1 or raise --histories")
    assert_clean_refusal(idds("trial", "--patients", "9", "--days", "1", "--arms", "cmm",
                              "--batch-size", "3", "--target-precision", "0.5", "--patient",
                              "4"), "may stop after its first batch of 3 patients")


def test_an_estimating_arm_keeps_its_beliefs_for_the_kept_patients_only() -> None:
    result = run_trial(TrialConfig(patients=5, days=3, arms=("it-intelligent",), seed=3,
                                   batch_size=2, histories=3))
    arm = result.arms["it-intelligent"]
    assert len(arm.calibration.believed) == 3 == arm.histories_kept
    assert arm.outcomes.alive_days.size == 5  # every patient has outcomes


def test_a_severe_side_effect_day_is_a_rare_outcome_with_an_exact_interval() -> None:
    from idds.physiology.symptoms import N_SYMPTOMS, Symptom
    from idds.trial.history import severe_side_effect

    grades = np.zeros((N_SYMPTOMS, 3), dtype=np.int8)
    grades[Symptom.CONSTIPATION, 0] = 3  # severe: counts
    grades[Symptom.NAUSEA, 1] = 2  # moderate: out of target, not severe
    grades[Symptom.FATIGUE, 2] = 4  # the cancer's own burden, not the opioid's
    assert list(severe_side_effect(grades)) == [1.0, 0.0, 0.0]
    result = run_trial(TrialConfig(patients=6, days=3, arms=("cmm",), seed=2))
    arm = result.arms["cmm"]
    days = arm.outcomes.severe_side_effect_days
    np.testing.assert_array_equal(days, np.nansum(arm.history["severe_side_effect"], axis=0))
    rate = arm.metrics["severe_side_effect_days_per_100_patient_days"]
    assert rate.low <= rate.mean <= rate.high and rate.low >= 0
    assert rate.n == round(float(arm.outcomes.alive_days.sum()))
    Precision(0.5, "severe_side_effect_days_per_100_patient_days")  # one of the rare outcomes
