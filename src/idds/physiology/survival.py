"""Survival of late-stage cancer: each patient's day of death from the disease.

A constant per-patient hazard (exponential survival) with log-normal variability between
patients (`SurvivalParams`). The typical patient's hazard is solved so that the cohort's
median survival from day 0 is the archetype's (103 days for the refractory cohort: the median
after implant of patients crossed over from CMM, Smith & Coyne 2005, ref). The day of death is
a pure function of (seed, patient index): the same patient dies on the same day in every arm
(common random numbers), and pain or symptoms do not change it (hazard ratio 1.0).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from idds.physiology.parameters import SURVIVAL, SurvivalParams
from idds.physiology.streams import Stream, normal, uniform

Array = NDArray[np.float64]


def cohort_survival(t_days: float, typical_hazard_per_day: float, omega: float) -> float:
    """Share of the cohort alive at t: E[exp(-h t)] over log-normal hazards h with median
    `typical_hazard_per_day` and log-SD omega (Gauss-Hermite quadrature, 40 nodes)."""
    x, w = np.polynomial.hermite_e.hermegauss(40)
    h = typical_hazard_per_day * np.exp(omega * x)
    return float(np.sum(w * np.exp(-h * t_days)) / math.sqrt(2.0 * math.pi))


@lru_cache(maxsize=32)
def typical_hazard(cohort_median_days: float, omega: float) -> float:
    """The typical hazard (1/day) that gives the cohort median survival asked for."""
    from scipy.optimize import brentq

    def gap(log_h: float) -> float:
        return cohort_survival(cohort_median_days, math.exp(log_h), omega) - 0.5

    base = math.log(math.log(2.0) / cohort_median_days)
    return math.exp(float(brentq(gap, base - 5.0, base + 5.0, xtol=1e-12)))


def _hazards(keys: NDArray[np.uint64], cohort_median_days: float,
             variability: float, p: SurvivalParams) -> Array:
    """Each patient's constant disease hazard, 1/day (variability > 0)."""
    omega = p.omega * variability
    h0 = typical_hazard(float(cohort_median_days), omega)
    out: Array = h0 * np.exp(omega * normal(keys, Stream.SURVIVAL_HAZARD, 0))
    return out


def death_days(keys: NDArray[np.uint64], cohort_median_days: float | None,
               variability: float = 1.0, p: SurvivalParams = SURVIVAL) -> Array:
    """Days from day 0 to death from the disease (fractional), one per patient key; +inf for
    an archetype without a disease hazard (median None) or with variability 0 (the typical
    patient of a story lives through it)."""
    n = keys.shape[0]
    if cohort_median_days is None or variability == 0:
        return np.full(n, np.inf)
    hazard = _hazards(keys, cohort_median_days, variability, p)
    out: Array = -np.log(uniform(keys, Stream.SURVIVAL_TIME, 0)) / hazard
    return out


def prognosis_days(keys: NDArray[np.uint64], cohort_median_days: float | None,
                   variability: float = 1.0, p: SurvivalParams = SURVIVAL) -> Array:
    """The life expectancy a care team would estimate for each patient, days: the patient's
    own median survival, ln 2 / hazard (what the disease's state predicts, not the day of
    death, which stays unknown: `death_days` draws it from the same hazard). The archetype's
    median for variability 0; +inf without a disease hazard. IDDS assumption: the team's
    estimate is unbiased; real prognoses are often optimistic (not modelled)."""
    n = keys.shape[0]
    if cohort_median_days is None:
        return np.full(n, np.inf)
    if variability == 0:
        return np.full(n, float(cohort_median_days))
    out: Array = math.log(2.0) / _hazards(keys, cohort_median_days, variability, p)
    return out
