"""Pump arithmetic a clinician programmer does: rates, catheter volume, refill dates.

All exact (Fractions of base units), so boundaries land exactly: a real recall came from a
wrong replace-by date (docs/references.md (security)). Refill planning follows what real
programmers do (docs/references.md (devices)): the refill date is the date the reservoir
reaches the low-reservoir alarm volume, assuming every allowed patient bolus is used.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from typing import TYPE_CHECKING, Any, TypeAlias, overload

from idds.drugs import DrugEntry
from idds.errors import IddsError
from idds.units import Kind, Quantity

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    FloatArray: TypeAlias = NDArray[np.float64]

#: Prometra catheter volume per cm (ref, devices: (110 cm - trimmed length) x 0.0026 mL/cm).
PROMETRA_CATHETER_ML_PER_CM = Quantity.of("0.0026", "mL")
#: Prometra catheter length before trimming, cm (ref, devices).
PROMETRA_CATHETER_FULL_LENGTH_CM = Fraction(110)
#: The largest implant reservoir in ref, devices (SynchroMed II / Prometra II: 20 or 40 mL).
LARGEST_RESERVOIR = Quantity.of(40, "mL")


class ArithmeticInputError(IddsError):
    """An input to a pump calculation is out of range (negative, zero, inconsistent)."""


def _positive(value: Quantity, kind: Kind, what: str) -> Quantity:
    value.require(kind, what)
    if not value.is_positive():
        raise ArithmeticInputError(f"{what} must be above zero, not {value}")
    return value


def rate_from_dose(daily_dose: Quantity, concentration: Quantity) -> Quantity:
    """Flow (shown in mL/day) that delivers `daily_dose` of a drug at `concentration`."""
    dose = _positive(daily_dose, Kind.DOSE_RATE, "dose")
    strength = _positive(concentration, Kind.CONCENTRATION, "concentration")
    return (dose / strength).to("mL/day")


def dose_from_rate(flow: Quantity, concentration: Quantity, unit: str = "mg/day") -> Quantity:
    """Daily dose (shown in `unit`) delivered by `flow` of drug at `concentration`."""
    rate = _positive(flow, Kind.FLOW, "rate")
    strength = _positive(concentration, Kind.CONCENTRATION, "concentration")
    return (rate * strength).to(unit)


def catheter_volume(
    length_cm: Fraction, volume_per_cm: Quantity = PROMETRA_CATHETER_ML_PER_CM
) -> Quantity:
    """Internal (dead) volume of a catheter `length_cm` long, shown in mL."""
    if length_cm <= 0:
        raise ArithmeticInputError(f"catheter length must be above zero, not {length_cm} cm")
    per_cm = _positive(volume_per_cm, Kind.VOLUME, "volume per cm")
    return (per_cm * length_cm).to("mL")


@overload
def time_to_alarm(volume: Quantity, alarm_volume: Quantity, use_rate: Quantity) -> Quantity: ...
@overload
def time_to_alarm(volume: Fraction | int, alarm_volume: Fraction | int, use_rate: Fraction) -> (
    Fraction
): ...
@overload
def time_to_alarm(volume: FloatArray, alarm_volume: float, use_rate: FloatArray) -> FloatArray:
    ...
def time_to_alarm(volume: Any, alarm_volume: Any, use_rate: Any) -> Any:
    """The refill rule (ref, devices, Prometra; the next refill date): the time until the
    reservoir `volume` falls to the low-reservoir `alarm_volume` at `use_rate` = basal flow plus
    every allowed patient bolus, (volume - alarm volume) / use rate. The one formula: the
    programmer's `plan_refill` (Quantities), the firmware's `idds.pump.rules.refill_due_in`
    (exact nL and nL/s) and the pump twin (float mL and mL/day, elementwise) call it. The
    caller decides what no use (rate 0) means."""
    return (volume - alarm_volume) / use_rate


@dataclass(frozen=True)
class RefillPlan:
    """When the reservoir reaches its low-reservoir alarm volume, and when it runs empty."""

    start: date
    usable_volume: Quantity
    basal_flow: Quantity
    bolus_flow: Quantity
    total_flow: Quantity
    days_to_alarm: Fraction
    alarm_date: date
    days_to_empty: Fraction
    empty_date: date


def _date_after(start: date, days: Fraction) -> date:
    """The calendar day on which `days` (from the start of `start`) have passed: floor, so
    the date is never later than the event (the conservative side for a refill)."""
    return start + timedelta(days=math.floor(days))


def plan_refill(
    volume: Quantity,
    alarm_volume: Quantity,
    concentration: Quantity,
    daily_dose: Quantity,
    start: date,
    bolus: Quantity | None = None,
    max_boluses_per_day: int = 0,
    reservoir_capacity: Quantity = LARGEST_RESERVOIR,
) -> RefillPlan:
    """Refill planning, assuming every allowed patient bolus is used every day."""
    _positive(volume, Kind.VOLUME, "reservoir volume")
    _positive(reservoir_capacity, Kind.VOLUME, "reservoir capacity")
    if volume > reservoir_capacity:
        raise ArithmeticInputError(
            f"reservoir volume {volume} is more than the reservoir holds ({reservoir_capacity})"
        )
    alarm_volume.require(Kind.VOLUME, "alarm volume")
    if alarm_volume.base < 0:
        raise ArithmeticInputError(f"alarm volume must not be negative, not {alarm_volume}")
    if alarm_volume > volume:
        raise ArithmeticInputError(
            f"alarm volume {alarm_volume} is above the reservoir volume {volume}: the pump "
            "would alarm at once"
        )
    if (bolus is None) != (max_boluses_per_day == 0):
        raise ArithmeticInputError(
            "give both a bolus dose and a maximum number of boluses per day, or neither"
        )
    if max_boluses_per_day < 0:
        raise ArithmeticInputError(
            f"maximum boluses per day must not be negative, not {max_boluses_per_day}"
        )
    basal = rate_from_dose(daily_dose, concentration)
    bolus_flow = Quantity.of(0, "mL/day")
    if bolus is not None:
        _positive(bolus, Kind.MASS, "bolus dose")
        per_day = Quantity.of(1, "day")
        bolus_flow = ((bolus * max_boluses_per_day) / concentration / per_day).to("mL/day")
    total = (basal + bolus_flow).to("mL/day")
    usable = (volume - alarm_volume).to("mL")
    days_to_alarm = time_to_alarm(volume, alarm_volume, total).value_in("day")
    days_to_empty = time_to_alarm(volume, Quantity.of(0, "mL"), total).value_in("day")
    return RefillPlan(
        start=start,
        usable_volume=usable,
        basal_flow=basal,
        bolus_flow=bolus_flow,
        total_flow=total,
        days_to_alarm=days_to_alarm,
        alarm_date=_date_after(start, days_to_alarm),
        days_to_empty=days_to_empty,
        empty_date=_date_after(start, days_to_empty),
    )


@dataclass(frozen=True)
class RefillDue:
    """When to refill, and why: the low-reservoir alarm date, or earlier when the drug's
    stability in the reservoir ends first."""

    date: date
    reason: str


def refill_due(plan: RefillPlan, max_interval: Quantity | None, why: str) -> RefillDue:
    """The earlier date of the plan's alarm and `max_interval` (a time, from the drug
    library's `max_refill_interval`) after the refill, both rounded down to the day; `why`
    names that limit and its source. On the same date, the alarm is the reason."""
    if max_interval is not None:
        days = max_interval.require(Kind.TIME, "maximum refill interval").value_in("day")
        stable_until = _date_after(plan.start, days)
        if stable_until < plan.alarm_date:
            return RefillDue(stable_until, f"at most {float(days):g} days: {why}")
    return RefillDue(plan.alarm_date, "the low-reservoir alarm")


def refill_due_for(plan: RefillPlan, drug: DrugEntry | None) -> RefillDue:
    """`refill_due` with the drug library's `max_refill_interval` of `drug` (None: no drug
    named, the alarm date alone)."""
    limit = None if drug is None else drug.max_refill_interval
    if drug is None or limit is None:
        return refill_due(plan, None, "")
    return refill_due(plan, limit.value,
                      f"{drug.name} stability in the reservoir ({limit.source})")

