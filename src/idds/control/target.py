"""Treat-to-target with daily steps: a careful clinician reading the diary every day.

A baseline to measure the intelligent controller against beside the scheduled-visit standard
(`it-standard`) and the daily rule of `idds.control.rules` (issue 20, part 3). Each evening,
from `Observations` only (never the virtual patient's hidden state):

- sedation POSS >= 3 (Pasero 2009: unacceptable, reduce 25-50%), breathing below 10/min (ASA
  2016 neuraxial-opioid guidance) or a side-effect burden >= 6 of 10 (IDDS assumption, the
  rule-based titration's): the daily dose -25% (the low end of Pasero's 25-50%), never below
  the clinician's lowest daily dose (`min_daily_mg`, the lowest deliverable rate in the trial;
  the supervisor's alarm stops the pump where that is needed);
- no diary in the window: hold (fail safe, docs/design.md principle 6);
- diary mean above the target NRS 3 (the trials' "controlled", ref, pharmacology) with a
  side-effect burden below 4 (IDDS assumption, the rule-based titration's): the drug library's
  maximum step (`max_increase_percent`, 20% for morphine: clinician steps of 10-20%), no sooner
  than the library's minimum interval after the last increase delivered
  (`min_interval_between_increases`, 24 h for morphine: Infumorph label, observe >= 24 h after
  each dose; held with `HOLD_INTERVAL` until then); the supervisor's monitoring window (72 h
  by default, the label's 24-72 h) applies on top, as for every closed-loop arm;
- burden 4-6 with pain above target: hold (side effects limit);
- otherwise (pain at or below target): hold. A treat-to-target rule does not trim a dose that
  works; only side effects bring it down.
The patient bolus follows the daily dose in its direction (`idds.control.bolus`, 10% of the
daily dose; it-standard's share, assumption from PTM practice); refused remote presses (unmet
need) of 0.5 a day or more, on a day the dose is only held (pain controlled, or waiting the
interval; not with a side-effect burden of 4 or more, nor without a diary), allow one more
bolus a day up to the clinician's maximum (the intelligent controller's rule,
`idds.control.bolus.one_more_bolus`, so the two differ in how they choose the daily dose, not
in this; IDDS assumption). The flex shape is not changed.

The titration itself is `Titration.decide` (one rule for every titrating arm); this module adds
the daily timing, the library's interval and the bolus settings. Pure and vectorised.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from idds.control.bolus import follow_dose, one_more_bolus
from idds.control.observations import Observations
from idds.control.prescription import Prescription
from idds.control.reasons import Reason
from idds.control.recommendation import Recommendation
from idds.control.rules import Titration

Array = NDArray[np.float64]

#: The treat-to-target titration: target NRS 3, +20% (replaced by the library's step where it
#: is built, `idds.trial.controlled_arms.DailyTargetArm`), -25% on limiting side effects,
#: burden 4 holds and 6 reduces, no trim.
TREAT_TO_TARGET = Titration(target_nrs=3.0, increase=0.2, decrease=0.25, burden_hold=4.0,
                            burden_reduce=6.0)


@dataclass(frozen=True)
class TargetState:
    """What the rule remembers: the basal dose it last saw (mg/day) and the day of the last
    increase delivered (-inf: none), per patient."""

    last_daily_mg: Array
    last_increase_day: Array


@dataclass(frozen=True)
class DailyTargetController:
    """See the module docstring. Doses mg/day, NRS 0-10.

    titration: the rule (`TREAT_TO_TARGET` with the library's step); min_hours_between_increases:
    the library's minimum interval, h (0: none); min_daily_mg: the clinician's lowest daily
    dose, mg/day; bolus_fraction: patient bolus share of the daily dose; max_bolus_mg: the
    clinician's bolus bound, mg; max_boluses_per_day: the clinician's bound on boluses a day;
    refused_for_more_boluses: refused presses a day that allow one more (`one_more_bolus`).
    """

    name: str = "daily-target"
    titration: Titration = TREAT_TO_TARGET
    min_hours_between_increases: float = 24.0
    min_daily_mg: float = 0.0
    bolus_fraction: float = 0.1
    max_bolus_mg: float = 0.5
    max_boluses_per_day: int = 6
    refused_for_more_boluses: float = 0.5

    def initial(self, therapy: Prescription) -> TargetState:
        """The start counts as an increase (the label's monitoring after the start)."""
        n = therapy.n
        return TargetState(therapy.it_mg_per_day.copy(), np.full(n, -1.0))

    def recommend(self, state: TargetState, obs: Observations, therapy: Prescription
                  ) -> tuple[Recommendation, TargetState]:
        cur = therapy.it_mg_per_day
        raised = cur > state.last_daily_mg * (1 + 1e-9)
        last_up = np.where(raised, float(obs.day) - 1.0, state.last_increase_day)
        factor, reasons = self.titration.decide(obs)
        waited = (obs.day - last_up) * 24.0 >= self.min_hours_between_increases
        early = (reasons == Reason.INCREASE_UNCONTROLLED) & ~waited
        factor = np.where(early, 1.0, factor)
        reasons = np.where(early, Reason.HOLD_INTERVAL, reasons).astype(np.int64)
        it = cur * factor
        it = np.where((factor < 1) & (it > 0), np.maximum(it, np.minimum(self.min_daily_mg, cur)),
                      it)
        bolus = follow_dose(therapy.bolus_mg, cur, it, self.bolus_fraction, self.max_bolus_mg)
        quiet = np.isin(reasons, [Reason.HOLD_CONTROLLED, Reason.HOLD_INTERVAL])
        with np.errstate(invalid="ignore"):
            calm = obs.side_effect_burden < self.titration.burden_hold
        maxb, more = one_more_bolus(obs, therapy.max_boluses_per_day, quiet & calm,
                                    self.refused_for_more_boluses, self.max_boluses_per_day)
        reasons = np.where(more, Reason.ADJUST_BOLUS, reasons).astype(np.int64)
        rec = therapy.with_(it_mg_per_day=it, bolus_mg=bolus, max_boluses_per_day=maxb)
        return (Recommendation(rec, reasons, np.full(therapy.n, np.nan)),
                TargetState(cur.copy(), last_up))
