"""What the supervisor's stages share (`idds.control.stages`): the round-off tolerance, the
interlock latch of the day, the context every stage reads, and flagging a `Check`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from idds.control.bounds import ClinicianBounds, LibraryLimits
from idds.control.checks import Check
from idds.control.interlock import Level, assess
from idds.control.observations import Observations
from idds.control.prescription import Prescription

Array = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

#: Relative tolerance below which a change is not counted as one (float round-off).
EPS = 1e-9


@dataclass(frozen=True)
class Latch:
    """Today's interlock outcome and the alarm latch, arrays (n,).

    level: today's `Level`. new_alarm: an alarm or critical reading today. latched: the latched
    `Level` after today; is_latched: latched at ALARM or above. cap_mg: basal cap while latched,
    mg/day (inf: none; 0 where the cap is below the lowest deliverable rate: stopped).
    pre_alarm_mg: basal dose when the alarm latched, mg/day.
    """

    level: IntArray
    new_alarm: BoolArray
    latched: IntArray
    is_latched: BoolArray
    cap_mg: Array
    pre_alarm_mg: Array


def latch(latched: IntArray, alarm_cap_mg: Array, pre_alarm_mg: Array, obs: Observations,
          current: Prescription, bounds: ClinicianBounds) -> Latch:
    """The interlock on yesterday's readings and the latch carried from before (`latched`,
    `alarm_cap_mg`, `pre_alarm_mg` as in `SupervisorState`). An alarm keeps
    `alarm_dose_fraction` of the current basal dose, a critical reading
    `critical_dose_fraction` (Pasero 2009, `InterlockLimits`)."""
    cur_basal = current.it_mg_per_day.astype(np.float64)
    level = assess(obs, bounds.interlock).level
    new_alarm = level >= Level.ALARM
    fraction = np.where(level >= Level.CRITICAL, bounds.interlock.critical_dose_fraction,
                        bounds.interlock.alarm_dose_fraction)
    was_latched = latched >= Level.ALARM
    cap = np.where(new_alarm, np.minimum(alarm_cap_mg, cur_basal * fraction), alarm_cap_mg)
    now_latched = np.where(new_alarm, np.maximum(latched, level), latched).astype(np.int64)
    pre_alarm = np.where(new_alarm & ~was_latched, cur_basal, pre_alarm_mg)
    cap = np.where(cap < bounds.min_rate_mg_per_day, 0.0, cap)
    return Latch(level=level, new_alarm=new_alarm, latched=now_latched,
                 is_latched=now_latched >= Level.ALARM, cap_mg=cap, pre_alarm_mg=pre_alarm)


@dataclass(frozen=True)
class Context:
    """What every stage may read: the current therapy, the day's observations, the limits, the
    latch, and from the supervisor's memory the day of the last increase per patient (days,
    -inf: none), the ring of delivered basal doses of the last days ((WEEK, n), mg/day) and
    the ring of the diary means seen on those days ((WEEK, n), NRS; None: not remembered)."""

    current: Prescription
    obs: Observations
    bounds: ClinicianBounds
    library: LibraryLimits
    latch: Latch
    last_increase_day: Array
    recent_daily_mg: Array
    recent_diary_nrs: Array | None = None

    @property
    def current_basal(self) -> Array:
        """The current basal dose, mg/day."""
        out: Array = self.current.it_mg_per_day.astype(np.float64)
        return out

    @property
    def current_allowance(self) -> Array:
        """The current bolus allowance (bolus x boluses per day), mg/day."""
        out: Array = self.current.bolus_mg * self.current.max_boluses_per_day
        return out




def _flag(checks: IntArray, mask: BoolArray, flag: Check | int) -> IntArray:
    """`checks` with `flag` set where `mask` (a new array)."""
    out: IntArray = checks | np.where(mask, int(flag), 0)
    return out
