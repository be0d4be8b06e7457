"""The rule-based baseline: titration as good clinical practice does it, every day.

Pain above NRS 3 on the diary without limiting side effects: +20% (the library's step;
clinician steps of 10-20%, library source). Sedation POSS >= 3 (Pasero 2009: unacceptable,
reduce), breathing below 10/min, or side-effect burden >= 6 of 10: -25% (Pasero: 25-50%).
Burden >= 4: hold. No diary: hold. Pain at NRS <= 1.5 (well below target) without presses:
-10% toward the smallest effective dose (assumption). Bolus dose 10% of the daily dose, moved
only in the daily dose's direction (`idds.control.bolus`; never above the library bolus limit,
the supervisor checks). The supervisor decides whether a
recommendation may be delivered (monitoring window, per-week change, interlock...).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from idds.control.bolus import follow_dose
from idds.control.observations import Observations
from idds.control.prescription import Prescription
from idds.control.reasons import Reason
from idds.control.recommendation import Recommendation

Array = NDArray[np.float64]


def must_reduce(obs: Observations, sedation_poss: float, slow_breathing_per_min: float,
                burden: float) -> NDArray[np.bool_]:
    """Per patient: sedation at or above `sedation_poss` (POSS, Pasero 2009), breathing below
    `slow_breathing_per_min`, or side-effect burden at or above `burden` calls for a cut."""
    with np.errstate(invalid="ignore"):
        out: NDArray[np.bool_] = (
            (obs.sedation_max >= sedation_poss)
            | (obs.respiratory_rate_min < slow_breathing_per_min)
            | (obs.side_effect_burden >= burden)
        )
    return out


@dataclass(frozen=True)
class Titration:
    """A clinician's titration rule, from what can be observed (shared by the rule-based
    controller and the trial's clinic-visit arms).

    target_nrs: a diary mean above it is uncontrolled (NRS <= 3 counts as controlled).
    increase, decrease: relative change when uncontrolled / on limiting side effects.
    burden_hold, burden_reduce: side-effect burden (0-10) that stops escalation / calls for a
        reduction; sedation_reduce_poss: POSS at or above which the dose is reduced (Pasero
        2009); slow_breathing_per_min: respiratory rate below which it is reduced.
    low_nrs, trim: when set, a diary at or below `low_nrs` without remote presses trims the
        dose by `trim` toward the smallest effective dose (assumption).
    """

    target_nrs: float
    increase: float
    decrease: float
    burden_hold: float
    burden_reduce: float
    sedation_reduce_poss: float = 3.0
    slow_breathing_per_min: float = 10.0
    low_nrs: float | None = None
    trim: float = 0.0

    def decide(self, obs: Observations) -> tuple[Array, NDArray[np.int64]]:
        """Dose multiplier and `Reason` per patient."""
        nrs = obs.diary_mean_nrs
        no_data = np.isnan(nrs)
        reduce = must_reduce(obs, self.sedation_reduce_poss, self.slow_breathing_per_min,
                             self.burden_reduce)
        with np.errstate(invalid="ignore"):
            uncontrolled = ~no_data & (nrs > self.target_nrs)
            limited = obs.side_effect_burden >= self.burden_hold
            low = (np.zeros(nrs.shape, dtype=bool) if self.low_nrs is None
                   else ~no_data & (nrs <= self.low_nrs) & (obs.presses_per_day < 0.5))
        reasons = np.select(
            [reduce, no_data, uncontrolled & limited, uncontrolled, low],
            [Reason.DECREASE_SIDE_EFFECTS, Reason.HOLD_NO_DATA,
             Reason.HOLD_SIDE_EFFECTS, Reason.INCREASE_UNCONTROLLED,
             Reason.DECREASE_OVERCONTROLLED],
            default=Reason.HOLD_CONTROLLED,
        ).astype(np.int64)
        factor: Array = np.select(
            [reasons == Reason.DECREASE_SIDE_EFFECTS,
             reasons == Reason.INCREASE_UNCONTROLLED,
             reasons == Reason.DECREASE_OVERCONTROLLED],
            [1.0 - self.decrease, 1.0 + self.increase, 1.0 - self.trim],
            default=1.0,
        )
        return factor, reasons


#: Good practice as the module docstring states it.
PRACTICE = Titration(target_nrs=3.0, increase=0.2, decrease=0.25, burden_hold=4.0,
                     burden_reduce=6.0, low_nrs=1.5, trim=0.1)


@dataclass(frozen=True)
class RuleState:
    """The rule-based controller carries nothing but the day it last decided."""

    day: int


@dataclass(frozen=True)
class RuleBasedController:
    """Daily rule-based titration; see the module docstring. Doses mg/day, NRS 0-10."""

    name: str = "rule-based"
    titration: Titration = PRACTICE
    bolus_fraction: float = 0.1
    min_daily_mg: float = 0.0

    def initial(self, therapy: Prescription) -> RuleState:
        return RuleState(day=-1)

    def recommend(self, state: RuleState, obs: Observations, therapy: Prescription
                  ) -> tuple[Recommendation, RuleState]:
        factor, reasons = self.titration.decide(obs)
        it = therapy.it_mg_per_day * factor
        trimmed = reasons == Reason.DECREASE_OVERCONTROLLED
        it = np.where(trimmed, np.maximum(it, np.minimum(self.min_daily_mg, therapy.it_mg_per_day)),
                      it)
        bolus = follow_dose(therapy.bolus_mg, therapy.it_mg_per_day, it, self.bolus_fraction)
        rec = therapy.with_(it_mg_per_day=it, bolus_mg=bolus)
        return Recommendation(rec, reasons, np.full(therapy.n, np.nan)), RuleState(obs.day)
