"""The pump side of each link command: what the firmware does for `interrogate`, `program`,
`refill`, `prime`, `alarm_test`, `read_log`, `bolus_request` and `bolus_status`.

`PumpService.handle` is the `PumpEndpoint` handler. For every command it first runs the pump
up to now (the injected pump clock), acts, and then stores the pump's non-volatile image
through the injected `persist` BEFORE returning, so a command is acknowledged only once its
effect (or its logged refusal) is durable. A refusal is an `IddsError` whose sentence goes back
to the device (COMMAND_REFUSED); commands are atomic: a refused one leaves the pump as it was,
with the refusal as its only log entry (`idds.emulator.transaction`). Answers are bounded
(`fit`, `idds.protocol.wire` bounds). A patient bolus needs a fresh one-use ticket from
`bolus_ticket` (`idds.emulator.tickets`); a prime states why the catheter is empty.

The pump re-checks the drug library itself (defence in depth): a `program` or `refill` that
breaks a hard limit is refused even if a programmer skipped its own checks; soft breaches need
the override reason in the command, and the override is logged in the pump's log.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import datetime
from fractions import Fraction
from typing import Any

from idds.drugs import DrugLibrary, enforce
from idds.emulator.replies import CommandError, fit
from idds.emulator.replies import short as _short
from idds.emulator.tickets import TICKET_VALID_S, BolusTickets
from idds.emulator.transaction import roll_back, savepoint
from idds.errors import IddsError
from idds.link import CommandRequest, JsonValue
from idds.protocol.checks import check
from idds.protocol.pagedlog import encode_page
from idds.protocol.wire import quantity_arg, text_arg, therapy_from_json
from idds.protocol.wire import therapy_to_json as wire_therapy
from idds.pump import (
    Drug,
    EventKind,
    PrimeReason,
    Pump,
    RefillReport,
    Refusal,
    Stopped,
    Therapy,
    interrogate,
    restore,
    snapshot,
)
from idds.pump import rules as pump_rules
from idds.pump.clock import DAY, format_clock
from idds.pump.convert import volume_nl, volume_q
from idds.units import Kind, Quantity

PumpClock = Callable[[], Fraction]

class PumpService:
    """Runs link commands on one pump. `clock` gives pump time (s); `persist` stores the pump
    durably; `wakeups` gives the number of processed radio wake-ups so far (charged to the
    battery before each command)."""

    def __init__(
        self,
        pump: Pump,
        library: DrugLibrary,
        clock: PumpClock,
        persist: Callable[[Pump], None],
        pump_id: str,
        *,
        calendar: datetime | None = None,
    ) -> None:
        self.pump = pump
        #: The calendar moment of pump time 0 (`idds.emulator.statedir.Identity`), or None.
        self.calendar = calendar
        self.library = library
        self.clock = clock
        self.persist = persist
        self.pump_id = pump_id
        self.wakeups: Callable[[], int] = lambda: 0
        self.link_stats: Callable[[], dict[str, JsonValue]] = dict
        self.tickets = BolusTickets(time.monotonic)
        self._charged = 0
        self._device = ""

    # -- time and battery ----------------------------------------------------------------------

    def when(self, t: Fraction) -> str:
        """Pump time `t` as the pump's calendar shows it (`idds.pump.clock.format_clock`)."""
        return format_clock(t, self.calendar)

    @property
    def epoch_text(self) -> str | None:
        return None if self.calendar is None else self.calendar.isoformat()

    def catch_up(self) -> None:
        """Run the pump to now and charge the radio wake-ups processed since the last call."""
        self.pump.advance(max(self.pump.now, self.clock()))
        total = self.wakeups()
        if total > self._charged:
            self.pump.charge_wakeups(total - self._charged)
            self._charged = total

    def note_link_refusal(self, peer: str, code: str, detail: str) -> None:
        """Put a command the link refused (role, expiry, pairing) into the pump's log too."""
        self.catch_up()
        self.pump.annotate(EventKind.LINK_REFUSED, peer=peer, code=code, reason=detail)
        self.persist(self.pump)

    def note_link_pairing(self, action: str, peer: str, detail: str) -> None:
        """Put a pairing or unpairing (link events, authenticated) into the pump's log."""
        self.catch_up()
        self.pump.annotate(EventKind.LINK_PAIRING, action=action, peer=peer, detail=detail)
        self.persist(self.pump)

    # -- the handler ---------------------------------------------------------------------------

    def handle(self, request: CommandRequest) -> Mapping[str, JsonValue]:
        """The `PumpEndpoint` handler: act, fit the answer, persist, then answer. Atomic: a
        command that raises (refused, or an answer that cannot be sent) leaves the pump as it
        was before it, plus the one log entry of the refusal (`idds.emulator.transaction`)."""
        self.catch_up()
        saved = savepoint(self.pump)
        self._device = request.device_id
        try:
            action = _COMMANDS[request.command]
            result = fit(action(self, request.args))
        except Exception as exc:
            self.pump = roll_back(self.pump, saved)
            if isinstance(exc, IddsError) and not isinstance(exc, Refusal):
                # library limits, wrong drug, malformed arguments, stale ticket
                self.pump.annotate(EventKind.LINK_REFUSED, command=request.command,
                                   device=request.device_id, reason=str(exc))
            raise
        finally:
            self.persist(self.pump)  # durable before the reply is sealed and sent
        return result

    # -- commands ------------------------------------------------------------------------------

    def interrogate(self, args: dict[str, Any]) -> dict[str, JsonValue]:
        """Telemetry (logged as an interrogation), in text quantities with units; with
        `log_at` (an entry number) also that entry's hash, for the programmer's anchor."""
        pump = self.pump
        t = interrogate(pump)
        at = args.get("log_at")
        entries = pump.log.entries
        at_hash = entries[at].hash if type(at) is int and 0 <= at < len(entries) else None
        s = pump.state
        # an alarm's priority follows from its kind (ALARM_SPECS); its time goes as pump
        # seconds, shown on the programmer against clock_epoch (the reply must fit one message)
        alarms: list[JsonValue] = [
            {"kind": a.kind.value, "raised_s": int(a.raised_at)} for a in t.alarms]
        events: list[JsonValue] = [_short(e.line(self.when)) for e in pump.log.last(6)]
        return {
            "pump_id": self.pump_id,
            "time": self.when(t.time),
            "time_s": float(t.time),
            "clock_epoch": self.epoch_text,
            "drug": t.drug.name if t.drug else None,
            "concentration": str(t.drug.concentration) if t.drug else None,
            "therapy": wire_therapy(t.therapy),
            "therapy_drug": therapy_drug(pump),
            "confirmed": t.confirmed,
            "infusing": t.infusing,
            "flow": t.flow.display("mL/day"),
            "dose_rate": t.dose_rate.display("mg/day"),
            "bolus": t.bolus,
            "reservoir_estimate": str(t.reservoir_estimate),
            "reservoir_capacity": str(volume_q(pump.spec.reservoir_nl)),
            "low_reservoir_alarm": str(t.low_reservoir_alarm),
            "pumped_since_fill": str(volume_q(s.pumped_since_fill_nl)),
            "refill_due_in_days": (float(t.refill_due_in.value_in("day"))
                                   if t.refill_due_in is not None else None),
            "battery": t.battery.value,
            "battery_eri_in_days": round(float((pump.eri_at() - t.time) / DAY), 3),
            "radio_wakeups": s.radio_wakeups,
            "motor_stalled": t.motor_stalled,
            "alarms": alarms,
            "last_events": events,
            "prime_due": s.prime_due.value if s.prime_due is not None else None,
            "since_last_increase_s": (None if s.last_increase_at is None
                                      else int(s.now - s.last_increase_at)),
            "dead_volume": str(volume_q(s.dead_volume_nl)),
            "log_head": t.log_head,
            "log_length": len(pump.log),
            "log_at_hash": at_hash,
            "link": self.link_stats(),
        }

    def program(self, args: dict[str, Any]) -> dict[str, JsonValue]:
        """Set (and confirm) a therapy for the drug in the reservoir, after the library check."""
        pump, s = self.pump, self.pump.state
        name = text_arg(args, "drug").lower()
        concentration = quantity_arg(args, "concentration", Kind.CONCENTRATION)
        therapy = therapy_from_json(args.get("therapy"))
        if s.drug is None:
            raise CommandError("no drug in the pump: refill before programming")
        if s.drug.name != name or s.drug.concentration != concentration:
            raise CommandError(
                f"the pump holds {s.drug}, the program is for {name} {concentration}: check the "
                "drug and concentration (refill first to change them)")
        entry = self.library.drug(name)
        current = s.therapy if therapy_drug(pump) == name else None
        since = (None if s.last_increase_at is None
                 else Quantity.of((s.now - s.last_increase_at) / 3600, "h"))
        result = check(entry, therapy, concentration, current,
                       opioid_tolerant=args.get("opioid_tolerant") is True,
                       since_last_increase=since)
        reason = _optional_text(args, "override_reason")
        enforce(result, reason)
        if result.soft:
            pump.annotate(EventKind.LIBRARY_OVERRIDE, device_reason=reason or "",
                          breaches="; ".join(b.message for b in result.soft))
        old = s.therapy.describe() if s.confirmed else "not confirmed"
        pump.set_therapy(therapy)
        return {"old": old, "new": therapy.describe(), "drug": str(s.drug),
                "overridden": [b.message for b in result.soft]}

    def refill(self, args: dict[str, Any]) -> dict[str, JsonValue]:
        """Refill: the withdrawn volume entered is compared with the expected one (logged),
        the reservoir is filled; after a concentration change of the same drug, `keep_dose`
        re-programs the same dose (new flow) and `bridge` starts the bridge bolus."""
        pump, s = self.pump, self.pump.state
        name = text_arg(args, "drug").lower()
        concentration = quantity_arg(args, "concentration", Kind.CONCENTRATION)
        volume = quantity_arg(args, "volume", Kind.VOLUME)
        withdrawn = quantity_arg(args, "withdrawn", Kind.VOLUME)
        entry = self.library.drug(name)
        enforce(check(entry, Therapy(Stopped()), concentration, None), None)
        expected = s.estimate_nl
        withdrawn_nl = int(volume_nl(withdrawn))
        mismatch = s.drug is not None and pump_rules.refill_mismatch(
            expected, withdrawn_nl, s.pumped_since_fill_nl)
        keep, bridge = args.get("keep_dose") is True, args.get("bridge") is True
        try:  # all or nothing: rehearse on a copy, so a refusal half-way changes nothing
            _refill_steps(restore(snapshot(pump)), volume, Drug(name, concentration), keep,
                          bridge)
        except Refusal as exc:
            raise CommandError(f"refill not done: {exc}") from None
        pump.annotate(EventKind.REFILL_CHECKED, expected=volume_q(expected),
                      withdrawn_entered=withdrawn, mismatch=mismatch)
        report, changed, kept, bridged = _refill_steps(pump, volume, Drug(name, concentration),
                                                       keep, bridge)
        return {
            "expected": str(volume_q(report.expected_nl)),
            "withdrawn_entered": str(withdrawn),
            "mismatch": mismatch,
            "changed": changed,
            "dose_kept": kept,
            "bridge_bolus": bridged,
            "confirmed": s.confirmed,
            "infusing": pump.flow() > 0,
            "drug": str(s.drug),
        }

    def prime(self, args: dict[str, Any]) -> dict[str, JsonValue]:
        """Priming bolus: fills the empty catheter (dead volume) at the priming flow. `reason`
        states why the catheter is empty ("implant", "catheter revision", "drug change"); the
        firmware allows one prime per such event. The answer gives the drug mass too."""
        stated = text_arg(args, "reason")
        reasons = {r.value: r for r in PrimeReason}
        if stated not in reasons:
            raise CommandError(f"prime reason {stated[:40]!r} is not one of "
                               f"{', '.join(reasons)}")
        drug = self.pump.state.drug
        unit = self.library.drug(drug.name).display_unit if drug is not None else "mg"
        run = self.pump.priming_bolus(reasons[stated])
        return {"volume": str(volume_q(run.volume_nl)),
                "mass": Quantity.of(run.mass_ng, "ng").display(unit),
                "drug": str(drug),
                "minutes": round(float((run.ends - run.started) / 60), 2)}

    def alarm_test(self, args: dict[str, Any]) -> dict[str, JsonValue]:
        """Sound each alarm tone once."""
        return {"tones": list(self.pump.alarm_test())}

    def read_log(self, args: dict[str, Any]) -> dict[str, JsonValue]:
        """One page of the event log from entry `start`."""
        start = args.get("start", 0)
        entries = self.pump.log.entries
        if type(start) is not int or not 0 <= start <= len(entries):
            raise CommandError(f"log start {start!r} outside 0 to {len(entries)}")
        page, count = encode_page(entries, start) if start < len(entries) else ("", 0)
        return {"start": start, "count": count, "total": len(entries), "page": page,
                "head": self.pump.log.head, "clock_epoch": self.epoch_text}

    def bolus_ticket(self, args: dict[str, Any]) -> dict[str, JsonValue]:
        """A one-use ticket for the next `bolus_request` of this device, valid
        `TICKET_VALID_S` s of the pump's own timer (`idds.emulator.tickets`)."""
        return {"ticket": self.tickets.issue(self._device), "valid_s": TICKET_VALID_S}

    def bolus_request(self, args: dict[str, Any]) -> dict[str, JsonValue]:
        """A patient bolus: given, or refused with the reason (no fresh ticket from the pump,
        lockout, daily maximum, alarm)."""
        self.tickets.redeem(self._device, args.get("ticket"))
        run = self.pump.patient_bolus()
        drug = self.pump.state.drug
        volume = volume_q(run.volume_nl)
        dose = (None if drug is None else (volume * drug.concentration).to(
            self.library.drug(drug.name).display_unit).display())
        return {"given": True, "dose": dose, "volume": str(volume),
                "minutes": round(float((run.ends - run.started) / 60), 2),
                "time": self.when(run.started)}

    def bolus_status(self, args: dict[str, Any]) -> dict[str, JsonValue]:
        """Lockout left and boluses in the last 24 h."""
        s = self.pump.state
        left = float(pump_rules.lockout_left(s.lockout_until, s.now) / 60)
        demand = s.therapy.demand
        window = self.pump.limits.demand_window_s
        return {"lockout_minutes_left": round(left, 1),
                "boluses_24h": pump_rules.boluses_in_window(s.patient_starts, s.now, window),
                "max_per_24h": demand.max_per_24h if demand else 0,
                "bolus_running": s.bolus is not None,
                "last_bolus": (self.when(s.patient_starts[-1]) if s.patient_starts
                               else None)}


    def record_advice(self, args: dict[str, Any]) -> dict[str, JsonValue]:
        """Write a clinician's decision on dose advice into the pump's own log (annotation
        only: it changes no setting; an accepted advice is programmed by `program`)."""
        outcome = text_arg(args, "outcome")
        if outcome not in ADVICE_OUTCOMES:
            raise CommandError(f"advice outcome must be accepted or rejected, not {outcome!r}")
        details = {"outcome": outcome, "clinician": _short(text_arg(args, "clinician")),
                   "device": _short(text_arg(args, "device")),
                   "advice": _short(text_arg(args, "advice"), 300)}
        reason = _optional_text(args, "reason")
        if outcome == "rejected" and reason is None:
            raise CommandError("a rejected advice needs the reason")
        if reason is not None:
            details["reason"] = _short(reason, 300)
        self.pump.annotate(EventKind.ADVICE_DECISION, **details)
        return {"logged": True}

ADVICE_OUTCOMES = ("accepted", "rejected")


_COMMANDS: dict[str, Callable[[PumpService, dict[str, Any]], dict[str, JsonValue]]] = {
    "interrogate": PumpService.interrogate,
    "program": PumpService.program,
    "refill": PumpService.refill,
    "prime": PumpService.prime,
    "alarm_test": PumpService.alarm_test,
    "read_log": PumpService.read_log,
    "bolus_ticket": PumpService.bolus_ticket,
    "bolus_request": PumpService.bolus_request,
    "bolus_status": PumpService.bolus_status,
    "record_advice": PumpService.record_advice,
}


def _refill_steps(pump: Pump, volume: Quantity, drug: Drug, keep: bool,
                  bridge: bool) -> tuple[RefillReport, bool, bool, bool]:
    """Refill; after a concentration change of the same drug with the therapy running,
    optionally keep the dose (new flow) and start the bridge bolus.
    Returns (report, changed, dose kept, bridged)."""
    s = pump.state
    old_drug, old_therapy = s.drug, s.therapy
    was_running = s.confirmed and not isinstance(s.therapy.basal, Stopped)
    report = pump.refill(volume, drug)
    changed = old_drug != drug
    if not (changed and keep and was_running and old_drug is not None
            and old_drug.name == drug.name):
        return report, changed, False, False
    pump.set_therapy(old_therapy)
    if bridge:
        pump.bridge_bolus()
    return report, changed, True, bridge


def therapy_drug(pump: Pump) -> str | None:
    """The drug the stored therapy was programmed for: the reservoir's drug when confirmed,
    else the drug before the last change (from the log), else None."""
    s = pump.state
    if s.drug is not None and s.confirmed:
        return s.drug.name
    changes = pump.log.of_kind(EventKind.DRUG_CHANGED)
    if not changes:
        return None
    old = changes[-1].drug("old")
    return None if old is None else old.name


def _optional_text(args: dict[str, Any], name: str) -> str | None:
    value = args.get(name)
    return value if isinstance(value, str) and value.strip() else None
