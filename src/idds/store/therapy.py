"""The drug-library versions installed and the therapy programs, each with the one before.

A program row keeps the therapy as the pump's own record (`idds.pump.records.therapy_record`,
canonical JSON; exact quantities as text with units), the concentration (exact ng/nL), the
basal daily dose (exact ng/day), the library version and the checks that ran (every breach,
canonical JSON), the soft-limit override reason and the clinician's reason for the change.
A therapy change is a `CHANGE_THERAPY`: a clinician, with the password entered in the
fresh-authentication window (`idds.store.permissions`).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from idds.drugs import CheckResult, DrugLibrary
from idds.programmer import TherapyPlan
from idds.protocol.wire import daily_dose
from idds.pump import Therapy
from idds.pump.records import therapy_from_record, therapy_record
from idds.store.canonical import canonical_json, parse_json
from idds.store.database import Database
from idds.store.errors import StaleWriteError, StoreError
from idds.store.model import Implant, LibraryVersion, TherapyProgram
from idds.store.permissions import Action, Actor
from idds.store.quantities import concentration_columns, daily_dose_columns
from idds.store.rows import fetch


def install_library(db: Database, actor: Actor, library: DrugLibrary) -> LibraryVersion:
    """Record that the verified, signed `library` is in force at the clinic; a file already
    recorded (same SHA-256) is not recorded twice."""
    content = hashlib.sha256(Path(library.path).read_bytes()).hexdigest()
    info = library.data.library
    with db.write(actor, Action.INSTALL_LIBRARY) as w:
        known = w.session.scalar(select(LibraryVersion)
                                 .where(LibraryVersion.content_sha256 == content))
        if known is not None:
            return known
        return w.create(LibraryVersion(
            name=info.name, version=info.version, issued_by=info.issued_by,
            signed_by=library.signed_by, content_sha256=content, installed_at=w.now,
            installed_by=actor.username))


def checks_data(checks: CheckResult) -> list[dict[str, str]]:
    """Every breach the library checks found (none: the therapy was within all limits)."""
    return [{"limit": b.limit_name, "kind": b.kind.value, "value": b.value, "bound": b.limit,
             "source": b.source, "message": b.message} for b in checks.breaches]


def latest_program(db: Database, actor: Actor, patient_id: int,
                   implant_id: int) -> TherapyProgram | None:
    """The program in force on the patient's implant (the newest), if any."""
    with db.read(actor, Action.READ_RECORD, patient_id) as session:
        _own_implant(session, patient_id, implant_id)
        return _latest(session, implant_id)


def _own_implant(session: Session, patient_id: int, implant_id: int) -> Implant:
    implant = fetch(session, Implant, implant_id)
    if implant.patient_id != patient_id:
        raise StoreError(f"implant {implant_id} is not patient {patient_id}'s")
    return implant


def _latest(session: Session, implant_id: int) -> TherapyProgram | None:
    return session.scalar(select(TherapyProgram).where(TherapyProgram.implant_id == implant_id)
                          .order_by(TherapyProgram.id.desc()).limit(1))


def change_reason(reason: str) -> str:
    """The reason recorded with a therapy change (stripped); refused when empty. The confirm
    steps check it before anything is sent to the pump."""
    if not reason.strip():
        raise StoreError("reason: a therapy change needs a reason")
    return reason.strip()


def record_program(db: Database, actor: Actor, implant_id: int, plan: TherapyPlan,
                   library_version_id: int, reason: str, *, replaces: int | None
                   ) -> TherapyProgram:
    """Record a therapy sent to the implant's pump after its Finish screen was confirmed.

    replaces: the id of the program the clinician saw as current when the change was planned
    (None: the implant's first program). If another program was recorded since, the change
    is refused with `StaleWriteError` (two clinicians changing the same pump: a clear
    conflict, never a change silently stacked on one its author did not see).
    Refused too: a plan whose soft-limit override was not confirmed a second time, an empty
    reason, an explanted pump, an actor who may not change therapy or whose password entry
    is older than the fresh-authentication window."""
    if plan.needs_override_confirmation:
        raise StoreError("the soft-limit override was not confirmed on the Finish screen")
    reason = change_reason(reason)
    request = plan.request
    dose = daily_dose(request.therapy, "mg/day")
    with db.write(actor, Action.CHANGE_THERAPY) as w:
        implant = fetch(w.session, Implant, implant_id)
        if implant.explanted_on is not None:
            raise StoreError(f"the pump {implant.pump_serial} was explanted on "
                             f"{implant.explanted_on}")
        fetch(w.session, LibraryVersion, library_version_id)
        previous = _latest(w.session, implant_id)
        latest = None if previous is None else previous.id
        if latest != replaces:
            raise StaleWriteError(
                f"the implant's current program is {latest or 'none'}, not {replaces or 'none'}:"
                " another change was recorded since this one was planned; review it first")
        conc_num, conc_den = concentration_columns(request.concentration)
        dose_num, dose_den = daily_dose_columns(dose)
        return w.create(TherapyProgram(
            patient_id=implant.patient_id, implant_id=implant_id,
            previous_id=None if previous is None else previous.id,
            drug=request.drug.strip().lower(), concentration_num=conc_num,
            concentration_den=conc_den, therapy=canonical_json(therapy_record(request.therapy)),
            daily_dose_num=dose_num, daily_dose_den=dose_den,
            library_version_id=library_version_id,
            checks=canonical_json(checks_data(plan.checks)),
            override_reason=request.override_reason if plan.checks.soft else None,
            reason=reason.strip(), programmed_at=w.now, programmed_by=actor.username),
            reason=reason.strip())


def program_therapy(program: TherapyProgram) -> Therapy:
    """The therapy of a stored program, as the pump `Therapy` it was."""
    return therapy_from_record(parse_json(program.therapy))


def programs_of(db: Database, actor: Actor, patient_id: int,
                implant_id: int) -> list[TherapyProgram]:
    """Every program of the patient's implant, oldest first."""
    with db.read(actor, Action.READ_RECORD, patient_id) as session:
        _own_implant(session, patient_id, implant_id)
        return list(session.scalars(select(TherapyProgram)
                                    .where(TherapyProgram.implant_id == implant_id)
                                    .order_by(TherapyProgram.id)))
