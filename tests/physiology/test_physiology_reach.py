"""Heterogeneous response: the share of each patient's pain that intrathecal opioid can reach
(issue 15, part 2). Drug infused slowly stays within a few cm of the catheter tip (Bernards
2006, pig); a neuropathic or widespread pain is reached less; systemic opioid is unchanged."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from idds.physiology import ARCHETYPES, sample_cohort, typical_cohort
from idds.physiology.cohort import steady_relief
from idds.physiology.parameters import REACH
from idds.physiology.pd import SiteExposure, effects
from idds.physiology.reach import (
    PainExtent,
    PainMechanism,
    reachable_share,
    tip_coverage,
)

codes = st.tuples(st.sampled_from(list(PainMechanism)), st.sampled_from(list(PainExtent)),
                  st.floats(0.0, 60.0))


@given(st.lists(codes, min_size=1, max_size=20))
def test_the_reachable_share_is_a_share(patients: list[tuple[int, int, float]]) -> None:
    t, w, d = (np.array(x) for x in zip(*patients, strict=True))
    share = reachable_share(t, w, d)
    assert np.all((share >= 0.0) & (share <= 1.0))


@given(st.floats(0.0, 60.0), st.floats(0.0, 60.0))
def test_a_tip_farther_from_the_pain_never_reaches_more(a: float, b: float) -> None:
    near, far = sorted((a, b))
    assert tip_coverage(far) <= tip_coverage(near)


def test_drug_near_the_tip_reaches_the_segments_within_a_few_cm_fully() -> None:
    """Bernards 2006: slowly infused drug stays within a few cm of the tip."""
    assert tip_coverage(np.array([0.0, 2.0, REACH.full_reach_cm]))[-1] == 1.0
    assert tip_coverage(10.0) < 0.25  # far segments see little drug
    noci = reachable_share([PainMechanism.NOCICEPTIVE], [PainExtent.LOCALIZED], [1.0])[0]
    neuro = reachable_share([PainMechanism.NEUROPATHIC], [PainExtent.WIDESPREAD], [1.0])[0]
    assert noci == 1.0 and neuro < 0.2


def test_typical_patients_keep_the_calibrated_full_response() -> None:
    """The calibration targets (single IT doses, titration) are nociceptive, localized pain
    with the tip at the painful segments: every typical patient is fully reachable."""
    for name in ARCHETYPES:
        assert typical_cohort(name).sensitivity.reachable_share[0] == 1.0, name
    for name in ("opioid-naive", "seed-case"):  # forced, even when sampled
        c = sample_cohort(200, 3, name)
        assert np.all(c.pain.pain_type == PainMechanism.NOCICEPTIVE)
        assert np.all(c.pain.pain_distribution == PainExtent.LOCALIZED)


def test_a_sampled_cohort_is_heterogeneous_in_the_stated_shares() -> None:
    c = sample_cohort(4000, 1)
    types = np.bincount(c.pain.pain_type, minlength=3) / c.n
    assert np.allclose(types, REACH.p_pain_type, atol=0.03)
    assert abs(c.pain.pain_distribution.mean() - REACH.p_widespread) < 0.03
    share = c.sensitivity.reachable_share
    assert 0.3 < share.mean() < 0.9
    assert (share == 1.0).mean() > 0.2 and (share < 0.5).mean() > 0.1
    # a patient's reach depends only on (seed, archetype, index)
    part = sample_cohort(None, 1, indices=[7, 3000])
    assert np.array_equal(part.sensitivity.reachable_share, share[[7, 3000]])


@settings(max_examples=50)
@given(st.floats(0.0, 1.0), st.floats(0.0, 1.0), st.floats(0.0, 20000.0), st.floats(0.0, 50.0))
def test_a_higher_share_never_gives_less_relief(a: float, b: float, spinal: float,
                                                supra: float) -> None:
    low, high = sorted((a, b))
    c = typical_cohort(n=2)
    sens = replace(c.sensitivity, reachable_share=np.array([low, high]))
    x = np.full(2, 1.0)
    exp = SiteExposure(supraspinal=supra * x, spinal=spinal * x, plasma=0 * x, gut_mg=0 * x,
                       ziconotide_spinal=0 * x, ziconotide_brainstem=0 * x)
    zero = np.zeros(2)
    relief = effects(exp, sens, zero, zero, zero).relief
    assert relief[0] <= relief[1] + 1e-12


def test_systemic_opioid_relief_does_not_depend_on_the_share() -> None:
    """The unreachable part is relieved by systemic opioid as before: the prior oral regimen
    (and so the CMM arm and the baseline calibration) is unchanged."""
    c = typical_cohort(n=2)
    oral = np.array([300.0, 300.0])
    full = steady_relief(c.drugs, c.pk, c.sensitivity, oral)
    sens = replace(c.sensitivity, reachable_share=np.array([0.0, 0.4]))
    assert np.allclose(steady_relief(c.drugs, c.pk, sens, oral), full, rtol=0, atol=1e-12)


def test_no_reach_leaves_only_the_systemic_effect() -> None:
    c = typical_cohort(n=1)
    one = np.ones(1)
    exp = SiteExposure(supraspinal=5 * one, spinal=50000 * one, plasma=0 * one, gut_mg=0 * one,
                       ziconotide_spinal=0 * one, ziconotide_brainstem=0 * one)
    systemic = replace(exp, spinal=0 * one)
    z = np.zeros(1)
    none = replace(c.sensitivity, reachable_share=z)
    assert effects(exp, none, z, z, z).relief[0] == effects(systemic, c.sensitivity, z, z,
                                                            z).relief[0]
    assert effects(exp, c.sensitivity, z, z, z).relief[0] > effects(exp, none, z, z,
                                                                   z).relief[0] + 0.2


def test_the_fast_step_weights_the_spinal_effect_as_the_reference_does() -> None:
    from idds.physiology import Delivery, initial_state, step
    from idds.physiology.model import reference_step

    c = sample_cohort(1, 9).take([0] * 40)  # one patient, 40 shares
    shares = np.linspace(0.0, 1.0, c.n)
    c = replace(c, sensitivity=replace(c.sensitivity, reachable_share=shares), _cache={})
    fast = ref = initial_state(c)
    for k in range(60):
        dose = [Delivery("morphine", csf_mg=0.5 if k == 0 else 0.0)]
        fast, out_fast = step(fast, c, dose, 5.0)
        ref, out_ref = reference_step(ref, c, dose, 5.0)
        np.testing.assert_allclose(out_fast.effects.relief, out_ref.effects.relief,
                                   rtol=1e-9, atol=1e-12)
    relief = out_fast.effects.relief
    assert np.all(np.diff(relief) >= 0) and relief[-1] > relief[0] + 0.1
