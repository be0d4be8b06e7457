"""The pump as a clock-driven machine: state, hardware, the event loop, alarms, the log.

`PumpMachine.advance(to=t)` processes every event in time order, each exactly at its own
instant (strokes, end of a bolus, end of a lockout, flex steps, the estimated reservoir crossing
the alarm volume or reaching empty, the actual reservoir running dry, battery ERI/EOS, motor
stall and restart), so one big step and many small ones give identical results. The commands a
programmer or a patient gives are `idds.pump.firmware.Pump`, built on this machine; a refused
command raises `Refusal` naming the limit and changes nothing but one log entry (`_refuse`).

Delivery model: the commanded volume (integral of the programmed flow) accumulates; each time it
reaches one nominal stroke the pump makes a stroke. The firmware's reservoir estimate falls by
the nominal stroke; the actual reservoir by the actual stroke (systematic error x per-stroke
noise, `rules.stroke_volume_nl`). The pump never measures the reservoir (ref, devices).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import replace
from fractions import Fraction
from typing import NoReturn, Self

import numpy as np

from idds.pump import rules
from idds.pump.alarms import ALARM_SPECS, ActiveAlarm, AlarmKind
from idds.pump.clock import DAY, as_time, second_of_day, weekday
from idds.pump.commands import Command
from idds.pump.convert import conc_ng_per_nl, volume_q
from idds.pump.errors import Limit, Refusal
from idds.pump.hardware import (
    EOS_AFTER_ERI_S,
    STALL_RESTART_MAX_S,
    STALL_RESTART_MIN_S,
    Hardware,
    HardwareSpec,
    draw_systematic_error,
)
from idds.pump.limits import LIMITS, DeviceLimits
from idds.pump.log import EventKind, EventLog
from idds.pump.program import Flex
from idds.pump.state import MotorCause, PrimeReason, PumpState

TimeLike = int | Fraction


def simulation_log_key(seed: int | None) -> bytes:
    """The log key of a simulated pump: SHA-256 of a label and the seed (not secret)."""
    return hashlib.sha256(f"idds-log-v2 simulation key|{seed}".encode()).digest()


class PumpMachine:
    """One implanted pump's machine (state + hardware + log); the commands are `Pump`."""

    def __init__(self, spec: HardwareSpec, limits: DeviceLimits, state: PumpState,
                 hardware: Hardware, rng: np.random.Generator, log: EventLog) -> None:
        self.spec = spec
        self.limits = limits
        self.state = state
        self.hardware = hardware
        self.rng = rng
        self.log = log

    @classmethod
    def implant(cls, spec: HardwareSpec | None = None, *, seed: int | None = 0,
                rng: np.random.Generator | None = None, start: TimeLike = 0,
                epoch_weekday: int = 0, limits: DeviceLimits = LIMITS,
                log_key: bytes | None = None) -> Self:
        """A new pump at time `start` (s): empty reservoir, no drug, stopped, catheter full of
        drug-free fluid. Random draws come from `rng` (or a Generator seeded with `seed`).
        The event log is chained under `log_key` (32 bytes): the emulator passes its secure
        element's, made with `secrets`. Without one (a simulation, which has no secure
        element and no attacker) the key is derived from the seed (`simulation_log_key`), so
        a run stays reproducible byte for byte; it is kept in the pump's whole non-volatile
        image (`idds.pump.snapshot`) and protects nothing against someone holding it."""
        spec = spec or HardwareSpec()
        gen = rng if rng is not None else np.random.default_rng(seed)
        systematic = (spec.systematic_error if spec.systematic_error is not None
                      else draw_systematic_error(gen))
        state = PumpState(now=as_time(start), epoch_weekday=epoch_weekday % 7,
                          systematic_error=systematic, dead_volume_nl=spec.dead_volume_nl,
                          low_reservoir_nl=limits.default_low_reservoir_nl,
                          prime_due=PrimeReason.IMPLANT)
        hardware = Hardware()
        hardware.install_catheter(spec.dead_volume_nl)
        key = log_key if log_key is not None else simulation_log_key(seed)
        pump = cls(spec, limits, state, hardware, gen, EventLog(key=key))
        state.next_stall_at = pump._draw_next_stall()
        pump._log(EventKind.CREATED, reservoir=volume_q(spec.reservoir_nl),
                  stroke=volume_q(spec.stroke_nl), dead_volume=volume_q(spec.dead_volume_nl),
                  systematic_error=f"{systematic:+.4f}")
        return pump

    # ---------------------------------------------------------------- reading
    @property
    def now(self) -> Fraction:
        return self.state.now

    @property
    def concentration(self) -> Fraction:
        """ng/nL of the drug in the reservoir (0 with no drug)."""
        return conc_ng_per_nl(self.state.drug.concentration) if self.state.drug else Fraction(0)

    def alarm_active(self, kind: AlarmKind) -> bool:
        return self.state.alarm(kind) is not None

    def critical_alarm(self) -> AlarmKind | None:
        for a in self.state.alarms:
            if a.spec.critical:
                return a.kind
        return None

    def can_infuse(self) -> bool:
        """Whether the pump would move fluid now (motor free, no stopping alarm, drug in)."""
        s = self.state
        if s.drug is None or s.eos or s.stalled:
            return False
        return not any(a.spec.stops_infusion for a in s.alarms)

    def basal_flow(self) -> Fraction:
        """Programmed basal flow now (nL/s), whether or not it is running."""
        s = self.state
        if s.drug is None or not s.confirmed:
            return Fraction(0)
        return rules.basal_flow(s.therapy.basal, self.concentration,
                                weekday(s.now, s.epoch_weekday), second_of_day(s.now),
                                self.limits.min_flow)

    def flow(self) -> Fraction:
        """Commanded flow now (nL/s): basal (unless a bolus replaces it) plus bolus."""
        if not self.can_infuse():
            return Fraction(0)
        bolus = self.state.bolus
        total = Fraction(0)
        if bolus is None or not bolus.kind.replaces_basal:
            total += self.basal_flow()
        if bolus is not None:
            total += bolus.flow
        return total

    def eri_at(self) -> Fraction:
        """When the battery reaches ERI (s): the built-in life, less the life used by radio
        wake-ups (`charge_wakeups`)."""
        return self.spec.eri_at_s - self.state.radio_wakeups * self.spec.wake_cost_s

    # ---------------------------------------------------------------- time
    def advance(self, to: TimeLike) -> None:
        """Run to time `to` (s since the epoch), handling every event at its own instant."""
        target = as_time(to)
        if target < self.state.now:
            self._refuse(Command.ADVANCE, Limit.TIME_BACKWARDS,
                         f"time cannot go backwards: asked {float(target)} s, now "
                         f"{float(self.state.now)} s")
        while True:
            event = self._next_event()
            if event is None or event[0] > target:
                break
            when, _, handler = event
            self._accumulate(when)
            handler()
        self._accumulate(target)

    def _accumulate(self, t: Fraction) -> None:
        flow = self.flow()
        if flow:
            self.state.pending_nl += flow * (t - self.state.now)
        self.state.now = t

    def _next_event(self) -> tuple[Fraction, int, Callable[[], None]] | None:
        s = self.state
        candidates: list[tuple[Fraction, int, Callable[[], None]]] = []
        flow = self.flow()
        stroke_at = rules.next_stroke_at(s.now, s.pending_nl, self.spec.stroke_nl, flow)
        if stroke_at is not None:
            candidates.append((stroke_at, 0, self._on_stroke))
        if s.bolus is not None and self.can_infuse():
            candidates.append((s.bolus.ends, 1, self._on_bolus_end))
        if flow and isinstance(s.therapy.basal, Flex):
            gap = rules.next_flex_boundary(s.therapy.basal.days, weekday(s.now, s.epoch_weekday),
                                           second_of_day(s.now))
            candidates.append((s.now + gap, 2, _nothing))
        if s.lockout_until is not None:
            candidates.append((s.lockout_until, 3, self._on_lockout_end))
        if not s.eri:
            candidates.append((max(s.now, self.eri_at()), 4, self._on_eri))
        elif not s.eos:
            candidates.append((max(s.now, self.eri_at() + EOS_AFTER_ERI_S), 5,
                               self._on_eos))
        if s.restart_at is not None:
            candidates.append((s.restart_at, 6, self._on_restart))
        if s.next_stall_at is not None and not s.stalled and not s.eos:
            candidates.append((s.next_stall_at, 7, self._on_random_stall))
        if not candidates:
            return None
        return min(candidates, key=lambda c: (c[0], c[1]))

    # ---------------------------------------------------------------- event handlers
    def _on_stroke(self) -> None:
        s, stroke = self.state, self.spec.stroke_nl
        s.pending_nl -= stroke
        noise = float(self.rng.normal(0.0, rules.STROKE_NOISE_SD))
        actual = rules.stroke_volume_nl(stroke, s.systematic_error, noise)
        s.estimate_nl -= stroke
        s.pumped_since_fill_nl += stroke
        self.hardware.stroke(actual, s.now)
        self._check_reservoir()

    def _check_reservoir(self) -> None:
        s = self.state
        if s.estimate_nl <= s.low_reservoir_nl:
            self._raise(AlarmKind.LOW_RESERVOIR, estimate=volume_q(s.estimate_nl))
        if s.estimate_nl < self.spec.stroke_nl:
            self._raise(AlarmKind.EMPTY_RESERVOIR, estimate=volume_q(s.estimate_nl))

    def _on_bolus_end(self) -> None:
        bolus = self.state.bolus
        assert bolus is not None
        self.state.bolus = None
        self._log(EventKind.BOLUS_COMPLETED, kind=bolus.kind.value,
                  volume=volume_q(bolus.volume_nl))

    def _on_lockout_end(self) -> None:
        self.state.lockout_until = None
        self._log(EventKind.LOCKOUT_ENDED)

    def _on_eri(self) -> None:
        self.state.eri = True
        self._raise(AlarmKind.ELECTIVE_REPLACEMENT, eos_in="90 day")

    def _on_eos(self) -> None:
        self.state.eos = True
        self._raise(AlarmKind.END_OF_SERVICE)

    def _on_random_stall(self) -> None:
        self._stall(MotorCause.RANDOM)

    def _on_restart(self) -> None:
        s = self.state
        cause = s.stall_cause
        s.stalled, s.restart_at, s.stall_cause = False, None, None
        s.next_stall_at = self._draw_next_stall()
        self._log(EventKind.MOTOR_RESTARTED, cause=cause.value if cause else "",
                  note="infusion resumes after a clinician interrogation")

    def _stall(self, cause: MotorCause) -> None:
        s = self.state
        delay = self.rng.uniform(float(STALL_RESTART_MIN_S), float(STALL_RESTART_MAX_S))
        s.stalled, s.stall_cause = True, cause
        s.restart_at = s.now + int(delay)
        s.next_stall_at = None
        self._log(EventKind.MOTOR_STALLED, cause=cause.value, restarts_in_s=int(delay))
        self._raise(AlarmKind.MOTOR_STALL, cause=cause.value)

    def _draw_next_stall(self) -> Fraction | None:
        hazard = self.spec.stall_hazard_per_day
        if hazard <= 0:
            return None
        return self.state.now + int(self.rng.exponential(1.0 / hazard) * float(DAY)) + 1

    # ---------------------------------------------------------------- alarms
    def _raise(self, kind: AlarmKind, **details: object) -> None:
        s = self.state
        if s.alarm(kind) is not None:
            return
        spec = ALARM_SPECS[kind]
        s.alarms = (*s.alarms, ActiveAlarm(kind, s.now))
        self._log(EventKind.ALARM_RAISED, alarm=kind.value, priority=spec.priority.value,
                  behaviour="stop" if spec.stops_infusion else "continue", **details)
        if spec.stops_infusion and s.bolus is not None:
            self._cancel_bolus(f"{kind.value} alarm")

    def _clear(self, kind: AlarmKind, why: str) -> None:
        s = self.state
        if s.alarm(kind) is None:
            return
        s.alarms = tuple(a for a in s.alarms if a.kind is not kind)
        self._log(EventKind.ALARM_CLEARED, alarm=kind.value, why=why)

    def _cancel_bolus(self, why: str) -> None:
        bolus = self.state.bolus
        assert bolus is not None
        self.state.bolus = None
        self._log(EventKind.BOLUS_CANCELLED, kind=bolus.kind.value, why=why)

    def acknowledge(self, kind: AlarmKind) -> None:
        """Acknowledge an active alarm: its tones pause for the snooze time; it stays active."""
        alarm = self.state.alarm(kind)
        if alarm is None:
            self._refuse(Command.ACKNOWLEDGE, Limit.NOT_ACTIVE, f"{kind.value} alarm is not active")
        self.state.alarms = tuple(
            replace(a, acknowledged_at=self.now) if a.kind is kind else a
            for a in self.state.alarms
        )
        self._log(EventKind.ALARM_ACKNOWLEDGED, alarm=kind.value)

    # ---------------------------------------------------------------- logging, refusing
    def _log(self, event: EventKind, **details: object) -> None:
        self.log.append(self.state.now, event, details)

    def _refuse(self, command: Command, limit: Limit, message: str) -> NoReturn:
        kind = EventKind.BOLUS_REFUSED if command.is_bolus else EventKind.COMMAND_REFUSED
        self._log(kind, command=command.value, limit=limit.name, reason=message)
        raise Refusal(limit, message)


def _nothing() -> None:
    """A flex step boundary: the flow changes, nothing else does."""
