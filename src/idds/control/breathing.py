"""Bayesian estimate of how this patient's breathing slows with the intrathecal dose.

Dahan 2004 (ref, pharmacology): respiratory rate = RR0 x C50 / (C50 + C), Hill 1, so the
inverse rate is linear in the exposure, 1/RR = 1/RR0 + C / (RR0 C50), and the brainstem
exposure from intrathecal morphine is proportional to the dose at steady state (linear PK).
The controller therefore fits 1/RR_min = a + b x (x: IT dose, mg/day) by conjugate Bayesian
linear regression on the daily lowest rate, and caps the dose where the upper quantile of the
predicted inverse rate reaches the interlock's warning limit. Days on systemic opioid are
skipped (their exposure is not proportional to the IT dose). Pure, vectorised.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from idds.control.kalman import independent_prior, linear_update

Array = NDArray[np.float64]


@dataclass(frozen=True)
class BreathingModel:
    """Priors (assumptions, set around the virtual population: RR0 16/min, SD 2; 1/RR slope
    a few 1e-3 min per mg/day) and the noise of one day's inverse lowest rate."""

    a_mean: float = 1.0 / 16.0
    a_sd: float = 0.01
    b_mean: float = 0.0012
    b_sd: float = 0.0015
    noise_sd: float = 0.003


@dataclass(frozen=True)
class BreathingEstimate:
    """Posterior of (a, b) per patient: mean (n, 2), covariance (n, 2, 2)."""

    mean: Array
    cov: Array

    @staticmethod
    def prior(n: int, model: BreathingModel) -> BreathingEstimate:
        return BreathingEstimate(*independent_prior(n, (model.a_mean, model.b_mean),
                                                    (model.a_sd, model.b_sd)))


def update(est: BreathingEstimate, model: BreathingModel, dose: Array, rate_min: Array,
           use: NDArray[np.bool_]) -> BreathingEstimate:
    """Condition on one day's lowest rate (breaths/min, NaN: none) at dose (n,) mg/day."""
    ok = use & np.isfinite(rate_min) & (rate_min > 0)
    if not ok.any():
        return est
    y = np.where(ok, 1.0 / np.where(ok, rate_min, 1.0), 0.0)
    h = np.stack([np.ones_like(dose), dose], axis=1)  # (n, 2)
    return BreathingEstimate(*linear_update(est.mean, est.cov, h, y, model.noise_sd, ok))


def dose_cap(est: BreathingEstimate, floor_per_min: float, z: float) -> Array:
    """Largest dose (mg/day) whose predicted inverse rate stays below 1/floor with upper
    quantile z (z = 1.64: 5% risk of breathing below `floor_per_min`); inf if the slope is
    not credibly positive. Solved on a dose grid (the quantile is not linear in x)."""
    doses = np.geomspace(0.05, 40.0, 200)
    h0, h1 = 1.0, doses[None, :]
    mu = est.mean[:, :1] * h0 + est.mean[:, 1:] * h1
    var = (est.cov[:, :1, 0] + 2 * est.cov[:, :1, 1] * h1 + est.cov[:, 1:, 1] * h1 * h1)
    upper = mu + z * np.sqrt(np.maximum(var, 0.0))
    ok = upper <= 1.0 / floor_per_min
    last = np.where(ok.any(axis=1), doses.size - 1 - np.argmax(ok[:, ::-1], axis=1), -1)
    out: Array = np.where(last >= 0, doses[np.maximum(last, 0)], 0.0)
    out = np.where(ok.all(axis=1), np.inf, out)
    return out
