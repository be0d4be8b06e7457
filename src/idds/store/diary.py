"""The pain diary (0-10 numeric rating scale, LOINC 72514-3) and side-effect assessments
(grades 0-4, CTCAE-like, by name, as `idds.selection.record.SideEffects`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from idds.selection.record import SideEffects
from idds.store.canonical import canonical_json, parse_json
from idds.store.clock import utc
from idds.store.database import Database
from idds.store.errors import StoreError
from idds.store.model import DiaryEntry, Patient, SideEffectAssessment
from idds.store.permissions import Action, Actor
from idds.store.rows import fetch

#: Highest grade of a side effect (CTCAE-like 0-4).
MAX_GRADE = 4
#: A respiratory rate outside this range (breaths/min) is a typing error, not a reading.
RESPIRATORY_RANGE = range(0, 81)


def add_diary_entry(db: Database, actor: Actor, patient_id: int, felt_at: datetime, pain: int,
                    note: str = "") -> DiaryEntry:
    """A diary entry: pain 0-10 felt at `felt_at` (not in the future)."""
    if isinstance(pain, bool) or not isinstance(pain, int) or not 0 <= pain <= 10:
        raise StoreError(f"pain must be a whole number from 0 to 10, not {pain!r}")
    with db.write(actor, Action.WRITE_DIARY, patient_id) as w:
        fetch(w.session, Patient, patient_id)
        if utc(felt_at, "the diary time") > w.now:
            raise StoreError(f"the diary time {felt_at.isoformat()} is in the future")
        return w.create(DiaryEntry(patient_id=patient_id, felt_at=felt_at, pain=pain,
                                   note=note.strip(), recorded_at=w.now,
                                   recorded_by=actor.username))


def diary_of(db: Database, actor: Actor, patient_id: int) -> list[DiaryEntry]:
    """The patient's diary, in the order the pain was felt."""
    with db.read(actor, Action.READ_RECORD, patient_id) as session:
        return list(session.scalars(select(DiaryEntry).where(DiaryEntry.patient_id == patient_id)
                                    .order_by(DiaryEntry.felt_at, DiaryEntry.id)))


def assess_side_effects(db: Database, actor: Actor, patient_id: int, effects: SideEffects,
                        respiratory_rate_per_min: int | None = None,
                        note: str = "") -> SideEffectAssessment:
    """Record side-effect grades (each 0-4) and, when counted, the respiratory rate."""
    for name, grade in effects.grades.items():
        if not name.strip() or isinstance(grade, bool) or not 0 <= grade <= MAX_GRADE:
            raise StoreError(f"side effect {name!r} grade must be 0 to {MAX_GRADE}, not {grade!r}")
    if respiratory_rate_per_min is not None and respiratory_rate_per_min not in RESPIRATORY_RANGE:
        raise StoreError(f"respiratory rate {respiratory_rate_per_min}/min is outside 0 to 80")
    with db.write(actor, Action.ASSESS_SIDE_EFFECTS, patient_id) as w:
        fetch(w.session, Patient, patient_id)
        return w.create(SideEffectAssessment(
            patient_id=patient_id, assessed_at=w.now, grades=canonical_json(effects.grades),
            respiratory_rate_per_min=respiratory_rate_per_min, note=note.strip(),
            assessed_by=actor.username))


def assessment_grades(assessment: SideEffectAssessment) -> SideEffects:
    """The grades of a stored assessment."""
    grades = parse_json(assessment.grades)
    assert isinstance(grades, dict)
    return SideEffects({str(k): int(v) for k, v in grades.items()})


def assessments_of(db: Database, actor: Actor, patient_id: int) -> list[SideEffectAssessment]:
    with db.read(actor, Action.READ_RECORD, patient_id) as session:
        return list(session.scalars(select(SideEffectAssessment)
                                    .where(SideEffectAssessment.patient_id == patient_id)
                                    .order_by(SideEffectAssessment.id)))
