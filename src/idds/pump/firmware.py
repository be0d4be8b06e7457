"""The pump firmware: a deterministic state machine driven by an injected clock.

`Pump.advance(to=t)` processes every event in time order, each exactly at its own instant
(strokes, end of a bolus, end of a lockout, flex steps, the estimated reservoir crossing the
alarm volume or reaching empty, the actual reservoir running dry, battery ERI/EOS, motor stall
and restart), so one big step and many small ones give identical results. Commands act at the
current time `pump.now`; a refused command raises `Refusal` naming the limit and changes nothing
but one log entry.

Delivery model: the commanded volume (integral of the programmed flow) accumulates; each time it
reaches one nominal stroke the pump makes a stroke. The firmware's reservoir estimate falls by
the nominal stroke; the actual reservoir by the actual stroke (systematic error x per-stroke
noise, `rules.stroke_volume_nl`). The pump never measures the reservoir (devices.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import NoReturn

import numpy as np

from idds.dosing import PROMETRA_CATHETER_FULL_LENGTH_CM
from idds.pump import rules
from idds.pump.alarms import ALARM_SPECS, ActiveAlarm, AlarmKind
from idds.pump.clock import DAY, as_time, second_of_day, weekday
from idds.pump.commands import Command
from idds.pump.convert import conc_ng_per_nl, flow_q, mass_ng, seconds, volume_nl, volume_q
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
from idds.pump.program import Continuous, Drug, Flex, Stopped, Therapy
from idds.pump.records import drug_record, therapy_record
from idds.pump.state import BolusKind, BolusRun, MotorCause, PumpState
from idds.units import Quantity

TimeLike = int | Fraction


@dataclass(frozen=True)
class RefillReport:
    """Outcome of a refill: the pump's expected volume versus the withdrawn one (nL)."""

    expected_nl: int
    withdrawn_nl: int
    mismatch: bool


class Pump:
    """One implanted pump (firmware + hardware). Build with `Pump.implant(...)`."""

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
                epoch_weekday: int = 0, limits: DeviceLimits = LIMITS) -> Pump:
        """A new pump at time `start` (s): empty reservoir, no drug, stopped, catheter full of
        drug-free fluid. Random draws come from `rng` (or a Generator seeded with `seed`)."""
        spec = spec or HardwareSpec()
        gen = rng if rng is not None else np.random.default_rng(seed)
        systematic = (spec.systematic_error if spec.systematic_error is not None
                      else draw_systematic_error(gen))
        state = PumpState(now=as_time(start), epoch_weekday=epoch_weekday % 7,
                          systematic_error=systematic, dead_volume_nl=spec.dead_volume_nl,
                          low_reservoir_nl=limits.default_low_reservoir_nl)
        hardware = Hardware()
        hardware.install_catheter(spec.dead_volume_nl)
        pump = cls(spec, limits, state, hardware, gen, EventLog())
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

    # ---------------------------------------------------------------- programming
    def set_therapy(self, therapy: Therapy) -> None:
        """Program (and confirm) a therapy: basal mode and patient bolus settings.

        Refused outside the device flow range, with a malformed flex schedule, or with patient
        bolus settings outside their ranges. Confirms the therapy after a drug change.
        """
        s, lim = self.state, self.limits
        cmd = Command.SET_THERAPY
        if s.eos:
            self._refuse(cmd, Limit.END_OF_SERVICE, "battery at end of service: pump stopped")
        if s.drug is None and not isinstance(therapy.basal, Stopped):
            self._refuse(cmd, Limit.NO_DRUG, "no drug in pump: refill before programming")
        basal = therapy.basal
        if isinstance(basal, Flex):
            problem = rules.flex_schedule_problem(basal.days, lim.max_flex_steps)
            if problem:
                self._refuse(cmd, Limit.FLEX_STEPS, problem)
        conc, ranges = self.concentration, rules.firmware_ranges(lim)
        if isinstance(basal, Continuous | Flex):
            steps = ([basal.dose_rate] if isinstance(basal, Continuous)
                     else [st.dose_rate for day in basal.days for st in day])
            for dose in steps:
                flow = rules.basal_flow(Continuous(dose), conc, 0, Fraction(0), lim.min_flow)
                if rules.outside(flow, ranges.flow):
                    self._refuse(cmd, Limit.FLOW_RANGE,
                                 f"{dose} at {s.drug} is {flow_q(flow).display()}: outside the "
                                 f"device flow range {flow_q(lim.min_flow)} to "
                                 f"{flow_q(lim.max_flow)}")
        if therapy.demand is not None:
            self._check_demand(therapy, conc)
        old, old_confirmed = therapy_record(s.therapy), s.confirmed
        before = (rules.mean_basal_flow(s.therapy.basal, conc, lim.min_flow) if s.confirmed
                  else Fraction(0))
        if rules.mean_basal_flow(therapy.basal, conc, lim.min_flow) > before:
            s.last_increase_at = s.now
        s.therapy, s.confirmed = therapy, True
        self._log(EventKind.PROGRAM_CHANGED, old=old, old_confirmed=old_confirmed,
                  new=therapy_record(therapy), drug=drug_record(s.drug) if s.drug else None)

    def _check_demand(self, therapy: Therapy, conc: Fraction) -> None:
        demand, lim, cmd = therapy.demand, self.limits, Command.SET_THERAPY
        ranges = rules.firmware_ranges(lim)
        assert demand is not None
        volume = mass_ng(demand.dose, "patient bolus dose") / conc
        duration = seconds(demand.duration, "patient bolus duration")
        lockout = seconds(demand.lockout, "patient bolus lockout")
        if rules.outside(volume, ranges.bolus_volume):
            self._refuse(cmd, Limit.BOLUS_VOLUME,
                         f"patient bolus {demand.dose} is {volume_q(volume).display()}: outside "
                         f"{volume_q(lim.min_bolus_nl)} to {volume_q(lim.max_bolus_nl)}")
        if rules.outside(duration, ranges.bolus_duration):
            self._refuse(cmd, Limit.BOLUS_DURATION,
                         f"patient bolus duration {demand.duration} outside 1 min to 24 h")
        if rules.outside(lockout, ranges.lockout):
            self._refuse(cmd, Limit.LOCKOUT_RANGE,
                         f"lockout {demand.lockout} outside 10 min to 24 h")
        if rules.outside(demand.max_per_24h, ranges.max_per_24h):
            self._refuse(cmd, Limit.MAX_PER_24H_RANGE,
                         f"maximum {demand.max_per_24h} boluses per 24 h outside 1 to "
                         f"{lim.max_demand_per_24h}")
        peak = rules.max_basal_flow(therapy.basal, conc, lim.min_flow)
        if rules.above_max_flow(peak, volume / duration, lim.max_flow):
            top = peak + volume / duration
            self._refuse(cmd, Limit.BOLUS_FLOW,
                         f"patient bolus on top of basal reaches {flow_q(top).display()}: above "
                         f"the device maximum {flow_q(lim.max_flow)}")

    def set_low_reservoir_alarm(self, volume: Quantity) -> None:
        """Set the low-reservoir alarm volume (1-5 mL)."""
        nl = volume_nl(volume, "low-reservoir alarm volume")
        lim = self.limits
        if not lim.min_low_reservoir_nl <= nl <= lim.max_low_reservoir_nl:
            self._refuse(Command.SET_LOW_RESERVOIR_ALARM, Limit.LOW_RESERVOIR_RANGE,
                         f"low-reservoir alarm {volume} outside "
                         f"{volume_q(lim.min_low_reservoir_nl)} to "
                         f"{volume_q(lim.max_low_reservoir_nl)}")
        old = volume_q(self.state.low_reservoir_nl)
        self.state.low_reservoir_nl = int(nl)
        self._log(EventKind.SETTING_CHANGED, setting="low-reservoir alarm", old=old,
                  new=volume_q(nl))
        if self.state.estimate_nl > nl:
            self._clear(AlarmKind.LOW_RESERVOIR, "above the new alarm volume")
        self._check_reservoir()

    # ---------------------------------------------------------------- refill and catheter
    def refill(self, fill: Quantity, drug: Drug, entered: Quantity | None = None) -> (
        RefillReport
    ):
        """Refill: withdraw everything, compare with the expected volume, fill `fill` of `drug`
        and enter `entered` (default: `fill`) as the new reservoir volume.

        A different drug or concentration stops the infusion until a therapy is programmed
        (devices.md, GIP). The expected-versus-withdrawn check flags a mismatch
        (`rules.refill_mismatch`).
        """
        entered_q = fill if entered is None else entered
        s, cmd = self.state, Command.REFILL
        fill_nl, entered_nl = volume_nl(fill, "fill volume"), volume_nl(entered_q, "entered volume")
        capacity = self.spec.reservoir_nl
        for what, nl in (("fill", fill_nl), ("entered volume", entered_nl)):
            if not 0 < nl <= capacity or nl.denominator != 1:
                self._refuse(cmd, Limit.RESERVOIR_CAPACITY,
                             f"{what} {volume_q(nl)} outside 0 to the reservoir capacity "
                             f"{volume_q(capacity)} (whole nL)")
        if s.bolus is not None:
            self._refuse(cmd, Limit.BOLUS_IN_PROGRESS, "a bolus is running: wait or stop it")
        withdrawn = self.hardware.withdraw_all()
        expected = s.estimate_nl
        mismatch = s.drug is not None and rules.refill_mismatch(
            expected, withdrawn, s.pumped_since_fill_nl)
        self.hardware.fill(int(fill_nl), conc_ng_per_nl(drug.concentration))
        s.estimate_nl, s.pumped_since_fill_nl = int(entered_nl), 0
        self._log(EventKind.REFILL, expected=volume_q(expected), withdrawn=volume_q(withdrawn),
                  mismatch=mismatch, entered=volume_q(entered_nl), drug=drug_record(drug))
        if s.drug != drug:
            old_flow = self.basal_flow() if s.drug is not None and s.confirmed else None
            self._log(EventKind.DRUG_CHANGED, old=drug_record(s.drug) if s.drug else None,
                      new=drug_record(drug))
            if s.drug is not None and s.confirmed and not isinstance(s.therapy.basal, Stopped):
                self._log(EventKind.INFUSION_STOPPED, why="drug or concentration changed")
            s.flow_before_change = old_flow if old_flow else None
            s.drug, s.confirmed = drug, False
        if s.estimate_nl > s.low_reservoir_nl:
            self._clear(AlarmKind.LOW_RESERVOIR, "refilled")
        if s.estimate_nl >= self.spec.stroke_nl:
            self._clear(AlarmKind.EMPTY_RESERVOIR, "refilled")
        self._check_reservoir()
        return RefillReport(expected, withdrawn, mismatch)

    def replace_catheter(self, trimmed_cm: Fraction | int) -> None:
        """Catheter revision: a new catheter (drug-free) of (110 cm - trimmed) x 0.0026 mL/cm.
        The old catheter's contents leave the system (counted as withdrawn)."""
        trimmed = Fraction(trimmed_cm)
        if not 0 <= trimmed < PROMETRA_CATHETER_FULL_LENGTH_CM:
            self._refuse(Command.REPLACE_CATHETER, Limit.BAD_VALUE,
                         f"trimmed length {float(trimmed)} cm outside 0 to 110 cm")
        catheter = int(rules.catheter_volume_nl(trimmed))
        volume = self.spec.internal_volume_nl + catheter  # the pump's own pathway stays
        hw = self.hardware
        hw.withdrawn_ng += hw.catheter_ng
        hw.install_catheter(catheter)
        old = volume_q(self.state.dead_volume_nl)
        self.state.dead_volume_nl = volume
        self._log(EventKind.CATHETER_CHANGED, old_dead_volume=old, new_dead_volume=volume_q(volume))

    # ---------------------------------------------------------------- boluses
    def _bolus_checks(self, cmd: Command, *, needs_confirmed: bool = True) -> None:
        s = self.state
        if s.eos:
            self._refuse(cmd, Limit.END_OF_SERVICE, "battery at end of service: pump stopped")
        critical = self.critical_alarm()
        if critical is not None:
            self._refuse(cmd, Limit.CRITICAL_ALARM,
                         f"no bolus while the critical {critical.value} alarm is active")
        if s.drug is None:
            self._refuse(cmd, Limit.NO_DRUG, "no drug in pump")
        if needs_confirmed and not s.confirmed:
            self._refuse(cmd, Limit.NOT_CONFIRMED,
                         "therapy not confirmed after a drug change: program it first")
        if s.stalled:
            self._refuse(cmd, Limit.MOTOR, "motor stalled")
        if s.bolus is not None:
            self._refuse(cmd, Limit.BOLUS_IN_PROGRESS,
                         f"a {s.bolus.kind.value} bolus is running")

    def _check_volume(self, cmd: Command, volume: Fraction) -> None:
        lim = self.limits
        if rules.outside(volume, rules.firmware_ranges(lim).bolus_volume):
            self._refuse(cmd, Limit.BOLUS_VOLUME,
                         f"dose limit exceeded: bolus {volume_q(volume).display()} outside "
                         f"{volume_q(lim.min_bolus_nl)} to {volume_q(lim.max_bolus_nl)}")
        if volume > self.state.estimate_nl:
            self._refuse(cmd, Limit.RESERVOIR_ESTIMATE,
                         f"bolus {volume_q(volume).display()} exceeds the reservoir estimate "
                         f"{volume_q(self.state.estimate_nl)}")

    def _start(self, kind: BolusKind, volume: Fraction, flow: Fraction) -> BolusRun:
        s = self.state
        run = BolusRun(kind, volume, flow, s.now, s.now + volume / flow,
                       volume * self.concentration)
        s.bolus = run
        self._log(EventKind.BOLUS_STARTED, kind=kind.value, volume=volume_q(volume),
                  flow=flow_q(flow).display(), ends_in_s=float(run.ends - run.started))
        return run

    def clinician_bolus(self, dose: Quantity, duration: Quantity) -> BolusRun:
        """Single clinician bolus of `dose` (mass) over `duration`; the basal program pauses
        and then resumes unchanged (devices.md: "then reverts to the previous mode")."""
        cmd = Command.CLINICIAN_BOLUS
        self._bolus_checks(cmd)
        volume = mass_ng(dose, "bolus dose") / self.concentration
        span = seconds(duration, "bolus duration")
        lim = self.limits
        if rules.outside(span, rules.firmware_ranges(lim).bolus_duration):
            self._refuse(cmd, Limit.BOLUS_DURATION, f"bolus duration {duration} outside "
                         "1 min to 24 h")
        self._check_volume(cmd, volume)
        if volume / span > lim.max_flow:
            self._refuse(cmd, Limit.BOLUS_FLOW,
                         f"bolus flow {flow_q(volume / span).display()} above the device "
                         f"maximum {flow_q(lim.max_flow)}")
        return self._start(BolusKind.CLINICIAN, volume, volume / span)

    def priming_bolus(self) -> BolusRun:
        """Priming bolus: the dead volume (pump pathway + catheter) at the priming flow, after
        implant or catheter revision; allowed before the therapy is confirmed."""
        cmd = Command.PRIMING_BOLUS
        self._bolus_checks(cmd, needs_confirmed=False)
        volume = Fraction(self.state.dead_volume_nl)
        self._check_volume(cmd, volume)
        return self._start(BolusKind.PRIMING, volume, self.limits.priming_flow)

    def bridge_bolus(self) -> BolusRun:
        """Bridge bolus after a concentration change: pushes the dead volume (old drug) at the
        old basal flow, so the old drug leaves the catheter at the old dose rate; the new
        therapy (already confirmed) starts after it."""
        cmd = Command.BRIDGE_BOLUS
        self._bolus_checks(cmd)
        old_flow = self.state.flow_before_change
        if old_flow is None:
            self._refuse(cmd, Limit.NO_PREVIOUS_THERAPY,
                         "no previous infusing therapy to bridge from")
        volume = Fraction(self.state.dead_volume_nl)
        self._check_volume(cmd, volume)
        self.state.flow_before_change = None
        return self._start(BolusKind.BRIDGE, volume, old_flow)

    def patient_bolus(self) -> BolusRun:
        """A patient's demand bolus (remote press): given, or refused with the reason
        (lockout, daily maximum, alarm, ...), on top of the basal flow."""
        s, cmd = self.state, Command.PATIENT_BOLUS
        self._bolus_checks(cmd)
        demand = s.therapy.demand
        if demand is None:
            self._refuse(cmd, Limit.DEMAND_DISABLED, "patient bolus is not enabled")
        if isinstance(s.therapy.basal, Stopped):
            self._refuse(cmd, Limit.THERAPY_STOPPED, "therapy is stopped")
        lockout = seconds(demand.lockout)
        limit = rules.demand_refusal(s.patient_starts, s.now, lockout, demand.max_per_24h,
                                     self.limits.demand_window_s)
        if limit is Limit.LOCKOUT_ACTIVE:
            ends = rules.lockout_ends_at(s.patient_starts[-1], lockout)
            assert ends is not None
            self._refuse(cmd, limit, f"lockout: next bolus allowed in "
                         f"{float((ends - s.now) / 60):.1f} min")
        if limit is Limit.MAX_PER_24H_REACHED:
            self._refuse(cmd, limit, f"maximum {demand.max_per_24h} boluses per 24 h reached")
        volume = mass_ng(demand.dose) / self.concentration
        self._check_volume(cmd, volume)
        run = self._start(BolusKind.PATIENT, volume, volume / seconds(demand.duration))
        window = self.limits.demand_window_s
        s.patient_starts = (*(t for t in s.patient_starts if t > s.now - window), s.now)
        s.lockout_until = rules.lockout_ends_at(s.now, lockout)
        return run

    # ---------------------------------------------------------------- radio and annotations
    def charge_wakeups(self, count: int) -> None:
        """Charge `count` processed radio wake-ups to the battery (Halperin 2008): each uses
        `spec.wake_cost_s` seconds of battery life, so ERI and EOS come that much earlier."""
        if count < 0:
            self._refuse(Command.CHARGE_WAKEUPS, Limit.BAD_VALUE, f"{count} wake-ups")
        self.state.radio_wakeups += count

    def alarm_test(self) -> tuple[str, ...]:
        """Clinician alarm test: sound each tone once (logged); returns what was sounded."""
        tones = ("critical: two-tone, 3 s", "non-critical: single tone")
        self._log(EventKind.ALARM_TEST, tones="; ".join(tones))
        return tones

    def annotate(self, event: EventKind, /, **details: object) -> None:
        """Record what the external side did or refused, in the pump's own log: a drug-library
        override, the volumes entered at a refill, a command the link refused, or a clinician's
        decision on dose advice. Only these kinds: nothing outside can write a bolus, refill or
        program entry."""
        if event not in ANNOTATIONS:
            self._refuse(Command.ANNOTATE, Limit.BAD_VALUE, f"{event.value} is not an annotation")
        self._log(event, **details)

    # ---------------------------------------------------------------- faults and service
    def mri_exposure(self) -> None:
        """The pump enters an MRI magnet: the rotor stalls, restarts 2-24 h later (devices.md);
        both are logged; infusion resumes after the next interrogation."""
        if self.state.stalled or self.state.eos:
            self._refuse(Command.MRI, Limit.MOTOR, "motor already stopped")
        self._stall(MotorCause.MRI)

    def inject_memory_error(self, critical: bool) -> None:
        """Fault injection: a critical (pump stops) or non-critical (continues) memory error."""
        kind = AlarmKind.CRITICAL_MEMORY_ERROR if critical else AlarmKind.MEMORY_ERROR
        self._log(EventKind.FAULT, fault=kind.value)
        self._raise(kind)

    def clear_memory_error(self) -> None:
        """Clinician clears memory errors; after a critical one the therapy must be programmed
        again before infusion resumes."""
        s = self.state
        if not (self.alarm_active(AlarmKind.CRITICAL_MEMORY_ERROR)
                or self.alarm_active(AlarmKind.MEMORY_ERROR)):
            self._refuse(Command.CLEAR_MEMORY_ERROR, Limit.NOT_ACTIVE, "no memory error is active")
        if self.alarm_active(AlarmKind.CRITICAL_MEMORY_ERROR):
            s.confirmed = False
            self._clear(AlarmKind.CRITICAL_MEMORY_ERROR, "cleared by clinician; reprogram")
        self._clear(AlarmKind.MEMORY_ERROR, "cleared by clinician")

    def interrogated(self) -> None:
        """Record an interrogation (a programmer reads the pump): logged; after a motor
        restart it clears the stall alarm and infusion resumes (devices.md). The read itself
        is `idds.pump.telemetry.interrogate`."""
        self._log(EventKind.INTERROGATED)
        s = self.state
        if self.alarm_active(AlarmKind.MOTOR_STALL) and not s.stalled:
            self._clear(AlarmKind.MOTOR_STALL, "motor restarted; interrogated")
            self._log(EventKind.INFUSION_RESUMED, why="after motor restart and interrogation")

    def restarted(self) -> None:
        """Record a restart after power loss (this pump restored from its non-volatile
        snapshot: `idds.pump.snapshot.power_loss`)."""
        self._log(EventKind.RESTARTED, therapy=therapy_record(self.state.therapy))


ANNOTATIONS = frozenset({EventKind.LIBRARY_OVERRIDE, EventKind.REFILL_CHECKED,
                         EventKind.LINK_REFUSED, EventKind.ADVICE_DECISION})


def _nothing() -> None:
    """A flex step boundary: the flow changes, nothing else does."""


