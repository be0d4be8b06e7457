"""Time in target (issue 20, part 1): pain controlled while awake, on days without a grade >= 2
side effect of the opioid; the primary metric of every trial."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from idds.physiology.symptoms import N_SYMPTOMS, Symptom
from idds.trial import TrialConfig, run_trial
from idds.trial.history import TARGET_SIDE_EFFECTS, time_in_target
from idds.trial.metrics import METRIC_KEYS


def test_a_grade_2_side_effect_of_the_opioid_takes_the_day_out_of_target() -> None:
    waking = np.array([0.8, 0.8, 0.8, 0.8])
    grades = np.zeros((N_SYMPTOMS, 4), dtype=np.int8)
    grades[Symptom.CONSTIPATION, 1] = 2
    grades[Symptom.SOMNOLENCE, 2] = 1          # grade 1: still in target
    grades[Symptom.FATIGUE, 3] = 3             # the cancer's fatigue does not count
    grades[Symptom.ANOREXIA, 3] = 2
    assert time_in_target(waking, grades).tolist() == [0.8, 0.0, 0.8, 0.8]


@given(arrays(np.float64, 5, elements=st.floats(0, 1)),
       arrays(np.int8, (N_SYMPTOMS, 5), elements=st.integers(0, 4)))
def test_time_in_target_is_the_waking_share_or_nothing(waking: np.ndarray,
                                                       grades: np.ndarray) -> None:
    out = time_in_target(waking, grades)
    limited = grades[list(TARGET_SIDE_EFFECTS)].max(axis=0) >= 2
    assert np.array_equal(out[limited], np.zeros(int(limited.sum())))
    assert np.array_equal(out[~limited], waking[~limited])


def test_a_trial_reports_time_in_target_first_from_its_days() -> None:
    result = run_trial(TrialConfig(patients=30, days=10, arms=("cmm", "it-standard"), seed=4))
    assert next(iter(METRIC_KEYS)) == "time_in_target_percent"
    for arm in result.arms.values():
        history = arm.history
        alive = np.isfinite(history["pain_mean"])
        tit = history["time_in_target"][alive]
        waking = history["waking_controlled_fraction"][alive]
        assert np.all((tit >= 0) & (tit <= waking)) and np.all(waking <= 1)
        days = np.where(alive, history["time_in_target"], np.nan).astype(np.float64)
        per_patient = 100 * np.nanmean(days, axis=0)
        est = arm.metrics["time_in_target_percent"]
        assert est.mean == pytest.approx(float(np.mean(per_patient[arm.outcomes.has_outcome])))
        assert est.low <= est.mean <= est.high
