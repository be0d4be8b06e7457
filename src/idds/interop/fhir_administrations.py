"""What the pump gave, from its log as the store holds it (`idds.store.pumplogs`), as FHIR
`MedicationAdministration`s: one per rate segment of the basal and one per bolus.

Rate segments. The log is walked in sequence order, keeping what the pump itself keeps
(`idds.pump.machine.Pump.can_infuse`, `basal_flow`): the therapy (`program changed`: the new
therapy and the drug; `restarted after power loss`: the therapy), the drug (`drug changed`:
unconfirmed until the next program), the alarms that stop the infusion (`alarm raised` with
behaviour stop, until `alarm cleared`), a stalled motor (`motor stalled` until `motor
restarted`) and a clinician, priming or bridge bolus, which replaces the basal while it runs.
A segment is a span in which one confirmed program of one drug runs unchanged and nothing
stops it; a flex program's segment is cut at each step (one rate per administration, the
step's); a stopped basal gives none, a minimum-rate basal one without a rate (the device's
minimum flow is not in the record). A segment still running at the newest entry is
`in-progress` with no end; a finished one `completed`.

Boluses. Each `bolus started` with its `bolus completed` is one `completed` administration,
its dose the volume the pump logged times the drug's concentration (exact, in the drug's
mass unit: mg or ug in UCUM); one ended by `bolus cancelled` is `stopped`, without a dose
(the log does not say how much ran), and one still running is `in-progress`. A refused bolus
(`bolus refused`) gave nothing and is not an administration.

The request. Each `program changed` entry is matched, in order, to the next stored program
of the implant with the same therapy and drug; the segment's `request` (and a patient
bolus's) is that program's MedicationRequest. A program the record does not hold (set
outside it) gives administrations without a request; other boluses never name one (the
program does not order them).

Times. Log times are pump seconds since the pump's own epoch. Each entry is dated through the
sync that first read it, the reading whose log length covers the entry. Where that reading
kept the pump's `clock_epoch` (the calendar moment of pump time 0; readings since store
revision 0003, from a pump with a calendar), the entry's moment is that epoch plus its pump
seconds, exactly (to the microsecond a FHIR dateTime is written to, rounded). Otherwise (an
older reading, a pump without a calendar) the reading's `read_at` (the record's UTC clock) is
taken as the moment of that interrogation's `interrogated` entry, and the entry is that many
pump seconds before it (to within the sync's own few seconds, and the pump clock's drift
since). An entry no reading covers has no date and gives no administration.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any

from idds.interop.codes import FHIR_PUMP_LOG_SYSTEM, ROUTE_INTRATHECAL
from idds.interop.fhir_types import FhirError, FhirVersion, quantity, rate
from idds.interop.fhir_types import ref as _ref
from idds.pump import Continuous, EventKind, Flex, LogEntry, MinimumRate, Therapy
from idds.pump.clock import DAY, second_of_day
from idds.pump.program import Basal, Drug
from idds.pump.state import BolusKind
from idds.store.model import Implant, PumpReading, TherapyProgram
from idds.store.quantities import concentration_of
from idds.store.therapy import program_therapy
from idds.units import Kind, Quantity, UnitError, parse_quantity


@dataclass(frozen=True)
class Administration:
    """One administration the log shows: `kind` "basal" or the bolus's kind; from pump time
    `start` (s) to `end` (None: still running at the newest entry); the basal's dose `rate`
    or the bolus's `dose` (None where the log does not give it); the program in force; `seq`
    the log entry it starts at; `piece` the flex step's number within the segment."""

    kind: str
    seq: int
    piece: int | None
    start: Fraction
    end: Fraction | None
    status: str
    drug: Drug
    rate: Quantity | None
    dose: Quantity | None
    program_id: int | None
    note: str


@dataclass
class _Running:
    """What the pump is doing, as the log has said so far."""

    therapy: Therapy | None = None
    drug: Drug | None = None
    confirmed: bool = False
    stops: set[str] = field(default_factory=set)
    stalled: bool = False
    replaced: bool = False  # a clinician, priming or bridge bolus runs instead of the basal
    program_id: int | None = None

    def basal(self) -> tuple[Basal, Drug, int | None] | None:
        """The basal running now (with its drug and program), or None when none is."""
        if self.therapy is None or self.drug is None or not self.confirmed or self.stops \
                or self.stalled or self.replaced:
            return None
        if not isinstance(self.therapy.basal, Continuous | Flex | MinimumRate):
            return None
        return self.therapy.basal, self.drug, self.program_id


def _match(entry: LogEntry, pending: list[TherapyProgram]) -> int | None:
    """The stored program a `program changed` entry set: the next one in order with the same
    therapy and drug (taken off `pending` with those before it), or None."""
    therapy, drug = entry.therapy("new"), entry.drug("drug")
    for index, row in enumerate(pending):
        if drug is not None and row.drug == drug.name and program_therapy(row) == therapy \
                and concentration_of(row.concentration_num,
                                     row.concentration_den) == drug.concentration:
            del pending[:index + 1]
            return row.id
    return None


def _pieces(basal: Basal, start: Fraction, end: Fraction | None, last: Fraction
            ) -> list[tuple[Fraction, Fraction | None, Quantity | None]]:
    """(start, end, rate) of each piece of a segment: one for a continuous or minimum-rate
    basal, one per flex step run for a flex one (an open segment is cut up to `last`)."""
    if isinstance(basal, Continuous):
        return [(start, end, basal.dose_rate)]
    if not isinstance(basal, Flex):
        return [(start, end, None)]
    if len(basal.days) != 1:
        raise FhirError("MedicationAdministration: a weekly flex schedule has no export "
                        "(the pump's weekday is not in the record)")
    steps = basal.days[0]
    starts = [Fraction(step.start_minute * 60) for step in steps]
    out: list[tuple[Fraction, Fraction | None, Quantity | None]] = []
    t = start
    while True:
        into = second_of_day(t)
        index = bisect_right(starts, into) - 1  # -1: the last step, run on past midnight
        boundary = t - into + (starts[index + 1] if index + 1 < len(starts) else DAY)
        dose_rate = steps[index].dose_rate
        if end is None and boundary > last:
            out.append((t, None, dose_rate))
            return out
        if end is not None and boundary >= end:
            out.append((t, end, dose_rate))
            return out
        out.append((t, boundary, dose_rate))
        t = boundary


def _volume(entry: LogEntry) -> Quantity:
    try:
        return parse_quantity(str(entry.value("volume")), Kind.VOLUME, "bolus volume")
    except UnitError as exc:
        raise FhirError(f"MedicationAdministration: log entry {entry.seq}: {exc}") from None


def administrations(entries: Sequence[LogEntry], programs: Sequence[TherapyProgram]
                    ) -> list[Administration]:
    """The rate segments and boluses of a pump's log (see the module docstring), in the
    order they began; `programs` the implant's stored programs, oldest first."""
    now, pending = _Running(), list(programs)
    out: list[Administration] = []
    segment: tuple[tuple[Basal, Drug, int | None], Fraction, int] | None = None
    bolus: tuple[LogEntry, Drug, int | None] | None = None
    last = entries[-1].time if entries else Fraction(0)

    def close(at: Fraction | None) -> None:
        assert segment is not None
        (basal, drug, program), start, seq = segment
        pieces = _pieces(basal, start, at, last)
        for number, (begin, end, dose_rate) in enumerate(pieces):
            if end is not None and end <= begin:
                continue  # nothing ran
            out.append(Administration(
                "basal", seq, number if isinstance(basal, Flex) else None, begin, end,
                "in-progress" if end is None else "completed", drug, dose_rate, None,
                program, "minimum rate" if isinstance(basal, MinimumRate) else "basal"))

    for entry in entries:
        kind = entry.kind
        if kind is EventKind.PROGRAM_CHANGED:
            now.therapy, now.confirmed = entry.therapy("new"), True
            now.drug = entry.drug("drug") or now.drug
            now.program_id = _match(entry, pending)
        elif kind is EventKind.DRUG_CHANGED:
            now.drug, now.confirmed = entry.drug("new"), False
        elif kind is EventKind.RESTARTED:
            now.therapy = entry.therapy("therapy") or now.therapy
        elif kind is EventKind.ALARM_RAISED and entry.value("behaviour") == "stop":
            now.stops.add(str(entry.value("alarm")))
        elif kind is EventKind.ALARM_CLEARED:
            now.stops.discard(str(entry.value("alarm")))
        elif kind in (EventKind.MOTOR_STALLED, EventKind.MOTOR_RESTARTED):
            now.stalled = kind is EventKind.MOTOR_STALLED
        elif kind is EventKind.BOLUS_STARTED and now.drug is not None:
            patient = entry.bolus_kind() is BolusKind.PATIENT
            bolus = (entry, now.drug, now.program_id if patient else None)
            now.replaced = not patient
        elif kind in (EventKind.BOLUS_COMPLETED, EventKind.BOLUS_CANCELLED) and bolus:
            out.append(_bolus(*bolus, entry))
            bolus, now.replaced = None, False
        running = now.basal()
        if segment is not None and segment[0] != running:
            close(entry.time)
            segment = None
        if segment is None and running is not None:
            segment = (running, entry.time, entry.seq)
    if segment is not None:
        close(None)
    if bolus is not None:
        out.append(_bolus(*bolus, None))
    return sorted(out, key=lambda a: (a.start, a.seq, a.piece or 0))


def _bolus(started: LogEntry, drug: Drug, program: int | None,
           ended: LogEntry | None) -> Administration:
    kind = str(started.value("kind"))
    planned = _volume(started) * drug.concentration
    if ended is None:
        return Administration(kind, started.seq, None, started.time, None, "in-progress",
                              drug, None, None, program, f"{kind} bolus of {planned}, running")
    if ended.kind is EventKind.BOLUS_CANCELLED:
        return Administration(kind, started.seq, None, started.time, ended.time, "stopped",
                              drug, None, None, program, f"{kind} bolus of {planned} "
                              f"cancelled: {ended.value('why')}")
    return Administration(kind, started.seq, None, started.time, ended.time, "completed",
                          drug, None, _volume(ended) * drug.concentration, program,
                          f"{kind} bolus")


class LogDates:
    """Calendar moments of log entries (see the module docstring, "Times"). Each anchor is
    (log length, pump time, moment): the entries before that length are dated as the moment
    plus their pump seconds after that pump time; readings oldest first."""

    def __init__(self, entries: Sequence[LogEntry], readings: Sequence[PumpReading]) -> None:
        asked = [e for e in entries if e.kind is EventKind.INTERROGATED]
        seqs = [e.seq for e in asked]
        self.anchors: list[tuple[int, Fraction, datetime]] = []
        for reading in readings:
            if reading.clock_epoch is not None:  # exact: pump time 0 is this moment
                self.anchors.append((reading.log_length, Fraction(0), reading.clock_epoch))
                continue
            index = bisect_left(seqs, reading.log_length) - 1
            if index >= 0:
                self.anchors.append((reading.log_length, asked[index].time, reading.read_at))

    def at(self, seq: int, t: Fraction) -> datetime | None:
        """The moment of pump time `t`, dated by the sync that read entry `seq` (None: no
        reading covers it)."""
        for length, pump_time, read_at in self.anchors:
            if seq < length:
                return read_at + timedelta(microseconds=round((t - pump_time) * 10**6))
        return None


def administration_resource(given: Administration, implant: Implant, dates: LogDates,
                            dose_unit: str, version: FhirVersion) -> dict[str, Any] | None:
    """`given` as a MedicationAdministration (None when its start has no date):
    intrathecal, the rate in `dose_unit` (the drug's "mg/day" or "mcg/day") or the dose in
    its mass unit, both UCUM and exact; R5 `occurence[x]`, R4B `effective[x]`."""
    start = dates.at(given.seq, given.start)
    if start is None:
        return None
    period = {"start": start.isoformat()}
    if given.end is not None:
        end = dates.at(given.seq, given.end)
        assert end is not None  # dated by the same anchor as the start
        period["end"] = end.isoformat()
    dosage: dict[str, Any] = {"text": given.note, "route": ROUTE_INTRATHECAL.concept()}
    if given.rate is not None:
        dosage.update(rate(given.rate, dose_unit))
    if given.dose is not None:
        dosage["dose"] = quantity(given.dose, dose_unit.split("/")[0])
    rid = f"{'basal' if given.kind == 'basal' else 'bolus'}-{implant.id}-{given.seq}"
    rid += "" if given.piece is None else f"-{given.piece}"
    medication = {"text": f"{given.drug.name} {given.drug.concentration}"}
    pump = _ref("Device", f"pump-{implant.id}")
    resource: dict[str, Any] = {
        "resourceType": "MedicationAdministration", "id": rid,
        "identifier": [{"system": FHIR_PUMP_LOG_SYSTEM,
                        "value": f"{implant.pump_serial}/{given.seq}"}],
        "status": given.status, "subject": _ref("Patient", f"patient-{implant.patient_id}"),
        "device": [{"reference": pump}] if version is FhirVersion.R5 else [pump],
        "dosage": dosage}
    if version is FhirVersion.R5:
        resource["medication"] = {"concept": medication}
        resource["occurencePeriod"] = period
    else:
        resource["medicationCodeableConcept"] = medication
        resource["effectivePeriod"] = period
    if given.program_id is not None:
        resource["request"] = _ref("MedicationRequest", f"program-{given.program_id}")
    return resource
