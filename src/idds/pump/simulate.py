"""Run one pump alone from a program file with scripted patient presses.

Used by `idds pump simulate` and the demo. Times are s since the epoch; day d (1-based) starts
at (d - 1) x 86400 s.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from idds.pump.clock import DAY, format_time
from idds.pump.convert import NG_PER_MG
from idds.pump.errors import PumpError, Refusal
from idds.pump.firmware import Pump
from idds.pump.log import EventKind
from idds.pump.programfile import ProgramFile


class RunError(PumpError):
    """A simulation request that cannot run (bad press time, bad length)."""


@dataclass(frozen=True)
class PressOutcome:
    """A patient press: given or refused, and why."""

    time: Fraction
    given: bool
    reason: str


@dataclass(frozen=True)
class AlarmRecord:
    """An alarm raised during the run."""

    time: Fraction
    kind: str
    priority: str


@dataclass(frozen=True)
class SimulationResult:
    """Per-day delivered drug (mg, out of the catheter tip), presses, alarms and the pump."""

    delivered_mg_per_day: tuple[float, ...]
    presses: tuple[PressOutcome, ...]
    alarms: tuple[AlarmRecord, ...]
    pump: Pump


def setup_pump(program: ProgramFile, seed: int) -> Pump:
    """Implant, fill, prime (if asked) and program a pump from a program file, at t = 0."""
    pump = Pump.implant(program.spec, seed=seed, epoch_weekday=program.epoch_weekday)
    pump.refill(program.fill, program.drug, program.entered)
    if program.low_reservoir_alarm is not None:
        pump.set_low_reservoir_alarm(program.low_reservoir_alarm)
    if program.prime:
        pump.priming_bolus()
    pump.set_therapy(program.therapy)
    return pump


def simulate(program: ProgramFile, days: int, presses: Sequence[Fraction],
             seed: int = 0) -> SimulationResult:
    """Run `days` days, pressing the patient bolus button at each time in `presses` (s)."""
    if days < 1:
        raise RunError(f"--days must be at least 1, not {days}")
    end = days * DAY
    for t in presses:
        if not 0 <= t < end:
            raise RunError(f"press at {format_time(t)} is outside the {days}-day run")
    pump = setup_pump(program, seed)
    outcomes: list[PressOutcome] = []
    delivered: list[float] = []
    queue = sorted(presses)
    last_mass = pump.hardware.delivered_ng
    for day in range(1, days + 1):
        while queue and queue[0] < day * DAY:
            t = queue.pop(0)
            pump.advance(t)
            try:
                pump.patient_bolus()
                outcomes.append(PressOutcome(t, True, ""))
            except Refusal as refusal:
                outcomes.append(PressOutcome(t, False, refusal.message))
        pump.advance(day * DAY)
        delivered.append(float((pump.hardware.delivered_ng - last_mass) / NG_PER_MG))
        last_mass = pump.hardware.delivered_ng
    alarms = tuple(
        AlarmRecord(e.time, e.detail("alarm") or "", e.detail("priority") or "")
        for e in pump.log.entries if e.kind is EventKind.ALARM_RAISED
    )
    return SimulationResult(tuple(delivered), tuple(outcomes), alarms, pump)
