"""Refills as the refill form records them (ref, workflow: MiniMed 3160 manual appendix).

Volumes in whole nL, the concentration as exact ng/nL. The expected volume, the measured
withdrawn volume and the mismatch verdict come from the programmer's checked refill
(`idds.programmer.RefillChange`: `pump.rules.refill_mismatch`), so the record says what the
clinician was shown.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from idds.programmer import RefillChange
from idds.store.database import Database
from idds.store.errors import StoreError
from idds.store.model import Implant, Refill
from idds.store.permissions import Action, Actor
from idds.store.quantities import concentration_columns, nl_of
from idds.store.rows import fetch


def lot_of(lot: str) -> str:
    """The drug's lot number as recorded (stripped); refused unless 1 to 64 characters. The
    confirm steps check it before anything is sent to the pump."""
    lot = lot.strip()
    if not lot or len(lot) > 64:
        raise StoreError("lot: the drug's lot number must be 1 to 64 characters")
    return lot


def record_refill(db: Database, actor: Actor, implant_id: int, change: RefillChange,
                  lot: str, next_refill_on: date | None) -> Refill:
    """Record a refill of the implant's pump; the operator is the actor."""
    lot = lot_of(lot)
    request = change.request
    num, den = concentration_columns(request.concentration)
    with db.write(actor, Action.RECORD_REFILL) as w:
        implant = fetch(w.session, Implant, implant_id)
        if next_refill_on is not None and next_refill_on < w.now.date():
            raise StoreError(f"the next refill date {next_refill_on} is in the past")
        return w.create(Refill(
            patient_id=implant.patient_id, implant_id=implant_id, drug=change.drug,
            concentration_num=num, concentration_den=den, lot=lot,
            expected_nl=nl_of(change.expected, "expected volume"),
            withdrawn_nl=nl_of(request.withdrawn, "withdrawn volume"),
            filled_nl=nl_of(request.volume, "filled volume"), mismatch=change.mismatch,
            next_refill_on=next_refill_on, refilled_at=w.now, operator=actor.username))


def refills_of(db: Database, actor: Actor, patient_id: int) -> list[Refill]:
    """The patient's refills, oldest first."""
    with db.read(actor, Action.READ_RECORD, patient_id) as session:
        return list(session.scalars(select(Refill).where(Refill.patient_id == patient_id)
                                    .order_by(Refill.id)))
