"""Kaplan-Meier survival per arm, with Greenwood's log-log 95% interval.

Pure numpy over per-patient (time, event) pairs: `time` in days, `event` True for a death
observed at that time, False for a patient censored then (alive at the end of the trial).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]


@dataclass(frozen=True)
class SurvivalCurve:
    """S(t) as a step function: `times` (days, ascending, from 0) and the survival, low and
    high bounds just after each time; `at_risk` and `deaths` at each time."""

    times: Array
    survival: Array
    low: Array
    high: Array
    at_risk: NDArray[np.int64]
    deaths: NDArray[np.int64]

    def at(self, t_days: float) -> float:
        """S(t): the survival after the last step at or before t."""
        i = int(np.searchsorted(self.times, t_days, side="right")) - 1
        return float(self.survival[max(i, 0)])

    def median_days(self) -> float:
        """The first time S(t) <= 0.5 (NaN if the curve never gets there)."""
        below = np.flatnonzero(self.survival <= 0.5)
        return float(self.times[below[0]]) if below.size else math.nan

    def as_json(self) -> dict[str, list[float] | list[int] | float | None]:
        median = self.median_days()
        return {
            "times_days": [float(t) for t in self.times],
            "survival": [float(v) for v in self.survival],
            "low": [float(v) for v in self.low],
            "high": [float(v) for v in self.high],
            "at_risk": [int(v) for v in self.at_risk],
            "deaths": [int(v) for v in self.deaths],
            "median_days": None if math.isnan(median) else median,
        }


def kaplan_meier(time_days: Array, event: NDArray[np.bool_], z: float = 1.959964) -> (
        SurvivalCurve):
    """The Kaplan-Meier estimate. Deaths at a time come before censorings at that time."""
    time = np.asarray(time_days, dtype=np.float64)
    died = np.asarray(event, dtype=bool)
    death_times = np.unique(time[died])
    n_total = time.size
    s, var_sum = 1.0, 0.0
    times, surv, low, high, risk, deaths = [0.0], [1.0], [1.0], [1.0], [n_total], [0]
    for t in death_times:
        at_risk = int(np.count_nonzero(time >= t))
        d = int(np.count_nonzero(died & (time == t)))
        s *= 1.0 - d / at_risk
        if at_risk > d:
            var_sum += d / (at_risk * (at_risk - d))
        times.append(float(t))
        surv.append(s)
        risk.append(at_risk)
        deaths.append(d)
        if 0.0 < s < 1.0 and var_sum > 0:
            # log-log interval: exp(-exp(log(-log S) +- z se)), se from Greenwood
            se = math.sqrt(var_sum) / abs(math.log(s))
            c = math.log(-math.log(s))
            low.append(math.exp(-math.exp(c + z * se)))
            high.append(math.exp(-math.exp(c - z * se)))
        else:
            low.append(s if s == 0.0 else math.nan)
            high.append(s if s == 0.0 else math.nan)
    return SurvivalCurve(np.array(times), np.array(surv), np.array(low), np.array(high),
                         np.array(risk, dtype=np.int64), np.array(deaths, dtype=np.int64))


def trial_survival(death_day: Array, days: int) -> SurvivalCurve:
    """Survival over a trial of `days` days: a patient dies on day floor(death_day) (the
    first day recorded as missing) if that is within the trial, else is censored at its end."""
    died_on = np.floor(death_day)
    event = died_on < days
    return kaplan_meier(np.where(event, died_on, float(days)), event)
