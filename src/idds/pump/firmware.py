"""The pump firmware's commands: programming, refill and catheter, boluses, radio, faults.

`Pump` is the `PumpMachine` (the clock-driven state machine, `idds.pump.machine`) with every
command a programmer, a patient remote or a test can give. Commands act at the current time
`pump.now`; a refused command raises `Refusal` naming the limit and changes nothing but one log
entry. Build a pump with `Pump.implant(...)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from idds.dosing import PROMETRA_CATHETER_FULL_LENGTH_CM
from idds.pump import rules
from idds.pump.alarms import AlarmKind
from idds.pump.commands import Command
from idds.pump.convert import conc_ng_per_nl, flow_q, mass_ng, seconds, volume_nl, volume_q
from idds.pump.errors import Limit
from idds.pump.log import EventKind
from idds.pump.machine import PumpMachine
from idds.pump.program import Drug, Stopped, Therapy, peak_daily_dose
from idds.pump.records import drug_record, therapy_record
from idds.pump.state import BolusKind, BolusRun, MotorCause, PrimeReason
from idds.units import Quantity


@dataclass(frozen=True)
class RefillReport:
    """Outcome of a refill: the pump's expected volume versus the withdrawn one (nL)."""

    expected_nl: int
    withdrawn_nl: int
    mismatch: bool


class Pump(PumpMachine):
    """One implanted pump (firmware + hardware). Build with `Pump.implant(...)`."""

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
        found = rules.therapy_problem(therapy, self.concentration, str(s.drug), lim)
        if found is not None:
            self._refuse(cmd, *found)
        old, old_confirmed = therapy_record(s.therapy), s.confirmed
        # an increase is a rise of the most given in any 24 h (the dose the library's
        # increase limits compare, `peak_daily_dose`); any dose after none is one
        new_peak = peak_daily_dose(therapy.basal, "ng/day")
        old_peak = peak_daily_dose(s.therapy.basal, "ng/day") if s.confirmed else None
        zero = Quantity.of(0, "ng/day")
        if (new_peak or zero) > (old_peak or zero):
            s.last_increase_at = s.now
        s.therapy, s.confirmed = therapy, True
        self._log(EventKind.PROGRAM_CHANGED, old=old, old_confirmed=old_confirmed,
                  new=therapy_record(therapy), drug=drug_record(s.drug) if s.drug else None)

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
        (ref, devices, GIP). The expected-versus-withdrawn check flags a mismatch
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
            if s.drug is not None and s.drug.name != drug.name:
                s.prime_due = PrimeReason.DRUG_CHANGE
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
        self.state.prime_due = PrimeReason.CATHETER_REVISION
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
        and then resumes unchanged (ref, devices: "then reverts to the previous mode")."""
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

    def priming_bolus(self, reason: PrimeReason | None = None) -> BolusRun:
        """Priming bolus: the dead volume (pump pathway + catheter) at the priming flow;
        allowed before the therapy is confirmed, but only ONCE after each event that leaves
        the catheter without drug (implant, catheter revision, change of drug: `prime_due`).
        `reason` is the event the clinician states (the link command must state it); a
        stated event that is not the pump's pending one is refused. None: the pending one
        (in-process simulations)."""
        cmd, s = Command.PRIMING_BOLUS, self.state
        if s.prime_due is None:
            self._refuse(cmd, Limit.PRIME_NOT_DUE,
                         "no priming bolus is due: the catheter was primed after the last "
                         "implant, catheter revision or drug change")
        if reason is not None and reason is not s.prime_due:
            self._refuse(cmd, Limit.PRIME_NOT_DUE,
                         f"the catheter is not empty after a {reason.value}: the pump's last "
                         f"such event is the {s.prime_due.value}")
        self._bolus_checks(cmd, needs_confirmed=False)
        volume = Fraction(s.dead_volume_nl)
        self._check_volume(cmd, volume)
        run = self._start(BolusKind.PRIMING, volume, self.limits.priming_flow)
        s.prime_due = None
        return run

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
        override, the volumes entered at a refill, a command the link refused, a pairing or
        unpairing, or a clinician's decision on dose advice. Only these kinds: nothing outside
        can write a bolus, refill or program entry."""
        if event not in ANNOTATIONS:
            self._refuse(Command.ANNOTATE, Limit.BAD_VALUE, f"{event.value} is not an annotation")
        self._log(event, **details)

    # ---------------------------------------------------------------- faults and service
    def mri_exposure(self) -> None:
        """The pump enters an MRI magnet: the rotor stalls, restarts 2-24 h later (ref, devices);
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
        restart it clears the stall alarm and infusion resumes (ref, devices). The read itself
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
                         EventKind.LINK_REFUSED, EventKind.ADVICE_DECISION,
                         EventKind.LINK_PAIRING})
