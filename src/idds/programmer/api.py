"""The clinician programmer and the patient remote as Python objects over a `LinkClient`.

`Programmer`: pair, list and revoke pairings, interrogate, plan and send a therapy, plan and
send a refill, prime, alarm test, download and verify the log. `Remote`: pair and request a
bolus, nothing else (the link's role table refuses anything else from a patient key).

Nothing is sent by a `plan_*` method; `send_*` sends a plan the caller has confirmed. Every
refusal (library limit, pump, link) is written to the device's own log (`DeviceLog`) before
it is raised; the pump logs its side. Reads (interrogate, log pages) are retried once after a
silence (the pump's rate limiter may have dropped the frame); commands that change the pump
are never retried automatically (a lost reply must not give a second bolus or refill).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from fractions import Fraction
from typing import Any

from idds.drugs import DrugLibrary
from idds.errors import IddsError
from idds.link import (
    ClientPairing,
    ErrorCode,
    JsonValue,
    LinkClient,
    RefusedError,
    Role,
    TransportError,
)
from idds.programmer.anchor import Anchor, AnchorStore, finding
from idds.programmer.devicelog import DeviceLog
from idds.programmer.plans import (
    PlanError,
    RefillChange,
    RefillRequest,
    TherapyPlan,
    TherapyRequest,
    plan_refill_change,
    plan_therapy,
)
from idds.programmer.priming import PrimePlan, plan_prime
from idds.programmer.status import PumpStatus, parse_epoch, parse_status
from idds.protocol.pagedlog import GENESIS, decode_page
from idds.protocol.wire import therapy_to_json
from idds.pump import LogEntry, PrimeReason, verify_links
from idds.pump.clock import format_clock

Sleep = Callable[[float], Awaitable[None]]
#: Wait before retrying a read after silence (s): one paired-key token refills in 2 s.
READ_RETRY_S = 2.5


async def _no_sleep(seconds: float) -> None:
    return None


@dataclass(frozen=True)
class LogDownload:
    """The pump's event log as downloaded, and whether its hash chain verifies."""

    entries: tuple[LogEntry, ...]
    head: str
    verified: bool
    reason: str = ""
    #: The calendar moment of the pump's time 0 (None: a pump without a calendar).
    clock_epoch: datetime | None = None

    def when(self, t: Fraction) -> str:
        """Pump time `t` (s) as a date and time on the pump's calendar."""
        return format_clock(t, self.clock_epoch)


@dataclass(frozen=True)
class BolusOutcome:
    """A bolus request's outcome: given, or refused with the pump's reason in words."""

    given: bool | None  # None: unknown (the request went out, no answer came back)
    message: str
    details: dict[str, JsonValue]


class _Device:
    """What both devices share: a link client and the device's own log."""

    role: Role

    def __init__(self, client: LinkClient, log: DeviceLog, sleep: Sleep = _no_sleep) -> None:
        self.client = client
        self.log = log
        self.sleep = sleep

    async def pair(self, device_id: str, secret: bytes) -> ClientPairing:
        """Pair in the window this device opened over the near-field channel with the one-time
        `secret` (the wand, `idds.link.nearfield`); returns the stored pairing."""
        try:
            pairing = await self.client.pair(device_id, self.role, secret)
        except IddsError as exc:
            self.log.append("refused", command="pair", reason=str(exc))
            raise
        self.log.append("paired", pump=pairing.pump_id, role=self.role.label,
                        key_id=pairing.key_id.hex())
        return pairing

    async def send(self, command: str, args: Mapping[str, JsonValue] | None = None, *,
                   read: bool = False) -> dict[str, JsonValue]:
        """Send one command; log the refusal (then raise) or the result."""
        try:
            try:
                result = await self.client.send(command, args)
            except TransportError as exc:
                if not read or exc.code is not ErrorCode.NO_REPLY:
                    raise
                await self.sleep(READ_RETRY_S)
                result = await self.client.send(command, args)
        except IddsError as exc:
            self.log.append("refused", command=command, reason=str(exc))
            raise
        if not read:
            self.log.append("sent", command=command, args=dict(args or {}))
        return result


class Programmer(_Device):
    """The clinician programmer. `library` is the drug library in force; `today` gives the
    calendar date for refill dates (injected: the CLI passes `date.today`); `anchors` keeps
    where each pump's log stood (`idds.programmer.anchor`; None: no anchor kept)."""

    role = Role.CLINICIAN

    def __init__(self, client: LinkClient, log: DeviceLog, library: DrugLibrary,
                 today: Callable[[], date], sleep: Sleep = _no_sleep,
                 anchors: AnchorStore | None = None) -> None:
        super().__init__(client, log, sleep)
        self.library = library
        self.today = today
        self.anchors = anchors

    async def interrogate(self) -> PumpStatus:
        """Read the pump (logged by the pump as an interrogation), and compare its log with
        the anchor: a truncated, rewritten or rolled-back log is `status.log_warning` (and a
        warning in the device log)."""
        pump_id, anchor = self._anchor()
        args: dict[str, JsonValue] | None = None
        if anchor is not None and anchor.length > 0:
            args = {"log_at": anchor.length - 1}
        raw = await self.send("interrogate", args, read=True)
        status = parse_status(raw)
        at = raw.get("log_at_hash")
        problem = self._judge(pump_id or status.pump_id, anchor, status.log_length,
                              status.log_head, at if isinstance(at, str) else None,
                              "interrogate")
        return replace(status, log_warning=problem) if problem else status

    def _anchor(self) -> tuple[str | None, Anchor | None]:
        pairing = self.client.pairing
        if self.anchors is None or pairing is None:
            return None, None
        return pairing.pump_id, self.anchors.get(pairing.pump_id)

    def _judge(self, pump_id: str, anchor: Anchor | None, length: int, head: str,
               at_anchor: str | None, command: str) -> str | None:
        """The anchor's finding (logged as a warning; the anchor stays), or None (it moves)."""
        if self.anchors is None:
            return None
        problem = finding(anchor, length, head, at_anchor)
        if problem:
            self.log.append("warning", command=command, pump=pump_id, warning=problem)
            return problem
        self.anchors.put(pump_id, Anchor(length, head))
        return None

    async def plan_therapy(self, request: TherapyRequest) -> TherapyPlan:
        """Interrogate, then check and lay out the therapy; nothing is sent. A library
        refusal is logged here and raised."""
        status = await self.interrogate()
        try:
            plan = plan_therapy(status, request, self.library, self.today())
        except IddsError as exc:
            self.log.append("refused", command="program", reason=str(exc))
            raise
        return plan

    async def send_therapy(self, plan: TherapyPlan) -> dict[str, JsonValue]:
        """Send a confirmed therapy plan; the override (if any) is logged on both sides."""
        request = plan.request
        if plan.needs_override_confirmation:
            self.log.append("refused", command="program",
                            reason="soft-limit override not confirmed again")
            raise PlanError("the soft-limit override was not confirmed again on the Finish "
                            "screen: nothing sent")
        if plan.overridden:
            self.log.append("override", reason=request.override_reason,
                            breaches=list(plan.overridden))
        args: dict[str, JsonValue] = {
            "drug": request.drug.strip().lower(),
            "concentration": str(request.concentration),
            "therapy": therapy_to_json(request.therapy),
            "opioid_tolerant": request.opioid_tolerant,
        }
        if request.override_reason:
            args["override_reason"] = request.override_reason
        return await self.send("program", args)

    async def plan_refill(self, request: RefillRequest) -> RefillChange:
        """Interrogate, then check the refill (expected versus withdrawn); nothing is sent."""
        status = await self.interrogate()
        try:
            change = plan_refill_change(status, request, self.library, self.today())
        except IddsError as exc:
            self.log.append("refused", command="refill", reason=str(exc))
            raise
        for warning in change.warnings:
            self.log.append("warning", command="refill", warning=warning)
        return change

    async def send_refill(self, change: RefillChange) -> dict[str, JsonValue]:
        """Send a confirmed refill."""
        request = change.request
        return await self.send("refill", {
            "drug": change.drug,
            "concentration": str(request.concentration),
            "volume": str(request.volume),
            "withdrawn": str(request.withdrawn),
            "keep_dose": change.keep_dose,
            "bridge": change.bridge,
        })

    async def plan_prime(self, reason: PrimeReason) -> PrimePlan:
        """Interrogate, then check the priming bolus (due for `reason`; its mass of drug);
        nothing is sent."""
        status = await self.interrogate()
        try:
            return plan_prime(status, reason, self.library)
        except IddsError as exc:
            self.log.append("refused", command="prime", reason=str(exc))
            raise

    async def prime(self, plan: PrimePlan) -> dict[str, JsonValue]:
        """Send a confirmed priming bolus (fills the empty catheter once)."""
        return await self.send("prime", {"reason": plan.reason.value})

    async def record_advice(self, outcome: str, clinician: str, device: str, advice: str,
                            reason: str | None = None) -> dict[str, JsonValue]:
        """Write a decision on dose advice into the pump's own log."""
        args: dict[str, JsonValue] = {"outcome": outcome, "clinician": clinician,
                                      "device": device, "advice": advice}
        if reason is not None:
            args["reason"] = reason
        return await self.send("record_advice", args)

    async def pairings(self) -> list[dict[str, JsonValue]]:
        """The pump's pairing table (device id, role, key id, paired at; never a key)."""
        result = await self.send("pairings", read=True)
        listed = result.get("pairings")
        if not isinstance(listed, list) or not all(isinstance(p, dict) for p in listed):
            raise IddsError("the pump's answer has no list of pairings")
        return [p for p in listed if isinstance(p, dict)]

    async def unpair(self, target: str) -> list[dict[str, JsonValue]]:
        """Revoke the pairing(s) of a device id or key id (hex); the pump logs it, and so
        does this device ("unpaired", with what was removed)."""
        result = await self.send("unpair", {"device": target})
        removed = result.get("unpaired")
        if not isinstance(removed, list):
            raise IddsError("the pump's answer has no list of unpaired devices")
        self.log.append("unpaired", target=target, removed=removed)
        return [p for p in removed if isinstance(p, dict)]

    async def alarm_test(self) -> dict[str, JsonValue]:
        """Sound the alarm tones once."""
        return await self.send("alarm_test")

    async def read_log(self) -> LogDownload:
        """Download the whole event log, page by page, and verify what a device can: the
        sequence, links and head (`verify_links`; entry content is keyed, the pump checks it)
        and the anchor (a truncated, rewritten or rolled-back log fails verification)."""
        pump_id, anchor = self._anchor()
        entries: list[LogEntry] = []
        head = GENESIS
        while True:
            page = await self.send("read_log", {"start": len(entries)}, read=True)
            head = str(page["head"])
            epoch = parse_epoch(page.get("clock_epoch"))
            total, count = _int(page, "total"), _int(page, "count")
            if count:
                previous = entries[-1].hash if entries else GENESIS
                entries.extend(decode_page(str(page["page"]), previous))
            if len(entries) >= total or count == 0:
                break
        check = verify_links(entries, head)
        if not check.ok:
            self.log.append("warning", command="read_log",
                            warning=f"log fails verification at {check.bad_index}: {check.reason}")
            return LogDownload(tuple(entries), head, False, check.reason, epoch)
        at = (entries[anchor.length - 1].hash if anchor is not None
              and 0 < anchor.length <= len(entries) else None)
        problem = (self._judge(pump_id, anchor, len(entries), head, at, "read_log")
                   if pump_id is not None else None)
        return LogDownload(tuple(entries), head, problem is None, problem or "", epoch)


class Remote(_Device):
    """The patient remote: one action, request a bolus."""

    role = Role.PATIENT

    async def bolus(self) -> BolusOutcome:
        """Request a bolus: a one-use ticket from the pump, then the request with it (the pump
        refuses a request that reaches it more than a few seconds after its ticket). Given,
        or refused with the reason (lockout with minutes left, daily maximum, alarm), or
        UNKNOWN (`given` None) when the request went out and no answer came back: then the
        remote says so and never claims either. Other link failures (not paired, no answer to
        the ticket request: nothing can have been given) still raise."""
        ticket = await self.send("bolus_ticket", read=True)
        try:
            result = await self.send("bolus_request", {"ticket": ticket.get("ticket")})
        except RefusedError as exc:
            if exc.code is not ErrorCode.COMMAND_REFUSED:
                raise
            return BolusOutcome(False, f"Bolus NOT given: {exc.reason}", {"reason": exc.reason})
        except TransportError as exc:
            if exc.code is not ErrorCode.NO_REPLY:
                raise
            self.log.append("warning", command="bolus_request", warning=UNKNOWN_OUTCOME)
            return BolusOutcome(None, UNKNOWN_OUTCOME, {"reason": "no answer from the pump"})
        dose = result.get("dose")
        given = f"{dose} ({result.get('volume')})" if dose else str(result.get("volume"))
        return BolusOutcome(True, f"Bolus given: {given} over {result.get('minutes')} min",
                            result)

    async def status(self) -> dict[str, JsonValue]:
        """Lockout left, boluses in the last 24 h, whether one is running, the last one."""
        return await self.send("bolus_status", read=True)


#: What the remote says when a bolus request got no answer (issue 13: never guess).
UNKNOWN_OUTCOME = ("The pump did not answer; the bolus may or may not have been given: check "
                   "with `idds remote status` before pressing again.")


def _int(result: dict[str, Any], name: str) -> int:
    value = result.get(name)
    if type(value) is not int:
        raise IddsError(f"the pump's answer has no whole number {name}")
    return value
