"""Admins: users, the audit trail (the record and its chain verdict) and the whole record's
export; researchers: the de-identified diary."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from idds.api.auth import ClinicDep, permitted
from idds.api.errors import RESPONSES, ApiError, RefusalCode
from idds.api.records import AuditCheckOut, AuditOut, DeidentifiedPainOut, UserIn, UserOut
from idds.api.views import audit_out, user_out
from idds.store import Action, Actor, UserRole
from idds.store.backup import export_clinic
from idds.store.research import deidentified_diary
from idds.store.trail import PAGE_MAX, check_trail, trail_page
from idds.store.users import add_user, list_users

router = APIRouter(tags=["admin"], responses=RESPONSES)

Admin = Annotated[Actor, Depends(permitted(Action.MANAGE_USERS))]


@router.get("/users", response_model=list[UserOut])
def users(clinic: ClinicDep, actor: Admin) -> list[UserOut]:
    now = clinic.db.now()
    return [user_out(u, u.locked_until is not None and u.locked_until > now)
            for u in list_users(clinic.db, actor)]


@router.post("/users", response_model=UserOut, status_code=201)
def new_user(clinic: ClinicDep, given: UserIn, actor: Admin) -> UserOut:
    """Add a user (a patient user names their patient record)."""
    try:
        role = UserRole(given.role)
    except ValueError:
        raise ApiError(422, RefusalCode.INVALID, f"role {given.role!r}: use one of "
                       f"{', '.join(r.value for r in UserRole)}", "role") from None
    return user_out(add_user(clinic.db, actor, given.username, role, given.password,
                             given.patient_id), False)


@router.get("/audit", response_model=list[AuditOut])
def audit(clinic: ClinicDep,
          actor: Annotated[Actor, Depends(permitted(Action.READ_AUDIT))],
          after: Annotated[int, Query(ge=0, le=2**62, description="Records after this "
                                                                  "sequence number.")] = 0,
          limit: Annotated[int, Query(ge=1, le=PAGE_MAX)] = 100,
          entity_type: Annotated[str | None, Query(max_length=64)] = None) -> list[AuditOut]:
    """A page of the audit trail, oldest first."""
    return [audit_out(r) for r in trail_page(clinic.db, actor, after, limit, entity_type)]


@router.get("/audit/verify", response_model=AuditCheckOut)
def verify(clinic: ClinicDep,
           actor: Annotated[Actor, Depends(permitted(Action.READ_AUDIT))]) -> AuditCheckOut:
    """Walk the hash chain; name the first record altered, inserted or removed."""
    check = check_trail(clinic.db, actor)
    return AuditCheckOut(ok=check.ok, records=check.count, head=check.head,
                         problem=check.problem or None)


@router.get("/export", response_model=dict[str, object])
def export(clinic: ClinicDep,
           actor: Annotated[Actor, Depends(permitted(Action.EXPORT_RECORD))]
           ) -> dict[str, object]:
    """The whole record, every table (a backup: it holds password hashes); restore it with
    `idds clinic restore`."""
    return export_clinic(clinic.db, actor)


@router.get("/research/diary", response_model=list[DeidentifiedPainOut])
def research_diary(clinic: ClinicDep,
                   actor: Annotated[Actor, Depends(permitted(Action.READ_DEIDENTIFIED))]
                   ) -> list[DeidentifiedPainOut]:
    """Every diary score without identity (research codes, ages capped at 90)."""
    return [DeidentifiedPainOut(code=p.code, age_years=p.age_years, day=p.day, pain=p.pain)
            for p in deidentified_diary(clinic.db, actor)]
