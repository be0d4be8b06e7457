"""Trial metrics on hand-made tiny cohorts where the answer is known."""

from __future__ import annotations

import math

import numpy as np
import pytest

from idds.trial.metrics import (
    arm_metrics,
    mean_ci,
    patient_outcomes,
    ratio_ci,
    share_ci,
)


def test_mean_ci_by_hand() -> None:
    est = mean_ci(np.array([1.0, 2.0, 3.0, 4.0]))
    # mean 2.5, sd 1.291, sem 0.6455, t(0.975, 3) = 3.182
    assert est.mean == pytest.approx(2.5)
    assert est.low == pytest.approx(2.5 - 3.1824 * 0.645497, abs=1e-3)
    assert est.high == pytest.approx(2.5 + 3.1824 * 0.645497, abs=1e-3)
    assert est.n == 4
    assert math.isnan(mean_ci(np.array([np.nan])).mean)


def test_wilson_interval_by_hand() -> None:
    est = share_ci(np.array([True] * 8 + [False] * 2))
    assert est.mean == pytest.approx(80.0)
    assert est.low == pytest.approx(49.0, abs=0.1)  # Wilson 95% for 8/10: 0.490-0.943
    assert est.high == pytest.approx(94.3, abs=0.1)


def test_ratio_bootstrap_is_seeded() -> None:
    num, den = np.array([10.0, 20.0, 30.0]), np.array([1.0, 2.0, 3.0])
    first, second = ratio_ci(num, den, seed=1), ratio_ci(num, den, seed=1)
    assert first == second
    assert first.mean == pytest.approx(10.0)


def _history(pain: list[list[float]], tox: list[list[float]], days: int) -> dict[str, np.ndarray]:
    n = len(pain)
    zeros = np.zeros((days, n), dtype=np.float32)
    history = {name: zeros.copy() for name in (
        "controlled_fraction", "severe_fraction", "respiratory_events", "presses", "refused",
        "it_mg", "oral_mg")}
    history["pain_mean"] = np.array(pain, dtype=np.float32).T
    history["toxicity_composite"] = np.array(tox, dtype=np.float32).T
    return history


def test_outcomes_and_clinical_success() -> None:
    days = 7
    # patient 0: pain 8 -> 6 (-25%): success by pain
    # patient 1: pain 8 -> 8, toxicity 5 -> 3 (-40%): success by toxicity at the same pain
    # patient 2: pain 8 -> 7 (-12.5%), toxicity 5 -> 5: no success
    # patient 3: pain 8 -> 9 (+12.5%), toxicity 5 -> 2: pain worse, no success
    history = _history([[6.0] * days, [8.0] * days, [7.0] * days, [9.0] * days],
                       [[5.0] * days, [3.0] * days, [5.0] * days, [2.0] * days], days)
    history["controlled_fraction"][:, 0] = 0.5
    history["respiratory_events"][0, 2] = 2
    history["oral_mg"][:, 1] = 100.0
    history["it_mg"][:, 1] = 1.0
    baseline = {"pain_mean": np.full(4, 8.0), "toxicity_composite": np.full(4, 5.0)}
    out = patient_outcomes(history, baseline, np.array([1.0, 2, 3, 4]), np.zeros(4), 300.0)
    assert out.pain_change_percent == pytest.approx([-25.0, 0.0, -12.5, 12.5])
    assert out.toxicity_change_percent == pytest.approx([0.0, -40.0, 0.0, -60.0])
    assert list(out.success) == [True, True, False, False]
    assert out.time_controlled_percent[0] == pytest.approx(50.0)
    assert out.respiratory_events_per_100_patient_days[2] == pytest.approx(200 / 7)
    assert out.ome_mg_per_day[1] == pytest.approx(400.0)
    metrics = arm_metrics(out)
    assert metrics["clinical_success_percent"].mean == pytest.approx(50.0)
    assert metrics["clinic_visits"].mean == pytest.approx(2.5)


def test_end_of_trial_is_the_last_week() -> None:
    days = 14
    pain = [[8.0] * 7 + [4.0] * 7]
    history = _history(pain, [[5.0] * days], days)
    out = patient_outcomes(history, {"pain_mean": np.array([8.0]),
                                     "toxicity_composite": np.array([5.0])},
                           np.zeros(1), np.zeros(1), 300.0)
    assert out.pain_change_percent[0] == pytest.approx(-50.0)
    # Relief per unit of drug is over the same days as the drug: the whole trial.
    assert out.pain_fall_nrs[0] == pytest.approx(2.0)


def test_event_rate_uses_the_exact_poisson_interval() -> None:
    from idds.trial.metrics import event_rate_ci

    none = event_rate_ci(0, 1000.0)
    assert none.mean == 0 and none.low == 0
    assert none.high == pytest.approx(100 * 3.689 / 1000, rel=1e-3)  # 0 events: upper 3.689
    some = event_rate_ci(4, 200.0)
    assert some.mean == pytest.approx(2.0)
    assert some.low == pytest.approx(100 * 1.0899 / 200, rel=1e-3)  # Garwood 1.090-10.242
    assert some.high == pytest.approx(100 * 10.2416 / 200, rel=1e-3)


def test_drug_per_unit_of_relief_weighs_the_drug_against_the_relief_of_the_same_days() -> None:
    # A fast titration: 1 mg/day IT (300 mg OME) from day 0, pain 8 -> 4 at once; a slow one:
    # 0.5 mg/day for a week, then 1.5 mg/day, pain 8 -> 6 then 4. Same mean dose, but the slow
    # one had less relief over those days; its end pain is the same.
    days = 14
    history = _history([[4.0] * days, [6.0] * 7 + [4.0] * 7], [[5.0] * days] * 2, days)
    history["it_mg"][:, 0] = 1.0
    history["it_mg"][:7, 1] = 0.5
    history["it_mg"][7:, 1] = 1.5
    baseline = {"pain_mean": np.full(2, 8.0), "toxicity_composite": np.full(2, 5.0)}
    out = patient_outcomes(history, baseline, np.zeros(2), np.zeros(2), 300.0)
    assert out.pain_change_percent == pytest.approx([-50.0, -50.0])
    metrics = arm_metrics(out)  # both patients: (300 + 300) / 2 per (4 + 3) / 2 NRS points
    assert metrics["ome_mg_per_nrs_point_relief"].mean == pytest.approx(600.0 / 7.0)
    assert out.ome_mg_per_day / out.pain_fall_nrs == pytest.approx([75.0, 100.0])
