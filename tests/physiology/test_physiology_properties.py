"""Invariants: non-negative concentrations, pain in 0-10, determinism, batch-split independence."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from idds.physiology import Delivery, initial_state, sample_cohort, step


def _run(cohort, doses: np.ndarray, dt: float = 15.0):
    state = initial_state(cohort)
    outs = []
    for k in range(doses.shape[0]):
        deliveries = [
            Delivery("morphine", gut_mg=doses[k, 0], csf_mg=doses[k, 1]),
            Delivery("hydromorphone", plasma_mg=doses[k, 2]),
        ]
        state, out = step(state, cohort, deliveries, dt)
        outs.append(out)
    return state, outs


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    doses=st.lists(
        st.tuples(st.floats(0, 100), st.floats(0, 2), st.floats(0, 5)), min_size=1, max_size=30
    ),
)
def test_concentrations_non_negative_and_pain_bounded(seed: int, doses: list) -> None:
    cohort = sample_cohort(6, seed=seed, drugs=("hydromorphone",))
    state, outs = _run(cohort, np.array(doses))
    assert np.all(state.pk >= 0)
    for out in outs:
        assert np.all(out.plasma_ng_per_ml >= 0) and np.all(out.csf_ng_per_ml >= 0)
        assert np.all((out.pain_nrs >= 0) & (out.pain_nrs <= 10))
        assert np.all((out.effects.sedation_poss >= 1) & (out.effects.sedation_poss <= 4))
        assert np.all(out.effects.respiratory_rate_per_min > 0)
        assert np.all((out.effects.sedation >= 0) & (out.effects.sedation <= 1))
        assert np.all((out.effects.withdrawal >= 0) & (out.effects.withdrawal <= 10))


@settings(max_examples=5, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), split=st.integers(1, 9))
def test_same_seed_same_result_and_batch_split_independence(seed: int, split: int) -> None:
    rng = np.random.default_rng(seed)
    doses = rng.uniform(0, 1, size=(48, 3)) * (rng.random((48, 1)) < 0.2)
    whole = sample_cohort(10, seed=seed, drugs=("hydromorphone",))
    again = sample_cohort(10, seed=seed, drugs=("hydromorphone",))
    a = sample_cohort(indices=range(split), seed=seed, drugs=("hydromorphone",))
    b = sample_cohort(indices=range(split, 10), seed=seed, drugs=("hydromorphone",))
    _, o_whole = _run(whole, doses)
    _, o_again = _run(again, doses)
    _, o_a = _run(a, doses)
    _, o_b = _run(b, doses)
    for w, g, x, y in zip(o_whole, o_again, o_a, o_b, strict=True):
        for field in ("pain_nrs", "diary_nrs", "wants_bolus", "oral_rescue_mg"):
            np.testing.assert_array_equal(getattr(w, field), getattr(g, field))
            joined = np.concatenate([getattr(x, field), getattr(y, field)])
            np.testing.assert_allclose(getattr(w, field), joined, rtol=1e-12, equal_nan=True)
        np.testing.assert_allclose(
            w.plasma_ng_per_ml, np.concatenate([x.plasma_ng_per_ml, y.plasma_ng_per_ml], axis=1)
        )


def test_take_matches_sampling_subset() -> None:
    whole = sample_cohort(10, seed=9)
    part = sample_cohort(indices=[2, 5, 7], seed=9)
    np.testing.assert_array_equal(whole.take([2, 5, 7]).pain.drive0_nrs, part.pain.drive0_nrs)
    np.testing.assert_array_equal(whole.take([2, 5, 7]).pk[0].ka_per_min, part.pk[0].ka_per_min)
