"""The pump's rules, each one small pure function (no clock, no state, no I/O).

The firmware (`idds.pump.firmware`) calls these and nothing else decides the same question; the
vectorised pump twin (`idds.pump.twin`) calls the same functions on arrays where they are
written for both (`lockout_ends_at`, `in_window`, `outside`, `above_max_flow`) and mirrors the
others one by one (docs/design.md principle 2). Units:
volumes nL, flows nL/s, times s since the epoch, masses ng, concentrations ng/nL (= mg/mL).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from itertools import pairwise
from typing import TYPE_CHECKING, Any, TypeAlias, overload

from idds.dosing import PROMETRA_CATHETER_FULL_LENGTH_CM, catheter_volume, time_to_alarm
from idds.pump.clock import DAY, MINUTE
from idds.pump.convert import (
    NG_PER_MG,
    NL_PER_ML,
    flow_nl_per_s,
    flow_q,
    mass_ng,
    seconds,
    volume_nl,
    volume_q,
)
from idds.pump.errors import Limit
from idds.pump.limits import DeviceLimits
from idds.pump.program import Basal, Continuous, Flex, FlexStep, MinimumRate, Stopped, Therapy
from idds.units import Quantity

#: Labelled flow accuracy, +/-14.5% (ref, devices, SynchroMed II, unconfirmed).
LABELLED_ACCURACY = 0.145
#: Per-stroke volume noise, SD 2% clipped at +/-6% (*assumption*: not in ref, devices).
STROKE_NOISE_SD = 0.02
STROKE_NOISE_CLIP = 0.06
#: Largest relative over-delivery of any stroke: systematic and noise together.
FLOW_ERROR_BOUND = (1 + LABELLED_ACCURACY) * (1 + STROKE_NOISE_CLIP) - 1
#: Refill check: flag a withdrawn volume that differs from the expected one by more than
#: max(1 mL, labelled accuracy x volume pumped since the last fill) (*assumption*; ref, devices:
#: "expected-versus-withdrawn volume mismatch is the warning sign").
REFILL_MISMATCH_FLOOR_NL = 1 * NL_PER_ML

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    FloatArray: TypeAlias = NDArray[np.float64]
    IntArray: TypeAlias = NDArray[np.int64]
    BoolArray: TypeAlias = NDArray[np.bool_]

#: A range bound: exact (the firmware) or float (the pump twin).
Bound: TypeAlias = Fraction | float


def flex_step_at(days: Sequence[Sequence[FlexStep]], weekday: int, second: Fraction) -> FlexStep:
    """The flex step in force at `second` after midnight on `weekday` (0 = Monday).

    `days` holds one day (used every day) or seven (Monday first); each day's steps start at
    increasing minutes, the first at 00:00.
    """
    day = days[weekday % len(days)]
    minute = second / MINUTE
    current = day[0]
    for step in day:
        if step.start_minute <= minute:
            current = step
        else:
            break
    return current


def next_flex_boundary(days: Sequence[Sequence[FlexStep]], weekday: int, second: Fraction) -> (
    Fraction
):
    """Seconds after `second` (within the day) until the next step start or midnight (> 0)."""
    day = days[weekday % len(days)]
    for step in day:
        start = step.start_minute * MINUTE
        if start > second:
            return start - second
    return DAY - second


def basal_flow(basal: Basal, concentration: Fraction, weekday: int, second: Fraction,
               min_flow: Fraction) -> Fraction:
    """Basal flow (nL/s) at a time of day: dose rate (ng/s) / concentration (ng/nL).

    `min_flow` is the device minimum flow, used by the minimum-rate mode.
    """
    if isinstance(basal, Stopped):
        return Fraction(0)
    if isinstance(basal, MinimumRate):
        return min_flow
    if isinstance(basal, Continuous):
        dose = basal.dose_rate
    else:
        dose = flex_step_at(basal.days, weekday, second).dose_rate
    return dose.value_in("mg/day") * NG_PER_MG / DAY / concentration


def max_basal_flow(basal: Basal, concentration: Fraction, min_flow: Fraction) -> Fraction:
    """The largest basal flow (nL/s) the program ever asks for."""
    if isinstance(basal, Flex):
        return max(
            basal_flow(Continuous(s.dose_rate), concentration, 0, Fraction(0), min_flow)
            for day in basal.days
            for s in day
        )
    return basal_flow(basal, concentration, 0, Fraction(0), min_flow)


def flex_schedule_problem(days: Sequence[Sequence[FlexStep]], max_steps: int) -> str | None:
    """Why a flex schedule is malformed, or None if it is fine."""
    if len(days) not in (1, 7):
        return f"a flex schedule has 1 day (every day) or 7 (Mon-Sun), not {len(days)}"
    for index, day in enumerate(days):
        if not 1 <= len(day) <= max_steps:
            return f"flex day {index + 1} has {len(day)} steps; allowed 1 to {max_steps}"
        if day[0].start_minute != 0:
            return f"flex day {index + 1} must start with a step at 00:00"
        starts = [s.start_minute for s in day]
        if any(b <= a for a, b in pairwise(starts)) or starts[-1] >= 1440:
            return f"flex day {index + 1} step starts must increase within 00:00-23:59"
    return None


@dataclass(frozen=True)
class ProgramRanges:
    """The closed device ranges `Pump.set_therapy` checks a program against (source:
    `idds.pump.limits.DeviceLimits`), in one unit system: the firmware's (`firmware_ranges`:
    nL/s, nL, s) or the pump twin's (float mL/day, mL, min)."""

    flow: tuple[Bound, Bound]
    bolus_volume: tuple[Bound, Bound]
    bolus_duration: tuple[Bound, Bound]
    lockout: tuple[Bound, Bound]
    max_per_24h: tuple[int, int]


@cache
def firmware_ranges(limits: DeviceLimits) -> ProgramRanges:
    """The device ranges in the firmware's exact units: flows nL/s, volumes nL, times s
    (computed once per set of limits: `DeviceLimits` is frozen)."""
    return ProgramRanges(
        flow=(limits.min_flow, limits.max_flow),
        bolus_volume=(Fraction(limits.min_bolus_nl), Fraction(limits.max_bolus_nl)),
        bolus_duration=(limits.min_bolus_duration_s, limits.max_bolus_duration_s),
        lockout=(limits.min_lockout_s, limits.max_lockout_s),
        max_per_24h=(1, limits.max_demand_per_24h),
    )


@overload
def outside(value: Fraction | int, bounds: tuple[Bound, Bound]) -> bool: ...
@overload
def outside(value: FloatArray | IntArray, bounds: tuple[Bound, Bound]) -> BoolArray: ...
def outside(value: Any, bounds: tuple[Bound, Bound]) -> Any:
    """Whether `value` lies outside the closed range `bounds` = (low, high): the range rule of
    every `Pump.set_therapy` check (refuse, do not clamp; docs/design.md principle 5).
    Elementwise on arrays, for the pump twin."""
    low, high = bounds
    return (value < low) | (value > high)


def flow_range_problem(flow: Quantity, limits: DeviceLimits) -> str | None:
    """Why a pump rate (a flow Quantity) cannot be programmed: outside the device flow range
    (`firmware_ranges(limits).flow`, the range `Pump.set_therapy` refuses outside); None when
    it can. For the calculators and the programmer's plans, before anything reaches a pump."""
    bounds = firmware_ranges(limits).flow
    if not outside(flow_nl_per_s(flow), bounds):
        return None
    low, high = (Fraction(b) for b in bounds)
    return (f"{flow.display('mL/day')}, outside the device flow range {flow_q(low)} to "
            f"{flow_q(high)}")


def therapy_problem(therapy: Therapy, concentration: Fraction, drug_text: str,
                    limits: DeviceLimits) -> tuple[Limit, str] | None:
    """The first device range a therapy breaks, as (limit, reason), or None: the flex
    schedule's shape, every basal rate against the flow range, and the patient bolus (volume,
    duration, lockout, boluses per 24 h, bolus on top of the peak basal). `concentration` in
    ng/nL (mg/mL). The one home of these checks: `Pump.set_therapy` refuses by it, and the
    programmer runs it before the Finish screen."""
    basal, ranges = therapy.basal, firmware_ranges(limits)
    if isinstance(basal, Flex):
        problem = flex_schedule_problem(basal.days, limits.max_flex_steps)
        if problem:
            return Limit.FLEX_STEPS, problem
    for dose in basal.rates():
        flow = basal_flow(Continuous(dose), concentration, 0, Fraction(0), limits.min_flow)
        if outside(flow, ranges.flow):
            return Limit.FLOW_RANGE, (
                f"{dose} at {drug_text} is {flow_q(flow).display()}: outside the device flow "
                f"range {flow_q(limits.min_flow)} to {flow_q(limits.max_flow)}")
    demand = therapy.demand
    if demand is None:
        return None
    volume = mass_ng(demand.dose, "patient bolus dose") / concentration
    duration = seconds(demand.duration, "patient bolus duration")
    if outside(volume, ranges.bolus_volume):
        return Limit.BOLUS_VOLUME, (
            f"patient bolus {demand.dose} is {volume_q(volume).display()}: outside "
            f"{volume_q(limits.min_bolus_nl)} to {volume_q(limits.max_bolus_nl)}")
    if outside(duration, ranges.bolus_duration):
        return Limit.BOLUS_DURATION, (
            f"patient bolus duration {demand.duration} outside 1 min to 24 h")
    if outside(seconds(demand.lockout, "patient bolus lockout"), ranges.lockout):
        return Limit.LOCKOUT_RANGE, f"lockout {demand.lockout} outside 10 min to 24 h"
    if outside(demand.max_per_24h, ranges.max_per_24h):
        return Limit.MAX_PER_24H_RANGE, (
            f"maximum {demand.max_per_24h} boluses per 24 h outside 1 to "
            f"{limits.max_demand_per_24h}")
    peak = max_basal_flow(basal, concentration, limits.min_flow)
    if above_max_flow(peak, volume / duration, limits.max_flow):
        return Limit.BOLUS_FLOW, (
            f"patient bolus on top of basal reaches {flow_q(peak + volume / duration).display()}"
            f": above the device maximum {flow_q(limits.max_flow)}")
    return None


@overload
def above_max_flow(peak_basal_flow: Fraction, bolus_flow: Fraction, max_flow: Fraction) -> bool:
    ...
@overload
def above_max_flow(peak_basal_flow: FloatArray, bolus_flow: FloatArray, max_flow: float) -> (
    BoolArray
): ...
def above_max_flow(peak_basal_flow: Any, bolus_flow: Any, max_flow: Any) -> Any:
    """Whether a patient bolus on top of the highest basal flow exceeds the device maximum
    flow (`Pump.set_therapy`'s bolus flow rule; any one flow unit, elementwise on arrays)."""
    return peak_basal_flow + bolus_flow > max_flow


def stroke_volume_nl(nominal_nl: int, systematic: float, noise: float) -> int:
    """Actual volume of one stroke (nL, >= 0): nominal x (1 + systematic) x (1 + noise).

    `systematic` is the pump's own flow error (within +/-14.5%, ref, devices), `noise` the
    per-stroke error (clipped to +/-6%). Never negative: no reverse delivery.
    """
    clipped = min(max(noise, -STROKE_NOISE_CLIP), STROKE_NOISE_CLIP)
    return max(0, round(nominal_nl * (1.0 + systematic) * (1.0 + clipped)))


def next_stroke_at(now: Fraction, pending_nl: Fraction, stroke_nl: int, flow: Fraction) -> (
    Fraction | None
):
    """When the commanded volume reaches one stroke (s), given `pending_nl` already commanded
    since the last stroke and a constant `flow` (nL/s); None if nothing flows."""
    if flow <= 0:
        return None
    if pending_nl >= stroke_nl:
        return now
    return now + (stroke_nl - pending_nl) / flow


@overload
def lockout_ends_at(last_start: Fraction, lockout_s: Fraction) -> Fraction: ...
@overload
def lockout_ends_at(last_start: Fraction | None, lockout_s: Fraction) -> Fraction | None: ...
@overload
def lockout_ends_at(last_start: FloatArray, lockout_s: FloatArray) -> FloatArray: ...
def lockout_ends_at(last_start: Any, lockout_s: Any) -> Any:
    """End of the patient-bolus lockout: start of the last given bolus + lockout (s; any one
    time unit). The one lockout rule: the firmware calls it on exact seconds, the pump twin
    (`idds.pump.twin`) on arrays of minutes (-inf: no bolus yet, so no lockout)."""
    return None if last_start is None else last_start + lockout_s


@overload
def in_window(start: Fraction, now: Fraction, window_s: Fraction) -> bool: ...
@overload
def in_window(start: FloatArray, now: float, window_s: float) -> BoolArray: ...
def in_window(start: Any, now: Any, window_s: Any) -> Any:
    """Whether a bolus started at `start` is in the rolling window (now - window, now] (any
    one time unit; elementwise on arrays, for the pump twin)."""
    return (start > now - window_s) & (start <= now)


def boluses_in_window(starts: Sequence[Fraction], now: Fraction, window_s: Fraction) -> int:
    """Patient boluses given in the rolling window (now - window, now] (`in_window`)."""
    return sum(1 for s in starts if in_window(s, now, window_s))


def lockout_left(lockout_until: Fraction | None, now: Fraction) -> Fraction:
    """Seconds of lockout still to run at `now` (0 when none): `lockout_ends_at` of the last
    given bolus, less the time since."""
    return Fraction(0) if lockout_until is None else max(Fraction(0), lockout_until - now)


def demand_refusal(starts: Sequence[Fraction], now: Fraction, lockout_s: Fraction,
                   max_per_window: int, window_s: Fraction) -> Limit | None:
    """Whether a patient bolus requested at `now` must be refused by lockout or daily maximum.

    `starts` are the start times of the given patient boluses (oldest first).
    """
    last = starts[-1] if starts else None
    ends = lockout_ends_at(last, lockout_s)
    if ends is not None and now < ends:
        return Limit.LOCKOUT_ACTIVE
    if boluses_in_window(starts, now, window_s) >= max_per_window:
        return Limit.MAX_PER_24H_REACHED
    return None


def catheter_volume_nl(trimmed_cm: Fraction) -> Fraction:
    """Prometra catheter dead volume: (110 cm - trimmed) x 0.0026 mL/cm (ref, devices), nL.

    The formula is the programmer's calculator's (`idds.dosing.catheter_volume`): one truth."""
    length = PROMETRA_CATHETER_FULL_LENGTH_CM - trimmed_cm
    return volume_nl(catheter_volume(length))


def refill_mismatch(expected_nl: int, withdrawn_nl: int, pumped_since_fill_nl: int) -> bool:
    """True when the withdrawn volume differs from the pump's expected volume by more than
    max(1 mL, labelled accuracy x volume pumped since the last fill)."""
    tolerance = max(REFILL_MISMATCH_FLOOR_NL, LABELLED_ACCURACY * pumped_since_fill_nl)
    return abs(withdrawn_nl - expected_nl) > tolerance


def seconds_to_volume(estimate_nl: int, target_nl: int, flow: Fraction) -> Fraction | None:
    """Seconds until the estimated reservoir falls to `target_nl` at `flow` nL/s (None if no
    flow); 0 if already there. The formula is `idds.dosing.time_to_alarm` (one refill rule)."""
    if estimate_nl <= target_nl:
        return Fraction(0)
    if flow <= 0:
        return None
    return time_to_alarm(estimate_nl, target_nl, flow)


def mean_basal_flow(basal: Basal, concentration: Fraction, min_flow: Fraction) -> Fraction:
    """Average basal flow (nL/s) over a day (a week for a weekly flex schedule)."""
    if not isinstance(basal, Flex):
        return basal_flow(basal, concentration, 0, Fraction(0), min_flow)
    return basal_flow(Continuous(basal.mean_dose_rate()), concentration, 0, Fraction(0),
                      min_flow)


def refill_due_in(estimate_nl: int, alarm_nl: int, mean_flow: Fraction,
                  demand_nl_per_day: Fraction) -> Fraction | None:
    """Seconds until the estimated reservoir reaches the low-reservoir alarm volume, assuming
    every allowed patient bolus is used (the Prometra convention, ref, devices); None if nothing
    flows."""
    return seconds_to_volume(estimate_nl, alarm_nl, mean_flow + demand_nl_per_day / DAY)
