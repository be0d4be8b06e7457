"""The permission table, checked for every action and every role against a matrix written out
here independently, and the one function that enforces it (patients: own record only; a
therapy change: a fresh password entry)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from idds.drugs import load_library
from idds.pump import AlarmKind
from idds.store import alarms, diary, refills, therapy, users
from idds.store.clock import FakeClock
from idds.store.database import Database
from idds.store.errors import AccessDeniedError, FreshLoginRequiredError, StoreError
from idds.store.permissions import (
    FRESH_WINDOW,
    PERMISSIONS,
    Action,
    Actor,
    UserRole,
    authorize,
)
from tests.conftest import SiteLibrary
from tests.store.store_helpers import CHEAP, START, actor, refill_change, therapy_plan

#: Columns: clinician, nurse, patient, researcher, admin ("x": allowed).
MATRIX = """
read record                    x x x . .
read de-identified data        x . . x .
run trial                      x . . x .
register patient               x x . . .
update patient                 x x . . .
record implant                 x . . . .
update implant                 x . . . .
install drug library           . . . . x
propose therapy                x . . . .
change therapy                 x . . . .
record refill                  x x . . .
import pump log                x x . . .
write diary                    x x x . .
assess side effects            x x . . .
record alarm                   x x . . .
acknowledge alarm              x x . . .
review patient                 x x . . .
record recommendation          x . . . .
decide recommendation          x . . . .
record candidacy or screening  x . . . .
manage users                   . . . . x
read audit trail               . . . . x
export the whole record        . . . . x
restore the whole record       . . . . x
"""
ROLES = [UserRole.CLINICIAN, UserRole.NURSE, UserRole.PATIENT, UserRole.RESEARCHER,
         UserRole.ADMIN]


def _expected() -> dict[tuple[Action, UserRole], bool]:
    out = {}
    for line in MATRIX.strip().splitlines():
        *words, c, n, p, r, a = line.split()
        for role, mark in zip(ROLES, (c, n, p, r, a), strict=True):
            out[(Action(" ".join(words)), role)] = mark == "x"
    return out


def test_the_matrix_covers_every_action_and_role() -> None:
    assert {action for action, _ in _expected()} == set(Action) == set(PERMISSIONS)


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("role", ROLES)
def test_every_action_for_every_role(action: Action, role: UserRole) -> None:
    who = Actor("someone", role, patient_id=7 if role is UserRole.PATIENT else None,
                authenticated_at=START)
    allowed = _expected()[(action, role)]
    if allowed:
        authorize(who, action, START, patient_id=7)
    else:
        with pytest.raises(AccessDeniedError, match="may not"):
            authorize(who, action, START, patient_id=7)


@pytest.mark.parametrize("action", [Action.READ_RECORD, Action.WRITE_DIARY])
def test_a_patient_reaches_their_own_record_only(action: Action) -> None:
    patient = Actor("pat", UserRole.PATIENT, patient_id=7, authenticated_at=START)
    authorize(patient, action, START, patient_id=7)
    for other in (8, None):
        with pytest.raises(AccessDeniedError, match="own record only"):
            authorize(patient, action, START, patient_id=other)


def test_a_therapy_change_needs_a_fresh_password_entry() -> None:
    clinician = Actor("doc", UserRole.CLINICIAN, authenticated_at=START)
    authorize(clinician, Action.CHANGE_THERAPY, START + FRESH_WINDOW)
    with pytest.raises(FreshLoginRequiredError, match="re-authenticate"):
        authorize(clinician, Action.CHANGE_THERAPY, START + FRESH_WINDOW + timedelta(seconds=1))
    with pytest.raises(FreshLoginRequiredError):
        authorize(Actor("doc", UserRole.CLINICIAN), Action.CHANGE_THERAPY, START)
    authorize(Actor("doc", UserRole.CLINICIAN), Action.RECORD_REFILL, START)  # not fresh-gated


@pytest.mark.parametrize("role", ROLES)
def test_each_write_function_checks_its_permission(db: Database, clock: FakeClock,
                                                   site_library: SiteLibrary,
                                                   role: UserRole) -> None:
    """The repositories' writes refuse exactly where the matrix says so (the rows they name
    do not exist: an allowed role gets past the check and is refused as not found)."""
    library = load_library(site_library.path, site_library.trust)
    who = actor(role, clock, patient_id=7 if role is UserRole.PATIENT else None)
    writes: dict[Action, Callable[[], object]] = {
        Action.RECORD_REFILL: lambda: refills.record_refill(
            db, who, 999, refill_change(library), "LOT-1", None),
        Action.RECORD_ALARM: lambda: alarms.record_alarm(db, who, 999, next(iter(AlarmKind)),
                                                         clock()),
        Action.WRITE_DIARY: lambda: diary.add_diary_entry(db, who, 7, clock(), 3),
        Action.CHANGE_THERAPY: lambda: therapy.record_program(
            db, who, 999, therapy_plan(library), 999, "pain", replaces=None),
        Action.MANAGE_USERS: lambda: users.add_user(
            db, who, "newcomer", UserRole.NURSE, "a long enough password", patient_id=None,
            hasher=CHEAP),
    }
    for action, write in writes.items():
        if _expected()[(action, role)]:
            try:
                write()
            except AccessDeniedError as exc:
                pytest.fail(f"{role.value} was refused {action.value}: {exc}")
            except StoreError:
                pass  # past the permission check: the row it names does not exist
        else:
            with pytest.raises(AccessDeniedError, match="may not"):
                write()
