"""Patients and their implants: register, update with optimistic concurrency, read.

Units: the catheter's volume in whole nL (from a volume `Quantity`); dates are calendar dates.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from sqlalchemy import select

from idds.store.database import Database
from idds.store.errors import StoreError
from idds.store.model import Implant, Patient
from idds.store.model.base import Base
from idds.store.permissions import Action, Actor, authorize
from idds.store.quantities import nl_of
from idds.store.rows import fetch
from idds.units import Quantity

_PatientRow = TypeVar("_PatientRow", bound=Base)


def _text(value: str, what: str, longest: int) -> str:
    cleaned = value.strip()
    if not cleaned or len(cleaned) > longest or not cleaned.isprintable():
        raise StoreError(f"{what} must be 1 to {longest} printable characters, not {value!r}")
    return cleaned


#: Random bytes in a research code (hex text twice as long).
RESEARCH_CODE_BYTES = 8


def register_patient(db: Database, actor: Actor, identifier: str, name: str,
                     birth_date: date, codes: Callable[[int], str] = secrets.token_hex
                     ) -> Patient:
    """A new patient (the clinic's `identifier` is unique), with a random research code
    (from `codes`, `secrets` by default) that reveals nothing about them."""
    with db.write(actor, Action.REGISTER_PATIENT) as w:
        return w.create(Patient(identifier=_text(identifier, "patient identifier", 64),
                                research_code=codes(RESEARCH_CODE_BYTES),
                                name=_text(name, "patient name", 200), birth_date=birth_date,
                                created_at=w.now))


def update_patient(db: Database, actor: Actor, patient_id: int, expected_version: int,
                   reason: str, name: str | None = None,
                   birth_date: date | None = None) -> Patient:
    """Correct a patient's name or birth date; `StaleWriteError` if someone changed the
    patient since `expected_version` was read."""
    changes: dict[str, object] = {}
    if name is not None:
        changes["name"] = _text(name, "patient name", 200)
    if birth_date is not None:
        changes["birth_date"] = birth_date
    with db.write(actor, Action.UPDATE_PATIENT, patient_id) as w:
        row = fetch(w.session, Patient, patient_id)
        return w.update(row, changes, expected_version, _text(reason, "reason", 2000))


def list_patients(db: Database, actor: Actor) -> list[Patient]:
    """Every patient, by id; a patient user sees only their own row."""
    with db.read(actor, Action.READ_RECORD, actor.patient_id) as session:
        query = select(Patient).order_by(Patient.id)
        if actor.patient_id is not None:
            query = query.where(Patient.id == actor.patient_id)
        return list(session.scalars(query))


def get_patient(db: Database, actor: Actor, patient_id: int) -> Patient:
    with db.read(actor, Action.READ_RECORD, patient_id) as session:
        return fetch(session, Patient, patient_id)


@dataclass(frozen=True)
class ImplantDetails:
    """What the implant form records. `catheter_volume` is a volume Quantity (stored in nL);
    the keys are the raw public halves of the pump's and the programmer's pairing keys."""

    pump_serial: str
    pump_model: str
    catheter_model: str
    catheter_tip: str
    implanted_on: date
    catheter_volume: Quantity | None = None
    pump_public_key: bytes | None = None
    programmer_public_key: bytes | None = None


def record_implant(db: Database, actor: Actor, patient_id: int,
                   details: ImplantDetails) -> Implant:
    """A pump implanted in `patient_id` (the pump serial is unique)."""
    volume = (None if details.catheter_volume is None
              else nl_of(details.catheter_volume, "catheter volume"))
    with db.write(actor, Action.RECORD_IMPLANT, patient_id) as w:
        fetch(w.session, Patient, patient_id)
        return w.create(Implant(
            patient_id=patient_id, pump_serial=_text(details.pump_serial, "pump serial", 64),
            pump_model=_text(details.pump_model, "pump model", 100),
            catheter_model=_text(details.catheter_model, "catheter model", 100),
            catheter_tip=_text(details.catheter_tip, "catheter tip level", 40),
            catheter_volume_nl=volume, implanted_on=details.implanted_on,
            pump_public_key=details.pump_public_key,
            programmer_public_key=details.programmer_public_key))


def record_explant(db: Database, actor: Actor, implant_id: int, expected_version: int,
                   explanted_on: date, reason: str) -> Implant:
    """The pump was removed on `explanted_on`."""
    with db.write(actor, Action.UPDATE_IMPLANT) as w:
        row = fetch(w.session, Implant, implant_id)
        if explanted_on < row.implanted_on:
            raise StoreError(f"explant date {explanted_on} is before the implant date "
                             f"{row.implanted_on}")
        return w.update(row, {"explanted_on": explanted_on}, expected_version,
                        _text(reason, "reason", 2000))


def implants_of(db: Database, actor: Actor, patient_id: int) -> list[Implant]:
    """The patient's implants, oldest first."""
    with db.read(actor, Action.READ_RECORD, patient_id) as session:
        return list(session.scalars(select(Implant).where(Implant.patient_id == patient_id)
                                    .order_by(Implant.id)))


def patient_row(db: Database, actor: Actor, model: type[_PatientRow], key: int) -> _PatientRow:
    """A row of a patient's record (an alarm, a recommendation) by its id, for a reader of
    that patient's record (a patient: their own only)."""
    with db.read(actor, Action.READ_RECORD, actor.patient_id) as session:
        row = fetch(session, model, key)
    authorize(actor, Action.READ_RECORD, db.now(), getattr(row, "patient_id", None))
    return row
