"""The array-backend seam (`idds.physiology.backend`): the readable virtual-patient step on
another array library equals the same step on numpy, step by step, for a day and a half with
intrathecal, oral and intravenous deliveries, boluses, oral rescue, radiotherapy relief and
breakthrough episodes. `array-api-strict` (installed with the tests) refuses anything outside
the array API standard, so it proves the step portable on any machine; CuPy and JAX run
wherever they are installed (a GPU for CuPy) and are skipped elsewhere.

Tolerance: continuous outputs relative 1e-9 (plus 1e-12 absolute; a GPU's exp and log may
differ from numpy's by an ulp), discrete outputs (onsets, presses, diary, respiratory
events) exactly equal.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from idds.physiology import Delivery, initial_state, sample_cohort, start_radiotherapy
from idds.physiology.backend import BackendError, namespace, to_numpy
from idds.physiology.model import CohortState, on_backend, reference_step

DISCRETE = ("breakthrough_onset", "wants_bolus", "diary_nrs", "respiratory_event")


def backend_or_skip(name: str) -> Any:
    try:
        return namespace(name)
    except BackendError as exc:
        pytest.skip(str(exc))


def leaves(value: Any, prefix: str = "") -> dict[str, np.ndarray]:
    """Every array in a state or outputs (numpy), by dotted name."""
    out: dict[str, np.ndarray] = {}
    for name, v in vars(value).items():
        if isinstance(v, np.ndarray):
            out[prefix + name] = v
        elif hasattr(v, "__dataclass_fields__"):
            out.update(leaves(v, f"{prefix}{name}."))
    return out


def assert_same(on_numpy: Any, on_backend_: Any, step: int) -> None:
    a, b = leaves(on_numpy), leaves(to_numpy(on_backend_))
    assert a.keys() == b.keys()
    for name, x in a.items():
        y = b[name]
        assert isinstance(y, np.ndarray) and y.shape == x.shape, f"step {step}: {name}"
        if x.dtype.kind in "biu" or name in DISCRETE:
            np.testing.assert_array_equal(y, x, err_msg=f"step {step}: {name}")
        else:
            np.testing.assert_allclose(y, x, rtol=1e-9, atol=1e-12, equal_nan=True,
                                       err_msg=f"step {step}: {name}")


@pytest.mark.parametrize("name", ["array-api-strict", "cupy", "jax"])
def test_the_step_on_another_backend_equals_the_step_on_numpy(name: str) -> None:
    xp = backend_or_skip(name)
    n, dt = 120, 5.0
    drugs = ("morphine", "hydromorphone", "ziconotide")
    cohort = sample_cohort(n, seed=3, drugs=drugs).with_oral_rescue(np.linspace(0.0, 20.0, n))
    state = start_radiotherapy(initial_state(cohort), cohort, np.arange(n) % 3 == 0)
    state = CohortState(**{**vars(state), "relief_start_min": state.relief_start_min - 30 * 1440})
    moved_cohort, moved = on_backend(cohort, state, dt, xp)
    rng = np.random.default_rng(2)
    events = {"onsets": 0, "presses": 0, "diaries": 0}
    for k in range(round(1.5 * 1440 / dt)):
        basal = np.full(n, 0.4 / 288)
        bolus = np.where(rng.random(n) < 0.02, 0.1, 0.0)
        oral = 30.0 if k % 72 == 0 else 0.0
        iv = rng.uniform(0, 0.5, n) * (rng.random(n) < 0.01)
        plan = [Delivery("morphine", gut_mg=oral, csf_mg=basal + bolus),
                Delivery("hydromorphone", plasma_mg=iv), Delivery("ziconotide", csf_mg=1e-4)]
        on_xp = [Delivery(d.drug, *(xp.asarray(np.asarray(v, dtype=np.float64))
                                    for v in (d.gut_mg, d.plasma_mg, d.csf_mg)))
                 for d in plan]
        state, out = reference_step(state, cohort, plan, dt)
        moved, moved_out = reference_step(moved, moved_cohort, on_xp, dt)
        assert_same(out, moved_out, k)
        assert_same(state, moved, k)
        events["onsets"] += int(out.breakthrough_onset.sum())
        events["presses"] += int(out.wants_bolus.sum())
        events["diaries"] += int(np.isfinite(out.diary_nrs).sum())
    # the run reached what the comparison is for
    assert min(events.values()) > 0, events


def test_an_unknown_or_missing_backend_is_named() -> None:
    with pytest.raises(BackendError, match=r"unknown array backend 'tpu'.*numpy, cupy, jax"):
        namespace("tpu")
    assert namespace("numpy") is np


def test_a_step_on_a_moved_state_outputs_arrays_of_that_backend() -> None:
    xp = backend_or_skip("array-api-strict")
    cohort = sample_cohort(4, seed=1)
    moved_cohort, moved = on_backend(cohort, initial_state(cohort), 5.0, xp)
    state, out = reference_step(moved, moved_cohort, [Delivery("morphine", csf_mg=0.01)], 5.0)
    assert out.pain_nrs.__array_namespace__() is xp
    assert state.pk.__array_namespace__() is xp
    assert isinstance(to_numpy(out).pain_nrs, np.ndarray)
