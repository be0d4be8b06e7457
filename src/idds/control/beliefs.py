"""What the intelligent controller believes about a patient, with uncertainty, and what it
predicts for a plan: the explanation the programmer's advice and the trial report show.

Read off the controller's own posterior only (`idds.control.estimator` for the dose-response,
tolerance drift and progression; `idds.control.breathing` for how breathing slows with the
dose): the observations a real system has, never the virtual patient's hidden state. Every
figure is a posterior summary:

- beliefs: the median and the central 90% credible interval (5th-95th percentile) of the
  patient's maximal relief (share of the pain drive an intrathecal dose can take away), ED50
  (mg/day IT giving half of it: potency; tolerance shows as it rises), pain drive today (NRS
  before analgesia) and progression (NRS per 30 days); the breathing cap (mg/day: the largest
  dose keeping the lowest breathing rate above the warning limit with 95% probability); how
  much the patient's side-effect burden rises per mg/day IT and per 100 mg/day oral morphine
  (`idds.control.sideeffects`: the posterior is normal, so its interval is mean +- 1.645 SD);
- forecasts: at a plan's whole IT-equivalent dose (mg/day: basal + the boluses the patient is
  expected to take + oral / the library's oral:IT ratio), `horizon_days` ahead, the posterior
  mean of the day's mean diary pain, the central 80% predictive interval of a day's diary mean
  (10th-90th percentile of the posterior predictive mixture, with the diary's own noise,
  solved by bisection, not a normal approximation: early on the mixture over maximal relief
  has several modes), and the expected share of waking time with pain at or below target (as
  in the controller's utility); the day's side-effect burden (0-10) with its 80% predictive
  interval and the probability that a side effect limits the day (moderate, 5 of 10 or more:
  the day is then out of target).

Quantiles over the grid (maximal relief, ED50) are grid values: the grid of
`ResponseModel.relief_grid` is coarse (0.2, 0.4, 0.6, 0.75, 0.9), so an interval reads
"0.40-0.60" rather than finer. The 80% interval is checked against what happened in the trials
(`idds.trial.calibration`): observed next-day diary means should fall inside it about 80% of
the time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.special import ndtr, ndtri

from idds.control import breathing, estimator, sideeffects
from idds.control.breathing import BreathingEstimate
from idds.control.estimator import ResponseEstimate, ResponseModel
from idds.control.sideeffects import SideEffectEstimate, SideEffectModel

Array = NDArray[np.float64]

#: Credible interval of a belief (central 90%) and of a forecast (central 80%).
BELIEF_LEVEL = 0.90
FORECAST_LEVEL = 0.80
#: Bisection steps for a mixture quantile: a bracket of 20 NRS narrows to 20 / 2^20 NRS.
_BISECTIONS = 20


@dataclass(frozen=True)
class Belief:
    """A posterior summary: median and the central 90% credible interval."""

    median: float
    low: float
    high: float

    def text(self, digits: int, unit: str) -> str:
        return (f"{self.median:.{digits}f}{unit} (90% interval {self.low:.{digits}f}-"
                f"{self.high:.{digits}f}{unit})")


@dataclass(frozen=True)
class Forecast:
    """What the controller predicts for one plan (see the module docstring): the plan's
    IT-equivalent dose, mg/day; mean diary pain NRS with its 80% interval; the expected share
    of waking time with pain at or below target (0-1); the day's side-effect burden (0-10)
    with its 80% interval, and the probability that a side effect limits the day (0-1)."""

    dose_mg_per_day: float
    nrs: float
    nrs_low: float
    nrs_high: float
    in_target: float
    burden: float
    burden_low: float
    burden_high: float
    limiting: float

    @property
    def time_in_target(self) -> float:
        """Expected share of the waking day in target: pain at or below target on a day no
        side effect limits (the trials' primary metric)."""
        return self.in_target * (1.0 - self.limiting)

    def text(self) -> str:
        return (f"NRS {self.nrs:.1f} (80% interval {self.nrs_low:.1f}-{self.nrs_high:.1f}), "
                f"{100 * self.in_target:.0f}% of waking time at or below target, at "
                f"{self.dose_mg_per_day:.2f} mg/day IT-equivalent; {self.side_effect_text()}")

    def side_effect_text(self) -> str:
        return (f"side-effect burden {self.burden:.1f}/10 (80% interval {self.burden_low:.1f}-"
                f"{self.burden_high:.1f}), {100 * self.limiting:.0f}% chance a side effect "
                "limits the day")

    def as_json(self) -> dict[str, float]:
        return {"dose_mg_per_day": round(self.dose_mg_per_day, 4), "nrs": round(self.nrs, 2),
                "nrs_low": round(self.nrs_low, 2), "nrs_high": round(self.nrs_high, 2),
                "in_target": round(self.in_target, 3), "burden": round(self.burden, 2),
                "burden_low": round(self.burden_low, 2),
                "burden_high": round(self.burden_high, 2), "limiting": round(self.limiting, 3),
                "time_in_target": round(self.time_in_target, 3)}


@dataclass(frozen=True)
class Beliefs:
    """One patient's posterior (see the module docstring). breathing_cap_mg_per_day: inf while
    the diary shows no credible slowing of breathing with the dose."""

    max_relief: Belief
    ed50_mg_per_day: Belief
    drive_nrs: Belief
    progression_nrs_per_30_days: Belief
    breathing_cap_mg_per_day: float
    side_effects_per_mg_it: Belief
    side_effects_per_100mg_oral: Belief

    def lines(self) -> list[str]:
        cap = self.breathing_cap_mg_per_day
        return [
            f"Maximal relief an intrathecal dose can give: {self.max_relief.text(2, '')} "
            "of the pain drive",
            f"ED50 (potency; rises with tolerance): {self.ed50_mg_per_day.text(2, ' mg/day')}",
            f"Pain drive today (NRS before analgesia): {self.drive_nrs.text(1, '')}",
            "Progression: " + self.progression_nrs_per_30_days.text(2, " NRS per 30 days"),
            "Breathing cap (95% sure the lowest rate stays above the warning limit): "
            + ("none seen yet" if np.isinf(cap) else f"{cap:.2f} mg/day"),
            "Side effects (burden 0-10) per mg/day IT: "
            + self.side_effects_per_mg_it.text(2, " points"),
            "Side effects per 100 mg/day oral morphine: "
            + self.side_effects_per_100mg_oral.text(2, " points"),
        ]

    def as_json(self) -> dict[str, object]:
        def one(b: Belief) -> dict[str, float]:
            return {"median": round(b.median, 4), "low": round(b.low, 4),
                    "high": round(b.high, 4)}

        cap = self.breathing_cap_mg_per_day
        return {"max_relief": one(self.max_relief),
                "ed50_mg_per_day": one(self.ed50_mg_per_day),
                "drive_nrs": one(self.drive_nrs),
                "progression_nrs_per_30_days": one(self.progression_nrs_per_30_days),
                "breathing_cap_mg_per_day": None if np.isinf(cap) else round(cap, 4),
                "side_effects_per_mg_it": one(self.side_effects_per_mg_it),
                "side_effects_per_100mg_oral": one(self.side_effects_per_100mg_oral)}


def weighted_quantiles(values: Array, weights: Array, qs: tuple[float, ...]) -> Array:
    """Quantiles of a discrete distribution: values (m,) ascending, weights (n, m) summing to
    1 per row -> (n, len(qs)): the smallest value whose cumulative weight reaches q."""
    cum = np.cumsum(weights, axis=1)
    idx = np.stack([np.argmax(cum >= q - 1e-12, axis=1) for q in qs], axis=1)
    out: Array = values[idx]
    return out


#: The standard normal quantile of a central 90% interval's upper end.
_BELIEF_Z = float(ndtri((1 + BELIEF_LEVEL) / 2))


def normal_belief(mean: float, sd: float) -> Belief:
    """The median and central 90% interval of a normal posterior."""
    return Belief(mean, mean - _BELIEF_Z * sd, mean + _BELIEF_Z * sd)


def beliefs_of(response: ResponseEstimate, breath: BreathingEstimate, side: SideEffectEstimate,
               model: ResponseModel, breathing_floor_per_min: float, breathing_z: float
               ) -> list[Beliefs]:
    """Each patient's `Beliefs` from the controller's posteriors."""
    n = response.log_weight.shape[0]
    w = response.weights.reshape(n, len(model.relief_grid), len(model.theta_grid))
    lo, hi = (1 - BELIEF_LEVEL) / 2, (1 + BELIEF_LEVEL) / 2
    qs = (lo, 0.5, hi)
    relief = weighted_quantiles(np.asarray(model.relief_grid), w.sum(axis=2), qs)
    ed50 = weighted_quantiles(np.asarray(model.theta_grid), w.sum(axis=1), qs)
    flat = response.weights

    def mixture(mean: Array, var: Array) -> list[Array]:
        sd = np.sqrt(np.maximum(var, 1e-12))
        return [mixture_quantile(mean, sd, flat, q) for q in (0.5, lo, hi)]

    drive = mixture(response.mean[..., 0], response.cov[..., 0, 0])
    slope = mixture(30 * response.mean[..., 1], 900 * response.cov[..., 1, 1])
    cap = breathing.dose_cap(breath, breathing_floor_per_min, breathing_z)
    (it_mean, it_sd), (oral_mean, oral_sd) = side.per_mg_it, side.per_100mg_oral
    return [Beliefs(
        max_relief=Belief(float(relief[i, 1]), float(relief[i, 0]), float(relief[i, 2])),
        ed50_mg_per_day=Belief(float(ed50[i, 1]), float(ed50[i, 0]), float(ed50[i, 2])),
        drive_nrs=Belief(float(drive[0][i]), float(drive[1][i]), float(drive[2][i])),
        progression_nrs_per_30_days=Belief(float(slope[0][i]), float(slope[1][i]),
                                           float(slope[2][i])),
        breathing_cap_mg_per_day=float(cap[i]),
        side_effects_per_mg_it=normal_belief(float(it_mean[i]), float(it_sd[i])),
        side_effects_per_100mg_oral=normal_belief(float(oral_mean[i]), float(oral_sd[i])),
    ) for i in range(n)]


@dataclass(frozen=True)
class ForecastArrays:
    """`Forecast` for n patients at once, each field (n,): the trials record these daily."""

    dose_mg_per_day: Array
    nrs: Array
    nrs_low: Array
    nrs_high: Array
    in_target: Array
    burden: Array
    burden_low: Array
    burden_high: Array
    limiting: Array

    def one(self, i: int) -> Forecast:
        return Forecast(**{f: float(getattr(self, f)[i]) for f in self.__dataclass_fields__})


@dataclass(frozen=True)
class PlanDoses:
    """One plan's daily doses per patient, (n,) mg/day: its IT-equivalent dose (IT + oral /
    the oral:IT ratio), its intrathecal part (basal + boluses expected) and its oral
    morphine."""

    equivalent: Array
    it_mg: Array
    oral_mg: Array


def forecast(response: ResponseEstimate, model: ResponseModel, side: SideEffectEstimate,
             side_model: SideEffectModel, dose: PlanDoses, horizon_days: float,
             target_nrs: float, entries: Array) -> ForecastArrays:
    """The forecast at one plan per patient, `horizon_days` ahead, for a day's diary mean of
    `entries` (n,) entries. At grid point k the diary mean is normal: the Kalman part of the
    drive, the day-level misfit (`ResponseModel.model_sd`) and the entries' noise
    (`ResponseModel.diary_sd` / sqrt(entries)), as the estimator's own likelihood; the
    interval is the mixture's, over the grid weights. The side-effect burden is normal
    (`sideeffects.predictive`), its interval clipped to the 0-10 scale."""
    weights = response.weights
    prob, mu = estimator.by_point(response, model, dose.equivalent[:, None], horizon_days,
                                  target_nrs, model.waking_spread)
    mu = mu[:, 0, :]
    _, var = estimator.drive_ahead(response, model, horizon_days)
    g = model.response(dose.equivalent[:, None])
    noise = model.model_sd**2 + model.diary_sd**2 / np.maximum(entries, 1.0)
    sd = np.sqrt(g * g * var + noise[:, None])
    lo, hi = (1 - FORECAST_LEVEL) / 2, (1 + FORECAST_LEVEL) / 2
    b_mu, b_sd = sideeffects.predictive(side, side_model, dose.it_mg, dose.oral_mg,
                                        horizon_days)
    z = float(ndtri(hi))
    return ForecastArrays(
        dose_mg_per_day=dose.equivalent.astype(np.float64),
        nrs=np.sum(weights * mu, axis=1),
        nrs_low=mixture_quantile(mu, sd, weights, lo),
        nrs_high=mixture_quantile(mu, sd, weights, hi),
        in_target=np.sum(weights * prob[:, 0, :], axis=1),
        burden=np.clip(b_mu, 0.0, 10.0),
        burden_low=np.clip(b_mu - z * b_sd, 0.0, 10.0),
        burden_high=np.clip(b_mu + z * b_sd, 0.0, 10.0),
        limiting=1.0 - sideeffects.tolerable(side, side_model, dose.it_mg, dose.oral_mg,
                                             horizon_days),
    )


def mixture_quantile(mu: Array, sd: Array, weights: Array, q: float) -> Array:
    """The q-quantile of sum_k w_k N(mu_k, sd_k^2) per row (n, K) -> (n,), by bisection."""
    low = np.min(mu - 6 * sd, axis=1)
    high = np.max(mu + 6 * sd, axis=1)
    for _ in range(_BISECTIONS):
        mid = 0.5 * (low + high)
        below = np.sum(weights * ndtr((mid[:, None] - mu) / sd), axis=1) < q
        low = np.where(below, mid, low)
        high = np.where(below, high, mid)
    out: Array = 0.5 * (low + high)
    return out


@dataclass(frozen=True)
class Explanation:
    """Why the controller recommends what it does, for one patient: its beliefs, the daily
    dose of highest expected utility (mg/day IT, below the breathing cap), and its forecasts
    `horizon_days` ahead for the current plan and for the proposed one (the plan the
    supervisor lets through: what acceptance would deliver)."""

    beliefs: Beliefs
    best_mg_per_day: float
    current: Forecast
    proposed: Forecast
    horizon_days: float
    target_nrs: float

    def lines(self) -> list[str]:
        days = f"{self.horizon_days:g} days"
        return [
            *self.beliefs.lines(),
            f"Daily dose of highest expected utility: {self.best_mg_per_day:.2f} mg/day IT "
            f"(target NRS <= {self.target_nrs:g}; the supervisor bounds each step)",
            f"Predicted in {days} on the current plan: {self.current.text()}",
            f"Predicted in {days} on the proposed plan: {self.proposed.text()}",
        ]

    def as_json(self) -> dict[str, object]:
        return {"beliefs": self.beliefs.as_json(),
                "best_mg_per_day": round(self.best_mg_per_day, 4),
                "horizon_days": self.horizon_days, "target_nrs": self.target_nrs,
                "current": self.current.as_json(), "proposed": self.proposed.as_json()}
