"""Kaplan-Meier by hand, death as censoring in every metric, and the weekly series."""

from __future__ import annotations

import math

import numpy as np
import pytest

from idds.physiology.symptoms import N_ITEMS, N_SYMPTOMS, Symptom
from idds.trial.engine import Baseline
from idds.trial.metrics import arm_metrics, patient_outcomes
from idds.trial.survival import kaplan_meier, trial_survival
from idds.trial.weekly import WEEKLY_KEYS, weekly_series


def test_kaplan_meier_by_hand() -> None:
    # times 1, 2+, 3, 3, 5+ (+ censored): S(1) = 4/5, S(3) = 4/5 * (1 - 2/3) = 4/15
    km = kaplan_meier(np.array([1.0, 2.0, 3.0, 3.0, 5.0]),
                      np.array([True, False, True, True, False]))
    assert list(km.times) == [0.0, 1.0, 3.0]
    assert km.survival == pytest.approx([1.0, 0.8, 4 / 15])
    assert list(km.at_risk) == [5, 5, 3] and list(km.deaths) == [0, 1, 2]
    assert km.at(2.5) == pytest.approx(0.8) and km.median_days() == 3.0
    # Greenwood variance at t=3: 1/(5*4) + 2/(3*1); the log-log interval contains S
    assert km.low[2] < 4 / 15 < km.high[2]
    assert 0 < km.low[1] < 0.8 < km.high[1] < 1


def test_trial_survival_counts_deaths_inside_the_trial_only() -> None:
    km = trial_survival(np.array([0.5, 2.2, np.inf, 40.0]), days=10)
    assert km.deaths.sum() == 2  # the death on day 40 is after the trial: censored
    assert km.at(10) == pytest.approx(0.5)
    assert math.isnan(trial_survival(np.array([np.inf] * 3), 5).median_days())


def _history(pain: np.ndarray) -> dict[str, np.ndarray]:
    days, n = pain.shape
    zeros = np.zeros((days, n), dtype=np.float32)
    fields = ("controlled_fraction", "severe_fraction", "respiratory_events", "presses",
              "refused", "it_mg", "oral_mg", "woken_night", "withdrawal_max", "plasma_mean",
              "intake", "weight_kg", "toxicity_composite")
    history = {name: np.where(np.isnan(pain), np.nan, zeros).astype(np.float32)
               for name in fields}
    history["pain_mean"] = pain.astype(np.float32)
    return history


def test_death_is_censoring_in_the_metrics() -> None:
    # patient 0 lives 14 days at pain 4 from baseline 8; patient 1 dies after 3 days at
    # pain 2; patient 2 dies before day 1. Nobody averages over days after death.
    pain = np.full((14, 3), np.nan)
    pain[:, 0] = 4.0
    pain[:3, 1] = 2.0
    history = _history(pain)
    history["respiratory_events"][0, 1] = 1.0
    baseline = {"pain_mean": np.full(3, 8.0), "toxicity_composite": np.full(3, 5.0)}
    out = patient_outcomes(history, baseline, np.zeros(3), np.zeros(3), 300.0,
                           np.full(3, 300.0))
    assert out.pain_change_percent[:2] == pytest.approx([-50.0, -75.0])
    assert math.isnan(out.pain_change_percent[2])
    assert list(out.alive_days) == [14.0, 3.0, 0.0]
    assert list(out.has_outcome) == [True, True, False]
    metrics = arm_metrics(out)
    assert metrics["clinical_success_percent"].n == 2
    assert metrics["pain_change_percent"].mean == pytest.approx(-62.5)
    # one event in 17 patient-days alive
    assert metrics["respiratory_events_per_100_patient_days"].mean == pytest.approx(100 / 17)


def test_weekly_series_are_means_over_the_patients_alive() -> None:
    days, n = 14, 2
    pain = np.full((days, n), 4.0)
    pain[7:, 1] = np.nan  # patient 1 dies at the end of week 1
    history = _history(pain)
    history["oral_mg"][:, 0] = 0.0
    history["oral_mg"][:7, 1] = 100.0
    history["it_mg"][:, 0] = 2.0
    grades = np.zeros((days, N_SYMPTOMS, n), dtype=np.int8)
    grades[:, Symptom.PRURITUS, 0] = 2
    grades[7:, :, 1] = -1
    inventory = np.zeros((days, N_ITEMS, n), dtype=np.float32)
    baseline_row = {k: np.zeros(n) for k in history}
    baseline_row["pain_mean"] = np.full(n, 8.0)
    baseline_row["oral_mg"] = np.full(n, 300.0)
    baseline = Baseline(baseline_row, np.zeros((N_SYMPTOMS, n), dtype=np.int8),
                        np.zeros((N_ITEMS, n)))
    w = weekly_series(history, grades, inventory, baseline, 300.0)
    assert set(w) == set(WEEKLY_KEYS)
    assert w["weeks"] == [0, 1, 2]
    assert w["alive_fraction"] == [1.0, 1.0, 0.5]
    assert w["pain_mean"] == [8.0, 4.0, 4.0]
    assert w["oral_mg_per_day"] == [300.0, 50.0, 0.0]
    assert w["ome_mg_per_day"] == [300.0, 50.0 + 300.0, 600.0]
    assert w["off_systemic_fraction"] == [0.0, 0.5, 1.0]
    assert w["prevalence_grade2"]["pruritus"] == [0.0, 0.5, 1.0]
    lengths = {len(v) for v in w.values() if isinstance(v, list)}
    lengths |= {len(s) for k in ("prevalence_grade1", "prevalence_grade2", "inventory")
                for s in w[k].values()}
    assert lengths == {3}
