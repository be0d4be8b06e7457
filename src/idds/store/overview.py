"""The clinic at a glance: for every patient, what the dashboard triages on (the implanted
pump's latest reading, the alarms not yet acknowledged, the pain diary of the last days, when
the patient was last reviewed), read in a fixed number of queries whatever the clinic's size.

A review ("I have looked at this patient's record") is an audited act with no row of its own:
`record_review` writes only its audit record, so it is as tamper-evident as the trail.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from idds.store.clock import utc
from idds.store.database import Database
from idds.store.model import Alarm, AuditRecord, DiaryEntry, Implant, Patient, PumpReading
from idds.store.permissions import Action, Actor
from idds.store.rows import fetch

#: The audit entity of a review: the patient's row.
REVIEWED_ENTITY = Patient.__tablename__
#: The window the dashboard reads the diary over (pain uncontrolled: its mean above 3).
PAIN_WINDOW = timedelta(days=3)


@dataclass(frozen=True)
class Review:
    at: datetime
    by: str
    note: str = ""


@dataclass(frozen=True)
class PatientOverview:
    """One patient's dashboard row. `implant`: the pump implanted now (None: none);
    `reading`: its latest sync; `open_alarms`: not acknowledged, oldest first; `pain`: the
    diary's (felt_at, NRS 0-10) since the window's start, oldest first."""

    patient: Patient
    implant: Implant | None
    reading: PumpReading | None
    open_alarms: tuple[Alarm, ...]
    pain: tuple[tuple[datetime, int], ...]
    reviewed: Review | None


def clinic_overview(db: Database, actor: Actor, since: datetime) -> list[PatientOverview]:
    """Every patient the actor may read (a patient: their own), with the diary from `since`."""
    since = utc(since, "since")
    with db.read(actor, Action.READ_RECORD, actor.patient_id) as session:
        patients_q, implants_q = select(Patient), select(Implant)
        alarms_q = select(Alarm).where(Alarm.acknowledged_at.is_(None))
        diary_q = select(DiaryEntry.patient_id, DiaryEntry.felt_at, DiaryEntry.pain).where(
            DiaryEntry.felt_at >= since)
        if actor.patient_id is not None:  # a patient's own rows only, never read others'
            patients_q = patients_q.where(Patient.id == actor.patient_id)
            implants_q = implants_q.where(Implant.patient_id == actor.patient_id)
            alarms_q = alarms_q.where(Alarm.patient_id == actor.patient_id)
            diary_q = diary_q.where(DiaryEntry.patient_id == actor.patient_id)
        patients = list(session.scalars(patients_q.order_by(Patient.id)))
        implants = {i.patient_id: i for i in session.scalars(
            implants_q.where(Implant.explanted_on.is_(None)).order_by(Implant.id))}
        latest = (select(func.max(PumpReading.id)).group_by(PumpReading.implant_id)
                  .scalar_subquery())
        readings = {r.implant_id: r for r in session.scalars(
            select(PumpReading).where(PumpReading.id.in_(latest)))}
        alarms: dict[int, list[Alarm]] = defaultdict(list)
        for a in session.scalars(alarms_q.order_by(Alarm.raised_at, Alarm.id)):
            alarms[a.patient_id].append(a)
        pain: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
        for e in session.execute(diary_q.order_by(DiaryEntry.felt_at)):
            pain[e.patient_id].append((e.felt_at, e.pain))
        reviews = {}
        last = (select(func.max(AuditRecord.sequence))
                .where(AuditRecord.action == str(Action.REVIEW_PATIENT),
                       AuditRecord.entity_type == REVIEWED_ENTITY)
                .group_by(AuditRecord.entity_id).scalar_subquery())
        for r in session.scalars(select(AuditRecord).where(AuditRecord.sequence.in_(last))):
            reviews[r.entity_id] = Review(r.at, r.actor, r.reason or "")
    out = []
    for p in patients:
        implant = implants.get(p.id)
        out.append(PatientOverview(
            p, implant, None if implant is None else readings.get(implant.id),
            tuple(alarms[p.id]), tuple(pain[p.id]), reviews.get(str(p.id))))
    return out


def record_review(db: Database, actor: Actor, patient_id: int, note: str) -> Review:
    """The actor reviewed the patient's record now (the note: what they concluded)."""
    text = note.strip()
    with db.write(actor, Action.REVIEW_PATIENT, patient_id) as w:
        fetch(w.session, Patient, patient_id)
        w.audit(REVIEWED_ENTITY, str(patient_id), None,
                {"reviewed_at": w.now.isoformat(), "note": text[:2000]}, text[:2000] or None)
        return Review(w.now, actor.username, text[:2000])


def reviews_of(db: Database, actor: Actor, patient_id: int) -> list[Review]:
    """Every review of the patient's record, oldest first (for its timeline)."""
    with db.read(actor, Action.READ_RECORD, patient_id) as session:
        return [Review(r.at, r.actor, r.reason or "") for r in session.scalars(
            select(AuditRecord).where(AuditRecord.action == str(Action.REVIEW_PATIENT),
                                      AuditRecord.entity_type == REVIEWED_ENTITY,
                                      AuditRecord.entity_id == str(patient_id))
            .order_by(AuditRecord.sequence))]
