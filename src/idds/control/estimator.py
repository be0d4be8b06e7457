"""Bayesian estimate of one patient's dose-response, tolerance drift and disease progression.

Model of the diary (daily mean NRS y on day d at intrathecal-equivalent dose x_d, mg/day):

    y_d = D_d * (1 - r * H(x_d / theta))  + noise,   H(u) = u^g / (1 + u^g)
    D_{d+1} = D_d + s_d + w_D,   s_{d+1} = s_d + w_s

D is the pain drive (NRS before analgesia, it grows with the disease), s its daily slope
(progression), theta the patient's ED50 (dose giving half the maximal relief: potency), r the
patient's maximal relief. The form is the sigmoid Emax of Dahan 2004 (ref, pharmacology) at
steady state, where the CSF concentration is proportional to the dose (linear PK); g = 2.1 is
fixed (a little below the receptor Hill of 2.4 because tolerance grows with occupancy: the
dose-response flattens). Tolerance shows as theta drifting: the weights over theta diffuse a
little each day.

The maximal relief r is learned per patient, not fixed: spinal opioid acts only on the pain
the drug reaches at the catheter tip's segments, and neuropathic pain answers it poorly
(Bernards 2006; Deer 2017 PACC: IT opioid for nociceptive more than neuropathic pain; ref,
pharmacology), so the most relief an IT dose can give ranges from a small share of the pain to
nearly all of it. A fixed r = 0.9 overrated the benefit of escalation in poor responders
(fixture `poor_responder.json`) and underrated how fast a good responder is controlled.

Inference is exact for this model given (theta, r): for each point of a grid over theta (log)
and r, (D, s) follow a linear Gaussian state-space model (a Kalman filter), and the grid
weights are the marginal likelihoods (a Rao-Blackwellised grid filter). The grid is flattened
r-major to K = len(relief_grid) x len(theta_grid) points. Vectorised as (n patients, K).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.special import ndtr

Array = NDArray[np.float64]

#: Spread of the true day mean around the model, NRS (assumption): the day-level spread of
#: `prob_controlled` and of the controllers' waking-time share.
DAY_SD = 0.3


@dataclass(frozen=True)
class ResponseModel:
    """Priors and noise of the model (population figures of the virtual-patient docs and
    ref, pharmacology; values are assumptions where marked).

    theta_grid: ED50 grid, mg/day IT; theta_median, theta_log_sd: log-normal prior
    (assumption: a typical tolerant patient needs a few mg/day, 1.5-10 mg/day IT in practice);
    relief_grid: maximal relief r, a share of the pain drive, with a flat prior over it (IDDS
    assumption: nothing is known of a patient's reach before the diary; from a fifth, mostly
    neuropathic or out-of-reach pain, to nearly all of it, nociceptive pain at the tip);
    drive_mean, drive_sd: prior pain drive (background NRS 7.4-7.8 on systemic opioids,
    ref, pharmacology, before the relief they give); slope_mean, slope_sd: progression NRS/day
    (0.3 NRS per 30 days median, faster in some: assumption after van der Velden 2018);
    drive_step_sd, slope_step_sd: daily random walk; diary_sd: one entry's noise (reporting
    noise plus breakthrough hits); model_sd: day-level misfit; diffusion: share of each theta
    weight moving to each neighbour per day (tolerance drift).
    waking_sd: spread of one waking moment's pain around the day mean in the controllers'
    share of the waking day in target, NRS (IDDS choice, a margin, not a measured spread: the
    virtual patients' own within-day spread is about 0.1 NRS, `examples/waking_spread.py`; a
    smaller value spends less drug per NRS point and buys less time in target,
    docs/control.md "The waking-time spread").
    """

    theta_grid: tuple[float, ...] = tuple(np.geomspace(0.3, 40.0, 48).tolist())
    theta_median: float = 3.5
    theta_log_sd: float = 0.8
    relief_grid: tuple[float, ...] = (0.2, 0.4, 0.6, 0.75, 0.9)
    hill: float = 2.1
    drive_mean: float = 10.5
    drive_sd: float = 3.5
    slope_mean: float = 0.01
    slope_sd: float = 0.02
    drive_step_sd: float = 0.05
    slope_step_sd: float = 0.002
    diary_sd: float = 1.2
    model_sd: float = 0.35
    diffusion: float = 0.02
    waking_sd: float = 1.2

    @property
    def theta(self) -> Array:
        """ED50 at each of the K flattened grid points (r-major), mg/day IT."""
        return np.tile(np.asarray(self.theta_grid, dtype=np.float64), len(self.relief_grid))

    @property
    def waking_spread(self) -> float:
        """Spread of one waking moment's pain around the model, NRS: `waking_sd` and the day
        mean's (`DAY_SD`)."""
        return float(np.hypot(self.waking_sd, DAY_SD))

    @property
    def relief(self) -> Array:
        """Maximal relief r at each of the K flattened grid points."""
        return np.repeat(np.asarray(self.relief_grid, dtype=np.float64), len(self.theta_grid))

    def response(self, dose: Array) -> Array:
        """Share of the drive still felt, 1 - r H(x/theta), at doses broadcast against the
        grid: dose (..., 1) or (..., K) -> (..., K)."""
        # (x / theta)^g as exp(g log x - g log theta), in place: the controllers' hot loop
        with np.errstate(divide="ignore"):  # a dose of 0 gives h = exp(-inf) = 0
            h = self.hill * np.log(np.maximum(dose, 0.0)) - self.hill * np.log(self.theta)
        np.exp(h, out=h)
        share = h + 1.0
        np.divide(h, share, out=share)  # h / (1 + h)
        share *= self.relief
        out: Array = np.subtract(1.0, share, out=share)
        return out


@dataclass(frozen=True)
class ResponseEstimate:
    """Posterior per patient: log weights over the theta grid (n, K); mean (n, K, 2) and
    covariance (n, K, 2, 2) of (drive, slope) given each theta."""

    log_weight: Array
    mean: Array
    cov: Array

    @staticmethod
    def prior(n: int, model: ResponseModel) -> ResponseEstimate:
        theta = model.theta
        # log-normal over theta, flat over r
        lw = -0.5 * ((np.log(theta) - np.log(model.theta_median)) / model.theta_log_sd) ** 2
        lw = np.tile(lw - np.logaddexp.reduce(lw), (n, 1))
        k = theta.size
        mean = np.zeros((n, k, 2))
        mean[..., 0] = model.drive_mean
        mean[..., 1] = model.slope_mean
        cov = np.zeros((n, k, 2, 2))
        cov[..., 0, 0] = model.drive_sd**2
        cov[..., 1, 1] = model.slope_sd**2
        return ResponseEstimate(lw, mean, cov)

    def rows(self, start: int, stop: int) -> ResponseEstimate:
        """The estimate of patients start..stop-1 (views, not copies)."""
        return ResponseEstimate(self.log_weight[start:stop], self.mean[start:stop],
                                self.cov[start:stop])

    @property
    def weights(self) -> Array:
        w: Array = np.exp(self.log_weight - self.log_weight.max(axis=1, keepdims=True))
        out: Array = w / w.sum(axis=1, keepdims=True)
        return out


def predict(est: ResponseEstimate, model: ResponseModel) -> ResponseEstimate:
    """One day ahead: drive moves by its slope, both random-walk; theta weights diffuse (at
    each r: tolerance moves potency, not reach)."""
    m, p = est.mean, est.cov
    mean = np.stack([m[..., 0] + m[..., 1], m[..., 1]], axis=-1)
    p00, p01, p11 = p[..., 0, 0], p[..., 0, 1], p[..., 1, 1]
    cov = np.empty_like(p)
    cov[..., 0, 0] = p00 + 2 * p01 + p11 + model.drive_step_sd**2
    cov[..., 0, 1] = cov[..., 1, 0] = p01 + p11
    cov[..., 1, 1] = p11 + model.slope_step_sd**2
    n = est.log_weight.shape[0]
    w = est.weights.reshape(n, len(model.relief_grid), len(model.theta_grid))
    e = model.diffusion
    left = np.concatenate([w[..., :1], w[..., :-1]], axis=2)
    right = np.concatenate([w[..., 1:], w[..., -1:]], axis=2)
    mixed = ((1 - 2 * e) * w + e * (left + right)).reshape(n, -1)  # along theta, per r
    return ResponseEstimate(np.log(np.maximum(mixed, 1e-300)), mean, cov)


def update(est: ResponseEstimate, model: ResponseModel, dose: Array, nrs: Array,
           entries: Array) -> ResponseEstimate:
    """Condition on one day's diary mean `nrs` (NaN: none) of `entries` entries at the day's
    IT-equivalent dose (n,) mg/day."""
    has = ~np.isnan(nrs) & (entries > 0)
    if not has.any():
        return est
    g = model.response(dose[:, None])  # (n, K)
    r = model.diary_sd**2 / np.maximum(entries, 1.0) + model.model_sd**2
    m, p = est.mean, est.cov
    s = g * g * p[..., 0, 0] + r[:, None]
    innov = np.nan_to_num(nrs)[:, None] - g * m[..., 0]
    k0 = p[..., 0, 0] * g / s
    k1 = p[..., 1, 0] * g / s
    mean = m.copy()
    mean[..., 0] += k0 * innov
    mean[..., 1] += k1 * innov
    cov = p.copy()
    # P - K g P[0, :]
    cov[..., 0, 0] = p[..., 0, 0] - k0 * g * p[..., 0, 0]
    cov[..., 0, 1] = p[..., 0, 1] - k0 * g * p[..., 0, 1]
    cov[..., 1, 0] = cov[..., 0, 1]
    cov[..., 1, 1] = p[..., 1, 1] - k1 * g * p[..., 0, 1]
    loglik = -0.5 * (np.log(2 * np.pi * s) + innov * innov / s)
    lw = est.log_weight + loglik
    lw = lw - np.logaddexp.reduce(lw, axis=1, keepdims=True)
    sel = has[:, None]
    return ResponseEstimate(
        np.where(sel, lw, est.log_weight),
        np.where(sel[..., None], mean, m),
        np.where(sel[..., None, None], cov, p),
    )


def prob_controlled(est: ResponseEstimate, model: ResponseModel, doses: Array,
                    horizon_days: float, target_nrs: float, day_sd: float = DAY_SD) -> Array:
    """P(mean pain <= target) `horizon_days` ahead at each candidate dose: doses (n, m) ->
    (n, m). day_sd: spread of the true daily mean around the model (not diary noise)."""
    prob, _ = by_point(est, model, doses, horizon_days, target_nrs, day_sd)
    out: Array = np.einsum("nmk,nk->nm", prob, est.weights)
    return out


def drive_ahead(est: ResponseEstimate, model: ResponseModel, horizon_days: float
                ) -> tuple[Array, Array]:
    """The pain drive `horizon_days` ahead at each grid point, (n, K): its mean (drive plus
    the slope's drift) and its variance (with the random walk's steps)."""
    m, p = est.mean, est.cov
    h = horizon_days
    drive: Array = m[..., 0] + h * m[..., 1]
    var: Array = (p[..., 0, 0] + 2 * h * p[..., 0, 1] + h * h * p[..., 1, 1]
                  + h * model.drive_step_sd**2)
    return drive, var


def by_point(est: ResponseEstimate, model: ResponseModel, doses: Array, horizon_days: float,
             target_nrs: float, day_sd: float = DAY_SD) -> tuple[Array, Array]:
    """Per grid point, `horizon_days` ahead at each candidate dose: P(pain <= target) and the
    mean pain, doses (n, m) -> two (n, m, K) arrays (weights: `est.weights`). day_sd as in
    `prob_controlled`."""
    drive, var = drive_ahead(est, model, horizon_days)
    g = model.response(doses[:, :, None])
    mu = g * drive[:, None, :]
    sd = g  # in place from here (large arrays): sd = sqrt(g^2 var + day_sd^2)
    sd *= g
    sd *= var[:, None, :]
    sd += day_sd**2
    np.sqrt(sd, out=sd)
    prob: Array = np.subtract(target_nrs, mu)
    prob /= sd
    ndtr(prob, out=prob)
    return prob, mu


def expected_nrs(est: ResponseEstimate, model: ResponseModel, dose: Array,
                 horizon_days: float) -> Array:
    """Posterior mean pain at one dose per patient (n,), `horizon_days` ahead."""
    out: Array = expected_nrs_at(est, model, dose[:, None], horizon_days)[:, 0]
    return out


def expected_nrs_at(est: ResponseEstimate, model: ResponseModel, doses: Array,
                    horizon_days: float) -> Array:
    """Posterior mean pain `horizon_days` ahead at each candidate dose: doses (n, m) mg/day
    -> (n, m) NRS."""
    drive, _ = drive_ahead(est, model, horizon_days)
    weighted = est.weights * drive
    out: Array = np.einsum("nmk,nk->nm", model.response(doses[:, :, None]), weighted)
    return out
