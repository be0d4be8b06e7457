"""PD: monotonicity, tolerance, withdrawal, potency. The calibration targets (equianalgesia,
Gehling 2009, delayed depression, overdose) are in `idds.validation.targets`."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from idds.physiology import Delivery, initial_state, sample_cohort, step, typical_cohort
from idds.physiology.cohort import Cohort, steady_state_states
from idds.physiology.exposure import site_exposure
from idds.physiology.pd import Effects, effects, occupancy


def _steady_effects(cohort: Cohort, routes: tuple[float, float, float]) -> Effects:
    x = steady_state_states(cohort.drugs, cohort.pk, cohort.sensitivity, {"morphine": routes})
    exp = site_exposure(x, cohort.drug_params, cohort.pk)
    tol_supra, tol_spinal = occupancy(exp, cohort.sensitivity)
    return effects(exp, cohort.sensitivity, tol_supra, tol_spinal, tol_supra)


@settings(max_examples=40, deadline=None)
@given(
    oral=st.floats(0, 600),
    it=st.floats(0, 20),
    extra=st.floats(0.0, 5.0),
    tol=st.floats(0, 1),
)
def test_more_drug_never_less_analgesia(oral: float, it: float, extra: float, tol: float) -> None:
    cohort = sample_cohort(8, seed=5, drugs=("morphine", "hydromorphone"))
    tols = np.full(cohort.n, tol)
    for bump in ((extra * 50, 0.0, 0.0), (0.0, 0.0, extra)):
        x0 = steady_state_states(
            cohort.drugs, cohort.pk, cohort.sensitivity, {"morphine": (oral, 0.0, it)}
        )
        x1 = steady_state_states(
            cohort.drugs,
            cohort.pk,
            cohort.sensitivity,
            {"morphine": (oral + bump[0], 0.0, it + bump[2])},
        )
        e0 = effects(
            site_exposure(x0, cohort.drug_params, cohort.pk), cohort.sensitivity, tols, tols, tols
        )
        e1 = effects(
            site_exposure(x1, cohort.drug_params, cohort.pk), cohort.sensitivity, tols, tols, tols
        )
        assert np.all(e1.analgesia >= e0.analgesia - 1e-12)
        assert np.all(e1.respiratory_rate_per_min <= e0.respiratory_rate_per_min + 1e-9)


def test_tolerance_builds_with_sustained_exposure() -> None:
    """Constant IT infusion: analgesia falls over days as the 26 h tolerance state rises."""
    cohort = typical_cohort("opioid-naive")
    state = initial_state(cohort, on_prior_regimen=False)
    analgesia = []
    for _ in range(5 * 288):
        state, out = step(state, cohort, [Delivery("morphine", csf_mg=0.5 / 288)], 5.0)
        analgesia.append(out.effects.analgesia[0])
    assert analgesia[-1] < max(analgesia[:288])
    assert 0.3 < state.tol_spinal[0] <= 1.0


def test_hydromorphone_more_potent_than_morphine_it() -> None:
    cohort = typical_cohort("opioid-naive", drugs=("hydromorphone",))
    s_m, s_h = (initial_state(cohort, on_prior_regimen=False) for _ in range(2))
    for i in range(120):
        s_m, o_m = step(s_m, cohort, [Delivery("morphine", csf_mg=0.05 * (i == 0))], 1.0)
        s_h, o_h = step(s_h, cohort, [Delivery("hydromorphone", csf_mg=0.05 * (i == 0))], 1.0)
    assert o_h.effects.analgesia[0] > o_m.effects.analgesia[0]


def test_withdrawal_after_abrupt_stop_of_oral_opioids() -> None:
    """Tolerant patients on their prior oral regimen: stopping it abruptly gives withdrawal."""
    cohort = sample_cohort(50, seed=11).with_oral_rescue(0.0)
    state = initial_state(cohort)
    stopped, kept = state, state
    for _ in range(24 * 12):
        stopped, out_stop = step(stopped, cohort, [], 5.0)
        dose = cohort.prior_oral_morphine_mg_per_day / 288
        kept, out_keep = step(kept, cohort, [Delivery("morphine", gut_mg=dose)], 5.0)
    assert np.median(out_stop.effects.withdrawal) > 2.0
    assert np.all(out_keep.effects.withdrawal < 0.5)
