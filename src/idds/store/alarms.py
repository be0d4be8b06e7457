"""Pump alarms in the record: raised (with the pump's priority, IEC 60601-1-8 meaning, from
`idds.pump.ALARM_SPECS`), seen, acknowledged by whom. Seeing and acknowledging are updates
with optimistic concurrency: two nurses acknowledging the same alarm get one acknowledgement
and one `StaleWriteError`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from idds.pump import ALARM_SPECS, AlarmKind
from idds.store.clock import utc
from idds.store.database import Database
from idds.store.errors import StoreError
from idds.store.model import Alarm, Implant
from idds.store.permissions import Action, Actor
from idds.store.rows import fetch


def record_alarm(db: Database, actor: Actor, implant_id: int, kind: AlarmKind,
                 raised_at: datetime) -> Alarm:
    """An alarm the implant's pump raised at `raised_at`."""
    with db.write(actor, Action.RECORD_ALARM) as w:
        implant = fetch(w.session, Implant, implant_id)
        return w.create(Alarm(patient_id=implant.patient_id, implant_id=implant_id,
                              kind=kind.value, priority=ALARM_SPECS[kind].priority.value,
                              raised_at=utc(raised_at, "the alarm time")))


def mark_seen(db: Database, actor: Actor, alarm_id: int, expected_version: int) -> Alarm:
    """The actor saw the alarm (its first sight only is kept)."""
    with db.write(actor, Action.ACKNOWLEDGE_ALARM) as w:
        row = fetch(w.session, Alarm, alarm_id)
        if row.seen_at is not None:
            return row
        return w.update(row, {"seen_at": w.now, "seen_by": actor.username}, expected_version)


def acknowledge(db: Database, actor: Actor, alarm_id: int, expected_version: int,
                reason: str | None = None) -> Alarm:
    """The actor acknowledges the alarm (seen now too, if not seen before)."""
    with db.write(actor, Action.ACKNOWLEDGE_ALARM) as w:
        row = fetch(w.session, Alarm, alarm_id)
        if row.acknowledged_at is not None:
            raise StoreError(f"alarm {alarm_id} was acknowledged by {row.acknowledged_by} at "
                             f"{row.acknowledged_at.isoformat()}")
        changes: dict[str, object] = {"acknowledged_at": w.now,
                                      "acknowledged_by": actor.username}
        if row.seen_at is None:
            changes.update(seen_at=w.now, seen_by=actor.username)
        return w.update(row, changes, expected_version, reason)


def alarms_of(db: Database, actor: Actor, patient_id: int) -> list[Alarm]:
    """The patient's alarms, oldest first."""
    with db.read(actor, Action.READ_RECORD, patient_id) as session:
        return list(session.scalars(select(Alarm).where(Alarm.patient_id == patient_id)
                                    .order_by(Alarm.raised_at, Alarm.id)))
