"""The API's JSON for what the care team records and reads back: the pump log, the diary,
side effects, alarms, recommendations, the audit trail and users (the programs and refills are
in `idds.api.schemas`)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, Field

from idds.api.schemas import QuantityOut, Reason, Strict, Text, Version

#: Highest side-effect grade (CTCAE-like 0-4, `idds.store.diary`).
Grade = Annotated[int, Field(ge=0, le=4)]
SideEffectName = Annotated[str, Field(min_length=1, max_length=64)]


class LogEntryOut(BaseModel):
    """One pump log entry: sequence, pump time (exact seconds since the pump's epoch, as a
    decimal or fraction), kind, what it says, and its hash chain."""

    seq: int
    time_s: str
    kind: str
    summary: str
    prev_hash: str
    hash: str


class SyncOut(BaseModel):
    """An interrogation and a log download from the pump, stored: the status summary and what
    the import did (stored, duplicates, missing sequence ranges, entries held back)."""

    pump_id: str
    therapy: str
    reservoir: str
    battery: str
    alarms: list[str]
    refill_due_on: date | None
    log_verified: bool
    log_problem: str
    stored: int
    duplicates: int
    gaps: list[tuple[int, int]]
    held_back: int
    alarms_recorded: int


class SyncedOut(BaseModel):
    """One pump of a clinic-wide sync: what it stored, or why it was not synced."""

    patient_id: int
    implant_id: int
    pump_serial: str
    synced: SyncOut | None
    error: str | None


class ReadingOut(BaseModel):
    """One interrogation stored at a sync: volumes in mL, the battery's days to its elective
    replacement indicator, the pump's active alarm kinds; the volume pumped since the last
    fill (mL) and the calendar moment of the pump's time 0 (None on readings stored before
    they were kept, and the epoch for a pump without a calendar)."""

    id: int
    implant_id: int
    read_at: datetime
    read_by: str
    pump_time: str
    drug: str | None
    concentration: QuantityOut | None
    therapy: dict[str, object]
    confirmed: bool
    infusing: bool
    reservoir: QuantityOut
    capacity: QuantityOut
    low_reservoir_alarm: QuantityOut
    refill_due_on: date | None
    battery: str
    battery_eri_days: int
    alarms: list[str]
    log_length: int
    pumped_since_fill: QuantityOut | None
    clock_epoch: datetime | None


class DiaryIn(Strict):
    felt_at: datetime = Field(description="When the pain was felt (with its time zone).")
    pain: Annotated[int, Field(ge=0, le=10, description="NRS 0-10 (LOINC 72514-3).")]
    note: Text = ""


class DiaryOut(BaseModel):
    id: int
    patient_id: int
    felt_at: datetime
    pain: int
    note: str
    recorded_at: datetime
    recorded_by: str


class SideEffectsIn(Strict):
    grades: Annotated[dict[SideEffectName, Grade], Field(max_length=40)]
    respiratory_rate_per_min: Annotated[int | None, Field(ge=0, le=80)] = None
    note: Text = ""


class SideEffectsOut(BaseModel):
    id: int
    patient_id: int
    assessed_at: datetime
    grades: dict[str, int]
    respiratory_rate_per_min: int | None
    note: str
    assessed_by: str


class AlarmOut(BaseModel):
    id: int
    patient_id: int
    implant_id: int
    kind: str
    priority: str
    raised_at: datetime
    seen_at: datetime | None
    seen_by: str | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    version: int


class SeenIn(Strict):
    expected_version: Version


class AcknowledgeIn(Strict):
    expected_version: Version
    reason: Reason


class RecommendationOut(BaseModel):
    id: int
    patient_id: int
    controller: str
    recommended: dict[str, object]
    reasons: list[str]
    made_at: datetime
    decision: str | None
    decided_by: str | None
    decided_at: datetime | None
    decision_reason: str | None
    program_id: int | None
    version: int


class DecisionIn(Strict):
    expected_version: Version
    decision: Annotated[str, Field(description="accepted or rejected")]
    reason: Reason
    program_id: Annotated[int | None, Field(ge=1, le=2**31 - 1)] = None


class AuditOut(BaseModel):
    sequence: int
    at: datetime
    actor: str
    role: str
    action: str
    entity_type: str
    entity_id: str
    before: dict[str, object] | None
    after: dict[str, object] | None
    reason: str | None
    prev_hash: str
    hash: str


class AuditCheckOut(BaseModel):
    ok: bool
    records: int
    head: str
    problem: str | None


class UserIn(Strict):
    username: Annotated[str, Field(min_length=1, max_length=64)]
    role: str
    password: Annotated[str, Field(min_length=1, max_length=1024)]
    patient_id: Annotated[int | None, Field(ge=1, le=2**31 - 1)] = None


class UserOut(BaseModel):
    username: str
    role: str
    patient_id: int | None
    disabled: bool
    locked: bool
    failed_logins: int
    created_at: datetime


class DeidentifiedPainOut(BaseModel):
    """One diary score without identity: the research code, age in whole years (capped at
    90), the day since the patient's first entry, the pain 0-10."""

    code: str
    age_years: int
    day: int
    pain: int
