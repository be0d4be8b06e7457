"""One converter between the pump's exact `Therapy` (one pump, quantities with units) and the
control layer's `Prescription` (arrays for n patients, float mg/day, mg and min).

- `to_prescription(therapy, oral_mg_per_day, oral_rescue_mg)`: the pump's program as a
  one-patient `Prescription` (the basal as 24 hourly mean rates, shape as multipliers).
- `to_pump_therapy(setting, current)`: what to program for a controller's `Setting`, rounded
  to the safe side: rates and doses DOWN to 1/RESOLUTION mg, lockout UP to whole minutes, flex
  merged to at most MAX_STEPS steps; unchanged parts keep the current exact quantities.
Weekly flex schedules have no one-day form and are refused (`TherapyFormError`).
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
from numpy.typing import NDArray

from idds.control.advice import Setting
from idds.control.prescription import HOURS, Prescription
from idds.errors import IddsError
from idds.pump import Continuous, DemandBolus, Flex, FlexStep, Stopped, Therapy
from idds.units import Quantity

Array = NDArray[np.float64]

#: Programmed rates and doses are rounded DOWN to 1/RESOLUTION (mg/day, mg): never above
#: what the supervisor allowed.
RESOLUTION = 1000
#: Flex shapes closer to flat than this (largest |multiplier - 1|) are programmed continuous.
FLAT = 0.02
#: Flex steps programmed at most (the pump takes 13 a day; one is kept in reserve).
MAX_STEPS = 12
#: Bolus duration programmed when the pump had no patient bolus before, min.
DEFAULT_BOLUS_MINUTES = 10


class TherapyFormError(IddsError):
    """A pump therapy with no one-patient array form (a weekly flex schedule)."""


def is_flat(flex: Array | tuple[float, ...] | list[float]) -> bool:
    """Whether a flex shape is close enough to flat to program as a continuous rate."""
    return bool(max(abs(float(m) - 1.0) for m in flex) <= FLAT)

def hourly_mg(therapy: Therapy) -> Array:
    """Mean basal rate in each hour of the day, mg/day (zeros when stopped)."""
    basal = therapy.basal
    if isinstance(basal, Continuous):
        return np.full(HOURS, float(basal.dose_rate.value_in("mg/day")))
    if isinstance(basal, Flex):
        if len(basal.days) != 1:
            raise TherapyFormError("weekly flex schedules have no one-day form: program a daily "
                                   "schedule")
        minute = np.zeros(1440)
        for start, end, rate in basal.spans():
            minute[start:end] = float(rate.value_in("mg/day"))
        out: Array = minute.reshape(HOURS, 60).mean(axis=1)
        return out
    return np.zeros(HOURS)


def to_prescription(therapy: Therapy, oral_mg_per_day: float, oral_rescue_mg: float
                    ) -> Prescription:
    """The pump's therapy as a one-patient `Prescription` (mg/day, mg, min); the oral
    morphine (mg/day) and oral rescue (mg) come from the clinician."""
    hourly = hourly_mg(therapy)
    daily = float(hourly.mean())
    flex = hourly / daily if daily > 0 else np.ones(HOURS)
    d = therapy.demand
    return Prescription(
        oral_mg_per_day=np.array([oral_mg_per_day]),
        oral_rescue_mg=np.array([oral_rescue_mg]),
        it_mg_per_day=np.array([daily]),
        flex=flex[None, :].astype(np.float64),
        bolus_mg=np.array([float(d.dose.value_in("mg")) if d else 0.0]),
        lockout_min=np.array([float(d.lockout.value_in("min")) if d else 60.0]),
        max_boluses_per_day=np.array([d.max_per_24h if d else 0], dtype=np.int64),
    )


def _down(value: float) -> Fraction:
    """Rounded down to 1/RESOLUTION (never above what was allowed)."""
    return Fraction(math.floor(value * RESOLUTION + 1e-6), RESOLUTION)


def _segments(rates: list[float]) -> list[tuple[int, int, Fraction]]:
    """Hourly rates (mg/day) -> at most MAX_STEPS (start h, end h, rate) segments, merging the
    closest neighbours into the mean of their hours' rates, rounded down once (rounding the
    mean of rounded rates again lost a step at each merge: more than two steps a day)."""
    segs: list[tuple[int, int, Fraction]] = []
    for h, r in enumerate(rates):
        q = _down(r)
        if segs and segs[-1][2] == q:
            segs[-1] = (segs[-1][0], h + 1, q)
        else:
            segs.append((h, h + 1, q))
    while len(segs) > MAX_STEPS:
        i = min(range(len(segs) - 1), key=lambda k: abs(segs[k][2] - segs[k + 1][2]))
        a0, b1 = segs[i][0], segs[i + 1][1]
        segs[i:i + 2] = [(a0, b1, _down(math.fsum(rates[a0:b1]) / (b1 - a0)))]
    return segs


def to_pump_therapy(setting: Setting, current: Therapy) -> Therapy:
    """What to program for an advised `Setting`: rates and doses rounded down (mg), lockout
    rounded up (min); unchanged parts keep the current quantities."""
    if setting == Setting.of(to_prescription(current, 0.0, 0.0), 0):
        return current
    basal: Stopped | Continuous | Flex
    rates = [setting.daily_mg * m for m in setting.flex]
    if setting.daily_mg <= 0:
        basal = Stopped()
    elif is_flat(setting.flex):
        basal = Continuous(Quantity.of(_down(setting.daily_mg), "mg/day"))
    else:
        segs = _segments(rates)
        if len(segs) == 1:
            basal = Continuous(Quantity.of(segs[0][2], "mg/day"))
        else:
            basal = Flex((tuple(FlexStep(a * 60, Quantity.of(r, "mg/day"))
                                for a, _, r in segs),))
    d = current.demand
    demand = None
    if setting.bolus_mg > 0 and setting.max_boluses_per_day >= 1:
        dose = (d.dose if d and abs(float(d.dose.value_in("mg")) - setting.bolus_mg) < 1e-9
                else Quantity.of(_down(setting.bolus_mg), "mg"))
        lockout = (d.lockout if d and abs(float(d.lockout.value_in("min"))
                                             - setting.lockout_min) < 1e-9
                   else Quantity.of(math.ceil(setting.lockout_min - 1e-9), "min"))
        duration = d.duration if d else Quantity.of(DEFAULT_BOLUS_MINUTES, "min")
        demand = DemandBolus(dose, duration, lockout, setting.max_boluses_per_day)
    return Therapy(basal, demand)


