"""The pump's readings: what each interrogation at a sync showed (`idds.programmer.PumpStatus`)
in exact units, for the dashboard (reservoir, battery, alarms) and the refill plan. A reading
is an `IMPORT_PUMP_LOG` (the sync that reads the pump also stores its log)."""

from __future__ import annotations

import math
from datetime import date, timedelta

from sqlalchemy import select

from idds.programmer import PumpStatus
from idds.pump.records import therapy_record
from idds.store.canonical import canonical_json
from idds.store.database import Database
from idds.store.errors import StoreError
from idds.store.model import Implant, PumpReading
from idds.store.permissions import Action, Actor
from idds.store.quantities import concentration_columns, nl_of
from idds.store.rows import fetch


def refill_due(status: PumpStatus, today: date) -> date | None:
    """`today` plus the pump's days to its low-reservoir alarm, rounded down (never later
    than the pump says); None when the pump gives none."""
    due = status.refill_due_in_days
    return None if due is None else today + timedelta(days=math.floor(due))


def record_reading(db: Database, actor: Actor, implant_id: int, status: PumpStatus,
                   today: date) -> PumpReading:
    """Store what the pump showed (the refill due date: `refill_due`), with the volume it
    pumped since its last fill (whole nL) and its clock's epoch (None: no calendar)."""
    num, den = (None, None) if status.concentration is None else \
        concentration_columns(status.concentration)
    with db.write(actor, Action.IMPORT_PUMP_LOG) as w:
        fetch(w.session, Implant, implant_id)
        return w.create(PumpReading(
            implant_id=implant_id, read_at=w.now, read_by=actor.username,
            pump_time=status.time[:40], drug=status.drug, concentration_num=num,
            concentration_den=den, therapy=canonical_json(therapy_record(status.therapy)),
            confirmed=status.confirmed, infusing=status.infusing,
            reservoir_nl=nl_of(status.reservoir_estimate, "reservoir"),
            capacity_nl=nl_of(status.reservoir_capacity, "reservoir capacity"),
            low_alarm_nl=nl_of(status.low_reservoir_alarm, "low-reservoir alarm volume"),
            refill_due_on=refill_due(status, today),
            battery=status.battery[:40],
            battery_eri_days=max(0, math.floor(status.battery_eri_in_days)),
            alarms=canonical_json(list(status.alarm_kinds)), log_length=status.log_length,
            log_head=status.log_head,
            pumped_nl=nl_of(status.pumped_since_fill, "volume pumped since the fill"),
            clock_epoch=status.clock_epoch))


def readings_of(db: Database, actor: Actor, patient_id: int,
                implant_id: int) -> list[PumpReading]:
    """The readings of the patient's implant, oldest first."""
    with db.read(actor, Action.READ_RECORD, patient_id) as session:
        implant = fetch(session, Implant, implant_id)
        if implant.patient_id != patient_id:
            raise StoreError(f"implant {implant_id} is not patient {patient_id}'s")
        return list(session.scalars(select(PumpReading)
                                    .where(PumpReading.implant_id == implant_id)
                                    .order_by(PumpReading.id)))
