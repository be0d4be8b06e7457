"""A patient's record for the FHIR tests: two programs (the second replacing the first, two
days on), a diary entry, an alarm, and a pump log imported as a sync stores it, with its
reading: the first program set, a patient bolus given, one refused, a stopping alarm raised
and cleared, the second program set, a clinician bolus cancelled, an interrogation."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from fractions import Fraction
from typing import Any

from idds.drugs import load_library
from idds.pump import AlarmKind, Drug, EventKind, EventLog
from idds.pump.clock import HOUR, MINUTE
from idds.pump.records import drug_record, therapy_record
from idds.store import Database, UserRole, alarms, diary, patients, pumplogs, readings, therapy
from idds.store.clock import FakeClock
from idds.store.therapy import program_therapy
from tests.store.store_helpers import actor, pump_status, q, therapy_plan

MORPHINE = Drug("morphine", q("10 mg/mL"))
#: Pump seconds of the log's events (the pump's epoch is its own).
FIRST_SET, BOLUS_AT, REFUSED_AT, STOPPED_AT, CLEARED_AT = (
    2 * MINUTE, HOUR, 2 * HOUR, 3 * HOUR, 3 * HOUR + 30 * MINUTE)
SECOND_SET = 2 * 24 * HOUR
ASKED_AT = SECOND_SET + 2 * HOUR


@dataclass(frozen=True)
class Record:
    patient_id: int
    implant_id: int
    program_ids: tuple[int, int]


def _log(first: Any, second: Any) -> EventLog:
    log = EventLog()
    drug = drug_record(MORPHINE)
    log.append(Fraction(0), EventKind.CREATED, {"reservoir": q("20 mL")})
    log.append(Fraction(30), EventKind.DRUG_CHANGED, {"old": None, "new": drug})
    log.append(FIRST_SET, EventKind.PROGRAM_CHANGED, {
        "old": therapy_record(first), "old_confirmed": False, "new": therapy_record(first),
        "drug": drug})
    log.append(BOLUS_AT, EventKind.BOLUS_STARTED, {"kind": "patient", "volume": q("0.01 mL"),
                                                   "flow": "1 mL/h", "ends_in_s": 36.0})
    log.append(BOLUS_AT + 36, EventKind.BOLUS_COMPLETED, {"kind": "patient",
                                                          "volume": q("0.01 mL")})
    log.append(REFUSED_AT, EventKind.BOLUS_REFUSED, {"command": "patient bolus",
                                                     "limit": "LOCKOUT", "why": "lockout"})
    log.append(STOPPED_AT, EventKind.ALARM_RAISED, {"alarm": "motor stall", "priority": "high",
                                                    "behaviour": "stop"})
    log.append(CLEARED_AT, EventKind.ALARM_CLEARED, {"alarm": "motor stall", "why": "ok"})
    log.append(SECOND_SET, EventKind.PROGRAM_CHANGED, {
        "old": therapy_record(first), "old_confirmed": True, "new": therapy_record(second),
        "drug": drug})
    log.append(SECOND_SET + HOUR, EventKind.BOLUS_STARTED, {
        "kind": "clinician", "volume": q("0.02 mL"), "flow": "1 mL/h", "ends_in_s": 72.0})
    log.append(SECOND_SET + HOUR + 10, EventKind.BOLUS_CANCELLED, {"kind": "clinician",
                                                                   "why": "stopped"})
    log.append(ASKED_AT, EventKind.INTERROGATED, {})
    return log


def make_record(db: Database, clock: FakeClock, epoch: datetime | None = None) -> Record:
    """The record (see the module docstring); the sync is at the clock's time, two days
    after the first program, the pump's log ending with that sync's interrogation; `epoch`
    the pump's clock_epoch its reading keeps (None: a reading without one, as before store
    revision 0003)."""
    library = load_library()
    nurse, doctor = actor(UserRole.NURSE, clock), actor(UserRole.CLINICIAN, clock)
    patient = patients.register_patient(db, nurse, "MRN-1", "Ada Example", date(1950, 5, 17))
    implant = patients.record_implant(db, doctor, patient.id, patients.ImplantDetails(
        "SN-1", "IDDS reference pump", "8709SC", "T10", date(2026, 2, 20), q("0.1 mL")))
    version = therapy.install_library(db, actor(UserRole.ADMIN, clock), library)
    first = therapy.record_program(db, doctor, implant.id, therapy_plan(library), version.id,
                                   "start", replaces=None)
    clock.advance(days=2)
    doctor = actor(UserRole.CLINICIAN, clock)  # the password entered again, two days on
    second = therapy.record_program(db, doctor, implant.id, therapy_plan(library, "1.1 mg/day"),
                                    version.id, "more relief", replaces=first.id)
    diary.add_diary_entry(db, nurse, patient.id, clock() - timedelta(hours=1), 4, "night")
    alarms.record_alarm(db, nurse, implant.id, AlarmKind.LOW_RESERVOIR, clock())
    clock.advance(hours=2)
    nurse = actor(UserRole.NURSE, clock)
    log = _log(program_therapy(first), program_therapy(second))
    pumplogs.import_log(db, nurse, implant.id, log.entries, log.head)
    status = pump_status(program_therapy(second), "12.345678 mL")
    readings.record_reading(db, nurse, implant.id, replace(
        status, log_length=len(log), clock_epoch=epoch), clock().date())
    return Record(patient.id, implant.id, (first.id, second.id))
