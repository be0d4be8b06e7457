"""Reading the audit trail (admins only, `Action.READ_AUDIT`): a page of records in order,
and the verdict on its hash chain (`idds.store.audit.verify_chain`); and, as part of a
patient's record (`Action.READ_RECORD`), the records of that patient's therapy programs
(their programming trail, for the FHIR export's AuditEvents)."""

from __future__ import annotations

from sqlalchemy import select

from idds.store.audit import ChainCheck, verify_chain
from idds.store.database import Database
from idds.store.model import AuditRecord, TherapyProgram
from idds.store.permissions import Action, Actor

#: The most records one page holds.
PAGE_MAX = 500


def trail_page(db: Database, actor: Actor, after: int = 0, limit: int = 100,
               entity_type: str | None = None) -> list[AuditRecord]:
    """Up to `limit` (at most `PAGE_MAX`) audit records with a sequence above `after`,
    oldest first; only those about `entity_type` if given."""
    with db.read(actor, Action.READ_AUDIT) as session:
        query = (select(AuditRecord).where(AuditRecord.sequence > after)
                 .order_by(AuditRecord.sequence).limit(max(0, min(limit, PAGE_MAX))))
        if entity_type is not None:
            query = query.where(AuditRecord.entity_type == entity_type)
        return list(session.scalars(query))


def check_trail(db: Database, actor: Actor) -> ChainCheck:
    """Walk the whole chain (admins only)."""
    with db.read(actor, Action.READ_AUDIT) as session:
        return verify_chain(session)


def trail_tail(db: Database, actor: Actor, limit: int = 100,
               before: int | None = None) -> list[AuditRecord]:
    """The newest `limit` (at most `PAGE_MAX`) audit records (with a sequence below `before`
    if given), newest first."""
    with db.read(actor, Action.READ_AUDIT) as session:
        query = select(AuditRecord).order_by(AuditRecord.sequence.desc())
        if before is not None:
            query = query.where(AuditRecord.sequence < before)
        return list(session.scalars(query.limit(max(0, min(limit, PAGE_MAX)))))


def program_trail(db: Database, actor: Actor, patient_id: int) -> list[AuditRecord]:
    """The audit records of the patient's therapy programs (entity `therapy_program`), oldest
    first: who programmed what and when, readable by whoever may read the record (the rest
    of the trail stays admins' only)."""
    with db.read(actor, Action.READ_RECORD, patient_id) as session:
        ids = [str(i) for i in session.scalars(select(TherapyProgram.id).where(
            TherapyProgram.patient_id == patient_id))]
        if not ids:
            return []
        return list(session.scalars(
            select(AuditRecord).where(AuditRecord.entity_type == TherapyProgram.__tablename__,
                                      AuditRecord.entity_id.in_(ids))
            .order_by(AuditRecord.sequence)))
