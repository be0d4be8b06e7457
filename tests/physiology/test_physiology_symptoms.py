"""Symptoms: grading as the CTCAE wording in the reference, the composite as the sum of grades,
each symptom's own tolerance, and the properties a clinician expects (more drug never less
constipation; a stable dose lets nausea and the spinal effects fade, an increase brings nausea
back; constipation never fades)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from idds.physiology import sample_cohort
from idds.physiology.parameters import SYMPTOMS
from idds.physiology.symptoms import (
    N_ITEMS,
    N_SYMPTOMS,
    Care,
    IntervalExposure,
    Item,
    Symptom,
    SymptomInterval,
    SymptomState,
    advance,
    composite,
    grades,
    inventory,
    weight_after,
)

DAY = 1440.0


def _interval(intensity: np.ndarray, vomiting: np.ndarray | None = None) -> SymptomInterval:
    n = intensity.shape[1]
    return SymptomInterval(intensity, np.zeros(n) if vomiting is None else vomiting,
                           np.zeros(n), np.ones(n))


def test_grades_follow_the_stated_cut_points() -> None:
    x = np.zeros((N_SYMPTOMS, 6))
    x[Symptom.FATIGUE] = [0.0, 0.99, 1.0, 5.0, 7.0, 10.0]
    x[Symptom.CONSTIPATION] = [0.0, 1.0, 4.9, 5.0, 9.4, 9.5]
    g = grades(_interval(x), np.full(6, 16.0))
    assert list(g[Symptom.FATIGUE]) == [0, 0, 1, 2, 3, 3]  # fatigue has no grade 4
    assert list(g[Symptom.CONSTIPATION]) == [0, 1, 1, 2, 3, 4]


def test_vomiting_by_episodes_and_breathing_only_below_ten() -> None:
    x = np.zeros((N_SYMPTOMS, 5))
    vomits = np.array([0.0, 1.0, 2.9, 3.0, 6.0])
    rr = np.array([16.0, 10.0, 9.9, 5.0, 3.0])
    g = grades(_interval(x, vomits), rr)
    assert list(g[Symptom.VOMITING]) == [0, 1, 1, 2, 3]
    assert list(g[Symptom.RESPIRATORY_DEPRESSION]) == [0, 0, 1, 3, 4]
    assert list(composite(g)) == [0, 1, 2, 5, 7]


def _exposure(n: int, supra: float = 0.0, spinal: float = 0.0, plasma: float = 0.0,
              sedation: float = 0.0) -> IntervalExposure:
    return IntervalExposure(
        supraspinal=np.full(n, supra), spinal=np.full(n, spinal), plasma=np.full(n, plasma),
        gut_mg=np.zeros(n), sedation=np.full(n, sedation),
        respiratory_rate_min=np.full(n, 16.0),
        woken_night=np.zeros(n))


def _days(cohort_n: int, days: int, **exposure: float) -> np.ndarray:
    """Intensities (days, N_SYMPTOMS, n) under a constant exposure from a drug-free start."""
    cohort = sample_cohort(cohort_n, seed=3)
    state = SymptomState.adapted_to(np.zeros(cohort_n), np.zeros(cohort_n))
    out = []
    for _ in range(days):
        state, day = advance(state, _exposure(cohort_n, **exposure), cohort.sensitivity,
                             cohort.symptoms, Care.usual(cohort_n), DAY)
        out.append(day.intensity)
    return np.array(out)


def test_nausea_fades_within_a_week_and_returns_after_an_increase() -> None:
    days = _days(200, 10, supra=60.0)
    nausea = days[:, Symptom.NAUSEA]
    assert nausea[0].mean() > 0.5
    assert nausea[6].mean() < 0.1 * nausea[0].mean()
    cohort = sample_cohort(200, seed=3)
    state = SymptomState.adapted_to(np.full(200, 60.0), np.zeros(200))
    _, after = advance(state, _exposure(200, supra=120.0), cohort.sensitivity,
                       cohort.symptoms, Care.usual(200), DAY)
    assert after.intensity[Symptom.NAUSEA].mean() > 0.2  # a doubling brings it back


def test_constipation_never_fades_and_spinal_effects_do() -> None:
    days = _days(200, 28, plasma=40.0, spinal=20_000.0)
    constipation = days[:, Symptom.CONSTIPATION]
    np.testing.assert_allclose(constipation[-1], constipation[0])
    for symptom in (Symptom.PRURITUS, Symptom.URINARY_RETENTION):
        assert days[-1, symptom].mean() < 0.2 * days[0, symptom].mean()


def test_treatment_removes_its_share() -> None:
    cohort = sample_cohort(50, seed=4)
    state = SymptomState.adapted_to(np.zeros(50), np.zeros(50))
    exposure = _exposure(50, supra=60.0, plasma=40.0, sedation=0.4)
    args = (cohort.sensitivity, cohort.symptoms)
    _, usual = advance(state, exposure, *args, Care.usual(50), DAY)
    yes = np.ones(50, dtype=bool)
    no = np.zeros(50, dtype=bool)
    _, treated = advance(state, exposure, *args, Care(yes, yes, yes, no), DAY)
    lax = (1 - SYMPTOMS.laxative_intensified_relief) / (1 - SYMPTOMS.laxative_relief)
    np.testing.assert_allclose(treated.intensity[Symptom.CONSTIPATION],
                               usual.intensity[Symptom.CONSTIPATION] * lax)
    np.testing.assert_allclose(treated.intensity[Symptom.NAUSEA],
                               usual.intensity[Symptom.NAUSEA] * (1 - SYMPTOMS.antiemetic_relief))
    assert np.all(treated.intensity[Symptom.SOMNOLENCE] < usual.intensity[Symptom.SOMNOLENCE])


@settings(max_examples=30, deadline=None)
@given(plasma=st.floats(0, 200), extra=st.floats(0, 200), supra=st.floats(0, 300),
       spinal=st.floats(0, 1e5), sedation=st.floats(0, 0.99))
def test_more_exposure_never_less_symptom(plasma: float, extra: float, supra: float,
                                          spinal: float, sedation: float) -> None:
    cohort = sample_cohort(8, seed=5)
    state = SymptomState.adapted_to(np.zeros(8), np.zeros(8))
    args = (cohort.sensitivity, cohort.symptoms, Care.usual(8), DAY)
    _, low = advance(state, _exposure(8, supra, spinal, plasma, sedation), *args)
    _, high = advance(state, _exposure(8, supra + extra, spinal + 100 * extra, plasma + extra,
                                       min(sedation + extra / 400, 0.99)), *args)
    assert np.all(high.intensity >= low.intensity - 1e-9)
    assert np.all((low.intensity >= 0) & (low.intensity <= 10))
    assert np.all(grades(low, np.full(8, 16.0)) <= 4)


def test_inventory_items_and_weight() -> None:
    x = np.zeros((N_SYMPTOMS, 2))
    x[Symptom.FATIGUE] = [4.0, 0.0]
    x[Symptom.SOMNOLENCE] = [2.0, 0.0]
    items = inventory(_interval(x), np.array([6.0, 0.0]))
    assert items.shape == (N_ITEMS, 2)
    assert items[Item.PAIN, 0] == 6.0 and items[Item.DROWSINESS, 0] == 2.0
    w = SYMPTOMS.activity_weights
    assert items[Item.GENERAL_ACTIVITY, 0] == w[0] * 6.0 + w[1] * 4.0 + w[2] * 2.0
    assert np.all(items[:, 1] == 0)
    kg = weight_after(np.array([70.0, 70.0]), np.array([1.0, 0.5]), 7 * DAY)
    assert kg[1] < kg[0] < 70.0
