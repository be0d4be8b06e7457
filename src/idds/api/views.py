"""Rows of the record as the API's JSON (`idds.api.schemas`, `idds.api.records`)."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

from idds.api.records import (
    AlarmOut,
    AuditOut,
    DiaryOut,
    LogEntryOut,
    ReadingOut,
    RecommendationOut,
    SideEffectsOut,
    UserOut,
)
from idds.api.schemas import (
    BreachOut,
    ImplantOut,
    PatientOut,
    ProgramOut,
    QuantityOut,
    RefillOut,
    RowOut,
)
from idds.programmer import Row
from idds.pump.log import LogEntry
from idds.store.canonical import parse_json
from idds.store.model import (
    Alarm,
    AuditRecord,
    DiaryEntry,
    Implant,
    Patient,
    PumpReading,
    RecommendationRecord,
    Refill,
    SideEffectAssessment,
    TherapyProgram,
    User,
)
from idds.store.quantities import concentration_of, daily_dose_of, volume_of


def _dict(text: str | None) -> dict[str, object] | None:
    if text is None:
        return None
    value = parse_json(text)
    return value if isinstance(value, dict) else {"value": value}


def _list(text: str) -> list[object]:
    value = parse_json(text)
    return value if isinstance(value, list) else [value]


def patient_out(row: Patient) -> PatientOut:
    return PatientOut(id=row.id, identifier=row.identifier, name=row.name,
                      birth_date=row.birth_date, created_at=row.created_at, version=row.version)


def implant_out(row: Implant) -> ImplantOut:
    volume = None if row.catheter_volume_nl is None else QuantityOut.of(
        volume_of(row.catheter_volume_nl), "mL")
    return ImplantOut(id=row.id, patient_id=row.patient_id, pump_serial=row.pump_serial,
                      pump_model=row.pump_model, catheter_model=row.catheter_model,
                      catheter_tip=row.catheter_tip, catheter_volume=volume,
                      implanted_on=row.implanted_on, explanted_on=row.explanted_on,
                      version=row.version)


def rows_out(rows: Sequence[Row]) -> list[RowOut]:
    """A Finish screen's rows: setting, the value in force, the value planned."""
    return [RowOut(setting=r.setting, old=r.old, new=r.new) for r in rows]


def breaches_out(data: list[object]) -> list[BreachOut]:
    return [BreachOut.model_validate(b) for b in data if isinstance(b, dict)]


def program_out(row: TherapyProgram) -> ProgramOut:
    dose = daily_dose_of(row.daily_dose_num, row.daily_dose_den)
    return ProgramOut(
        id=row.id, implant_id=row.implant_id, previous_id=row.previous_id, drug=row.drug,
        concentration=QuantityOut.of(concentration_of(row.concentration_num,
                                                      row.concentration_den)),
        therapy=_dict(row.therapy) or {}, daily_dose=None if dose is None else
        QuantityOut.of(dose), library_version_id=row.library_version_id,
        breaches=breaches_out(_list(row.checks)), override_reason=row.override_reason,
        reason=row.reason, programmed_at=row.programmed_at, programmed_by=row.programmed_by)


def refill_out(row: Refill) -> RefillOut:
    return RefillOut(
        id=row.id, implant_id=row.implant_id, drug=row.drug,
        concentration=QuantityOut.of(concentration_of(row.concentration_num,
                                                      row.concentration_den)),
        lot=row.lot, expected=QuantityOut.of(volume_of(row.expected_nl), "mL"),
        withdrawn=QuantityOut.of(volume_of(row.withdrawn_nl), "mL"),
        filled=QuantityOut.of(volume_of(row.filled_nl), "mL"), mismatch=row.mismatch,
        next_refill_on=row.next_refill_on, refilled_at=row.refilled_at, operator=row.operator)


def log_entry_out(entry: LogEntry) -> LogEntryOut:
    time = Fraction(entry.time)
    return LogEntryOut(seq=entry.seq, time_s=str(time), kind=str(entry.kind.value),
                       summary=entry.summary(), prev_hash=entry.prev_hash, hash=entry.hash)


def reading_out(row: PumpReading) -> ReadingOut:
    concentration = (None if row.concentration_num is None or row.concentration_den is None
                     else QuantityOut.of(concentration_of(row.concentration_num,
                                                          row.concentration_den)))
    return ReadingOut(
        id=row.id, implant_id=row.implant_id, read_at=row.read_at, read_by=row.read_by,
        pump_time=row.pump_time, drug=row.drug, concentration=concentration,
        therapy=_dict(row.therapy) or {}, confirmed=row.confirmed, infusing=row.infusing,
        reservoir=QuantityOut.of(volume_of(row.reservoir_nl), "mL"),
        capacity=QuantityOut.of(volume_of(row.capacity_nl), "mL"),
        low_reservoir_alarm=QuantityOut.of(volume_of(row.low_alarm_nl), "mL"),
        refill_due_on=row.refill_due_on, battery=row.battery,
        battery_eri_days=row.battery_eri_days, alarms=[str(a) for a in _list(row.alarms)],
        log_length=row.log_length,
        pumped_since_fill=(None if row.pumped_nl is None
                           else QuantityOut.of(volume_of(row.pumped_nl), "mL")),
        clock_epoch=row.clock_epoch)


def diary_out(row: DiaryEntry) -> DiaryOut:
    return DiaryOut(id=row.id, patient_id=row.patient_id, felt_at=row.felt_at, pain=row.pain,
                    note=row.note, recorded_at=row.recorded_at, recorded_by=row.recorded_by)


def side_effects_out(row: SideEffectAssessment) -> SideEffectsOut:
    grades = _dict(row.grades) or {}
    return SideEffectsOut(id=row.id, patient_id=row.patient_id, assessed_at=row.assessed_at,
                          grades={str(k): int(str(v)) for k, v in grades.items()},
                          respiratory_rate_per_min=row.respiratory_rate_per_min, note=row.note,
                          assessed_by=row.assessed_by)


def alarm_out(row: Alarm) -> AlarmOut:
    return AlarmOut(id=row.id, patient_id=row.patient_id, implant_id=row.implant_id,
                    kind=row.kind, priority=row.priority, raised_at=row.raised_at,
                    seen_at=row.seen_at, seen_by=row.seen_by,
                    acknowledged_at=row.acknowledged_at, acknowledged_by=row.acknowledged_by,
                    version=row.version)


def recommendation_out(row: RecommendationRecord) -> RecommendationOut:
    return RecommendationOut(
        id=row.id, patient_id=row.patient_id, controller=row.controller,
        recommended=_dict(row.recommended) or {},
        reasons=[str(r) for r in _list(row.reasons)], made_at=row.made_at,
        decision=row.decision, decided_by=row.decided_by, decided_at=row.decided_at,
        decision_reason=row.decision_reason, program_id=row.program_id, version=row.version)


def audit_out(row: AuditRecord) -> AuditOut:
    return AuditOut(sequence=row.sequence, at=row.at, actor=row.actor, role=row.role,
                    action=row.action, entity_type=row.entity_type, entity_id=row.entity_id,
                    before=_dict(row.before), after=_dict(row.after), reason=row.reason,
                    prev_hash=row.prev_hash, hash=row.hash)


def user_out(row: User, locked: bool) -> UserOut:
    return UserOut(username=row.username, role=row.role, patient_id=row.patient_id,
                   disabled=row.disabled, locked=locked, failed_logins=row.failed_logins,
                   created_at=row.created_at)
