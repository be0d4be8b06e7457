"""Differential tests: the fast `step` (idds.physiology.kernel) equals the readable
`reference_step` (docs/design.md principle 2), and the fast pieces equal their readable forms.

Tolerance: continuous outputs relative 1e-9 (plus 1e-12 absolute: both forms round
differently, e.g. 1 - (1 - s) against s); discrete outputs (onsets, presses, rescue, diary,
POSS, respiratory events) exactly equal.
"""

from __future__ import annotations

import numpy as np
import pytest

from idds.physiology import Delivery, initial_state, kernel, sample_cohort, start_radiotherapy
from idds.physiology.model import CohortState, StepOutputs, reference_step, step
from idds.physiology.pain import onset_rate_per_min
from idds.physiology.pd import hill
from idds.physiology.pk import advance, advance_terms, propagator
from idds.physiology.streams import normal, normals, uniform, uniforms

_DISCRETE = ("breakthrough_onset", "wants_bolus", "diary_nrs", "respiratory_event")


def _assert_close(a: np.ndarray, b: np.ndarray, what: str) -> None:
    if a.dtype.kind in "biu":
        np.testing.assert_array_equal(a, b, err_msg=what)
    else:
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12, equal_nan=True, err_msg=what)


def _assert_outputs_equal(a: StepOutputs, b: StepOutputs, k: int) -> None:
    assert a.t_min == b.t_min
    for name in (
        "plasma_ng_per_ml",
        "csf_ng_per_ml",
        "background_nrs_drive",
        "breakthrough_nrs_drive",
        "pain_nrs",
        "oral_rescue_mg",
        *_DISCRETE,
    ):
        x, y = getattr(a, name), getattr(b, name)
        if name in _DISCRETE:
            np.testing.assert_array_equal(x, y, err_msg=f"step {k}: {name}")
        else:
            _assert_close(x, y, f"step {k}: {name}")
    for group in ("exposure", "effects"):
        for name, x in vars(getattr(a, group)).items():
            _assert_close(x, getattr(getattr(b, group), name), f"step {k}: {group}.{name}")


def _assert_states_equal(a: CohortState, b: CohortState) -> None:
    assert (a.t_min, a.step_index) == (b.t_min, b.step_index)
    for name in ("pk", "tol_supra", "tol_spinal", "last_press_min", "last_rescue_min"):
        _assert_close(getattr(a, name), getattr(b, name), name)
    for name in ("pending_rescue_mg", "relief_start_min"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    for name, x in vars(a.episodes).items():
        np.testing.assert_array_equal(x, getattr(b.episodes, name), err_msg=name)


@pytest.mark.parametrize(
    ("archetype", "drugs", "dt", "t0", "prior"),
    [
        ("typical-tolerant", ("morphine", "hydromorphone", "ziconotide"), 5.0, 0.0, True),
        ("opioid-naive", ("morphine",), 15.0, 1400.0, False),  # crosses midnight
        ("frail-elderly", ("morphine", "hydromorphone"), 1.0, 450.0, True),
        ("fast-progression", ("morphine", "ziconotide"), 10.0, 60.0, True),
    ],
)
def test_fast_step_equals_reference_step(
    archetype: str, drugs: tuple[str, ...], dt: float, t0: float, prior: bool
) -> None:
    n = 300
    cohort = sample_cohort(n, seed=5, archetype_name=archetype, drugs=drugs)
    if archetype == "fast-progression":
        cohort = cohort.with_oral_rescue(np.linspace(0.0, 30.0, n))
    rng = np.random.default_rng(1)
    fast = initial_state(cohort, t0_min=t0, on_prior_regimen=prior)
    fast = start_radiotherapy(fast, cohort, np.arange(n) % 3 == 0)
    fast = CohortState(**{**vars(fast), "relief_start_min": fast.relief_start_min - 30 * 1440})
    ref = fast
    for k in range(round(1.5 * 1440 / dt)):
        deliveries = [Delivery("morphine", csf_mg=0.1 if k % 11 == 0 else 0.0)]
        for d in drugs:
            on = rng.random(n) < 0.5
            deliveries.append(
                Delivery(
                    d,
                    gut_mg=(30.0 if k % 40 == 0 and d != "ziconotide" else 0.0),
                    plasma_mg=rng.uniform(0, 0.5, n) * (rng.random(n) < 0.01),
                    csf_mg=np.where(on, rng.uniform(0, 0.01, n), 0.0),
                )
            )
        ref, out_ref = reference_step(ref, cohort, deliveries, dt)
        fast, out_fast = step(fast, cohort, deliveries, dt)
        _assert_outputs_equal(out_fast, out_ref, k)
        _assert_states_equal(fast, ref)


def test_fast_step_refuses_what_the_reference_refuses() -> None:
    cohort = sample_cohort(3, seed=1)
    state = initial_state(cohort)
    for bad in (-1.0, np.inf, np.nan, np.array([0.1, -0.1, 0.0]), np.array([0.0, np.nan, 0.0])):
        for fn in (step, reference_step):
            with pytest.raises(Exception, match="finite and >= 0"):
                fn(state, cohort, [Delivery("morphine", csf_mg=bad)], 5.0)
    for fn in (step, reference_step):
        with pytest.raises(Exception, match="scalar or shape"):
            fn(state, cohort, [Delivery("morphine", csf_mg=np.zeros(4))], 5.0)
        with pytest.raises(Exception, match="positive"):
            fn(state, cohort, [], 0.0)


def test_empty_cohort_steps() -> None:
    cohort = sample_cohort(0, seed=1)
    state, out = step(initial_state(cohort), cohort, [Delivery("morphine", csf_mg=0.1)], 5.0)
    assert out.pain_nrs.shape == (0,) and state.step_index == 1


def test_power_equals_exp_log() -> None:
    r = np.concatenate([[0.0, 1e-30, 1.0], np.exp(np.linspace(np.log(1e-12), np.log(1e8), 5001))])
    for gamma in (1.0, 1.5, 2.0, 2.4, 1.7):
        expected = np.exp(gamma * np.log(np.maximum(r, 1e-300)))
        np.testing.assert_allclose(kernel.power(r, gamma), expected, rtol=1e-11, atol=1e-300)
        e = hill(r, 1.0, gamma)
        np.testing.assert_allclose(kernel.power(r, gamma) / (1 + kernel.power(r, gamma)), e)


def test_advance_terms_equals_einsum() -> None:
    cohort = sample_cohort(50, seed=2, drugs=("morphine", "hydromorphone", "ziconotide"))
    rng = np.random.default_rng(0)
    for pk in cohort.pk:
        prop = propagator(pk, 5.0)
        x = rng.uniform(0, 1, (7, 50))
        delivered = rng.uniform(0, 1, (3, 50)) * np.array([[1.0], [0.0], [1.0]])
        rates = [delivered[0] / 5.0, None, delivered[2] / 5.0]
        fast = advance_terms(x, prop, rates, np.empty((7, 50)))
        np.testing.assert_allclose(fast, advance(x, prop, delivered), rtol=1e-13, atol=1e-300)


def test_onset_rate_equals_reference_at_every_time_of_day() -> None:
    cohort = sample_cohort(200, seed=3)
    cohort.pain.activity_times_min[0, :5] = [0.0, 10.0, 1430.0, 1439.9, 720.0]  # near midnight
    k = kernel.StepConstants.build(cohort, 5.0)
    for tod in np.arange(0.0, 1440.0, 2.5):
        expected = onset_rate_per_min(cohort.pain, float(tod)) * 5.0
        np.testing.assert_allclose(
            kernel.onsets_per_step(k, float(tod)), expected, rtol=1e-9, atol=1e-15
        )


def test_stacked_random_streams_equal_single_streams() -> None:
    keys = sample_cohort(20, seed=4).keys
    np.testing.assert_array_equal(uniforms(keys, (2, 3), 9)[1], uniform(keys, 3, 9))
    np.testing.assert_array_equal(normals(keys, (2, 3), 9)[0], normal(keys, 2, 9))


def test_cached_constants_follow_dataclass_replace() -> None:
    """`dataclasses.replace` shares the cohort's cache: results still follow the new fields."""
    from dataclasses import replace

    base = sample_cohort(200, seed=6).with_oral_rescue(0.0)
    deliveries = [Delivery("morphine", csf_mg=0.004)]
    step(initial_state(base), base, deliveries, 5.0)  # fills the shared cache
    for cohort in (
        replace(base, oral_rescue_mg=np.full(200, 20.0)),
        replace(base, sensitivity=sample_cohort(200, seed=7).sensitivity),
    ):
        fast = ref = initial_state(cohort)
        for k in range(150):
            fast, out_fast = step(fast, cohort, deliveries, 5.0)
            ref, out_ref = reference_step(ref, cohort, deliveries, 5.0)
            _assert_outputs_equal(out_fast, out_ref, k)
