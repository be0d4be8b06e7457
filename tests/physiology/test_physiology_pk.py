"""PK: exact stepping against solve_ivp, mass balance, steady state. The calibration targets
(Nordberg 1984, Stanski 1978, Hoskin 1989) are in `idds.validation.targets`."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from idds.physiology import Delivery, initial_state, sample_cohort, step, typical_cohort
from idds.physiology.pk import (
    Compartment,
    advance,
    input_matrix,
    propagator,
    rate_matrix,
    steady_state,
)


def _bolus_series(drug: str, route: str, dose_mg: float, minutes: int, dt: float = 1.0):
    cohort = typical_cohort("opioid-naive", drugs=(drug,)).with_oral_rescue(0.0)
    d = cohort.drug_index(drug)
    state = initial_state(cohort, on_prior_regimen=False)
    csf, plasma = [], []
    for i in range(int(minutes / dt)):
        amount = dose_mg if i == 0 else 0.0
        state, out = step(state, cohort, [Delivery(drug, **{f"{route}_mg": amount})], dt)
        csf.append(out.csf_ng_per_ml[d, 0])
        plasma.append(out.plasma_ng_per_ml[d, 0])
    t = np.arange(1, len(csf) + 1) * dt
    return t, np.array(csf), np.array(plasma)


def test_exact_stepping_matches_solve_ivp() -> None:
    """Tolerance: relative 1e-6 of each compartment's peak (rtol 1e-10 solver)."""
    cohort = sample_cohort(5, seed=3, drugs=("morphine", "hydromorphone"))
    pk = cohort.pk[1]
    dt = 5.0
    prop = propagator(pk, dt)
    a, b = rate_matrix(pk), input_matrix(pk.n)
    rng = np.random.default_rng(0)
    x = np.zeros((7, pk.n))
    delivered = rng.uniform(0, 1.0, size=(40, 3, pk.n)) * (rng.random((40, 1, 1)) < 0.3)
    xs = []
    for k in range(40):
        x = advance(x, prop, delivered[k])
        xs.append(x)
    for p in range(pk.n):
        y = np.zeros(7)
        for k in range(40):
            u = delivered[k, :, p] / dt
            sol = solve_ivp(
                lambda _t, z, u=u, ap=a[p], bp=b[p]: ap @ z + bp @ u,
                (0, dt),
                y,
                method="LSODA",
                rtol=1e-10,
                atol=1e-12,
            )
            y = sol.y[:, -1]
            scale = np.maximum(np.abs(np.array(xs)[:, :, p]).max(axis=0), 1e-12)
            assert np.all(np.abs(xs[k][:, p] - y) <= 1e-6 * scale + 1e-10)


def test_it_morphine_all_reaches_plasma() -> None:
    """Fraction of IT morphine reaching plasma about 1.0 (ref): AUC ratio IT/IV within 2%."""
    _, _, p_it = _bolus_series("morphine", "csf", 1.0, 72 * 60, dt=5.0)
    _, _, p_iv = _bolus_series("morphine", "plasma", 1.0, 72 * 60, dt=5.0)
    assert p_it.sum() / p_iv.sum() == pytest.approx(1.0, rel=0.02)


def test_steady_state_is_fixed_point() -> None:
    cohort = sample_cohort(20, seed=1)
    pk = cohort.pk[0]
    rate = np.tile(np.array([[0.2], [0.0], [0.001]]), (1, pk.n))
    x = steady_state(pk, rate)
    prop = propagator(pk, 5.0)
    np.testing.assert_allclose(advance(x, prop, rate * 5.0), x, rtol=1e-8)
    assert np.all(x[Compartment.LUMBAR] > 0)
