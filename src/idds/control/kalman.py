"""One Kalman measurement update of a linear Gaussian model, vectorised over patients: the
conjugate Bayesian linear regression behind the breathing and side-effect estimates."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]


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
