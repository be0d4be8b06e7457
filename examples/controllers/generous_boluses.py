"""A sensitivity check as a plug-in: the daily treat-to-target clinician (`it-daily-target`)
with the most generous patient boluses the clinician's bounds allow.

Issue 20 asks whether shaping the patient bolus (dose per bolus, lockout, daily maximum) is
the lever left for time in target. This arm is `idds.control.target.DailyTargetController`
unchanged for the basal dose, with every decision setting the lockout to the bounds'
shortest (`ClinicianBounds.min_lockout_min`, 60 min by default), the boluses a day to the
bounds' most (`max_boluses_per_day`, 6) and, when the dose is raised, the bolus to 20% of
the daily dose (the built-in controllers: 10%). If generous boluses bought time in target,
this arm would show it against `it-daily-target`:

    idds trial --patients 400 --days 90 --workers 2 --batch-size 200 --seed 0 \
        --arms it-daily-target,controller:examples/controllers/generous_boluses.py:build

Everything it proposes passes the same safety supervisor as the built-in controllers.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from idds.control.observations import Observations
from idds.control.prescription import Prescription
from idds.control.recommendation import Recommendation
from idds.control.registry import ControllerSettings
from idds.control.target import TREAT_TO_TARGET, DailyTargetController, TargetState

#: Share of the daily dose a bolus follows when the dose is raised (the built-ins: 0.1).
BOLUS_FRACTION = 0.2


@dataclass(frozen=True)
class GenerousBoluses:
    """`DailyTargetController` for the basal dose; lockout (min) and boluses a day set to the
    clinician's bounds at every decision."""

    daily: DailyTargetController
    lockout_min: float
    max_boluses_per_day: int
    name: str = "generous-boluses"

    def initial(self, therapy: Prescription) -> TargetState:
        return self.daily.initial(therapy)

    def recommend(self, state: TargetState, obs: Observations, therapy: Prescription
                  ) -> tuple[Recommendation, TargetState]:
        rec, state = self.daily.recommend(state, obs, therapy)
        generous = rec.therapy.with_(
            lockout_min=np.full(therapy.n, self.lockout_min),
            max_boluses_per_day=np.full(therapy.n, self.max_boluses_per_day, dtype=np.int64))
        return replace(rec, therapy=generous), state


def build(settings: ControllerSettings, max_increase_per_day: float,
          prior_oral_mg_per_day: np.ndarray | None) -> GenerousBoluses:
    """The factory IDDS calls: the step is the one the supervisor allows."""
    bounds, interval = settings.bounds, settings.library.min_hours_between_increases
    daily = DailyTargetController(
        titration=replace(TREAT_TO_TARGET, increase=max_increase_per_day),
        min_hours_between_increases=0.0 if interval is None else interval.value,
        bolus_fraction=BOLUS_FRACTION, max_bolus_mg=bounds.max_bolus_mg,
        max_boluses_per_day=bounds.max_boluses_per_day, min_daily_mg=bounds.min_daily_mg)
    return GenerousBoluses(daily, bounds.min_lockout_min, bounds.max_boluses_per_day)
