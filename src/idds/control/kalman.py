"""The conjugate Bayesian linear regression behind the breathing and side-effect estimates,
vectorised over patients: an independent Gaussian prior and one Kalman measurement update."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]


def independent_prior(n: int, means: tuple[float, ...], sds: tuple[float, ...]
                      ) -> tuple[Array, Array]:
    """n patients' prior of independent normal coefficients: mean (n, k), covariance (n, k, k)
    with the variances `sds`^2 on its diagonal."""
    mean: Array = np.tile(np.asarray(means, dtype=np.float64), (n, 1))
    cov: Array = np.tile(np.diag(np.asarray(sds, dtype=np.float64) ** 2), (n, 1, 1))
    return mean, cov


def linear_update(mean: Array, cov: Array, h: Array, y: Array, noise_sd: float,
                  ok: NDArray[np.bool_]) -> tuple[Array, Array]:
    """Condition N(mean (n, k), cov (n, k, k)) on y = h . x + noise (h (n, k), y (n,), noise
    N(0, noise_sd^2)) where `ok` (n,); elsewhere the prior is kept."""
    ph = np.einsum("nij,nj->ni", cov, h)
    s = np.einsum("ni,ni->n", h, ph) + noise_sd**2
    gain = ph / s[:, None]
    innov = np.where(ok, y, 0.0) - np.einsum("ni,ni->n", h, mean)
    new_mean = mean + gain * innov[:, None]
    new_cov = cov - gain[:, :, None] * ph[:, None, :]
    return (np.where(ok[:, None], new_mean, mean), np.where(ok[:, None, None], new_cov, cov))
