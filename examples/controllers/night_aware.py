"""A worked example of a controller plug-in: steps the daily dose on the diary, and moves
part of the dose to the evening when the remote is pressed mostly in the evening.

Run it as an arm of a trial (docs/controllers.md):

    idds trial --patients 50 --days 28 \
        --arms cmm,it-standard,controller:examples/controllers/night_aware.py:build

or in the programmer's advisory mode:

    idds program advise --observations FILE --controller examples/controllers/night_aware.py:build

Everything it proposes passes the same safety supervisor as the built-in controllers (library
limits, the per-change step, the monitoring window after an increase, the interlock).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from idds.control.observations import Observations
from idds.control.prescription import Prescription
from idds.control.reasons import Reason
from idds.control.recommendation import Recommendation
from idds.control.registry import ControllerSettings


@dataclass(frozen=True)
class NightAware:
    """Diary above NRS 3: +step (the supervisor's own per-change step); sedation (POSS >= 3)
    or breathing below 10/min: -25%; otherwise hold. Doses mg/day."""

    step: float
    bolus_fraction: float = 0.1
    name: str = "night-aware"

    def initial(self, therapy: Prescription) -> None:
        return None  # carries no state between days

    def recommend(self, state: None, obs: Observations, therapy: Prescription
                  ) -> tuple[Recommendation, None]:
        nrs = obs.diary_mean_nrs
        with np.errstate(invalid="ignore"):
            reduce = (obs.sedation_max >= 3) | (obs.respiratory_rate_min < 10)
            uncontrolled = ~np.isnan(nrs) & (nrs > 3)
        reasons = np.select([reduce, np.isnan(nrs), uncontrolled],
                            [Reason.DECREASE_SIDE_EFFECTS, Reason.HOLD_NO_DATA,
                             Reason.INCREASE_UNCONTROLLED],
                            default=Reason.HOLD_CONTROLLED).astype(np.int64)
        factor = np.select([reduce, uncontrolled], [0.75, 1.0 + self.step], default=1.0)
        dose = therapy.it_mg_per_day * factor
        new = therapy.with_(it_mg_per_day=dose, bolus_mg=dose * self.bolus_fraction)
        return Recommendation(new, reasons, np.full(therapy.n, np.nan)), None


def build(settings: ControllerSettings, max_increase_per_day: float,
          prior_oral_mg_per_day: np.ndarray | None) -> NightAware:
    """The factory IDDS calls: the step is the one the supervisor allows."""
    return NightAware(step=max_increase_per_day)
