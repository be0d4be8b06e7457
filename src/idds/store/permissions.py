"""Who may do what: one permission table, enforced in one function (`authorize`).

Roles (issue 16): a clinician programs therapy; a nurse refills, keeps the diary and
acknowledges alarms; a patient sees and writes only their own record and diary; a researcher
reads de-identified data and runs trials; an admin manages users and the drug library, and
backs up and restores the whole record (the one reading of clinical rows an admin does: a
backup is every row). Admins
do not read clinical records by default (least privilege, IEC 81001-5-1): an admin who is also
on the care team has a second, clinical account.

Actions in `FRESH` also need the password entered within `FRESH_WINDOW` (re-authentication
before a therapy change is sent, ref, security).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from idds.store.errors import AccessDeniedError, FreshLoginRequiredError


class UserRole(StrEnum):
    CLINICIAN = "clinician"
    NURSE = "nurse"
    PATIENT = "patient"
    RESEARCHER = "researcher"
    ADMIN = "admin"


class Action(StrEnum):
    """Everything the record lets someone do; the value is what the audit trail shows."""

    READ_RECORD = "read record"
    READ_DEIDENTIFIED = "read de-identified data"
    RUN_TRIAL = "run trial"
    REGISTER_PATIENT = "register patient"
    UPDATE_PATIENT = "update patient"
    RECORD_IMPLANT = "record implant"
    UPDATE_IMPLANT = "update implant"
    INSTALL_LIBRARY = "install drug library"
    PROPOSE_THERAPY = "propose therapy"
    CHANGE_THERAPY = "change therapy"
    RECORD_REFILL = "record refill"
    IMPORT_PUMP_LOG = "import pump log"
    WRITE_DIARY = "write diary"
    ASSESS_SIDE_EFFECTS = "assess side effects"
    RECORD_ALARM = "record alarm"
    ACKNOWLEDGE_ALARM = "acknowledge alarm"
    REVIEW_PATIENT = "review patient"
    RECORD_RECOMMENDATION = "record recommendation"
    DECIDE_RECOMMENDATION = "decide recommendation"
    RECORD_SELECTION = "record candidacy or screening"
    MANAGE_USERS = "manage users"
    READ_AUDIT = "read audit trail"
    EXPORT_RECORD = "export the whole record"
    RESTORE_RECORD = "restore the whole record"


_C, _N, _P, _R, _A = (UserRole.CLINICIAN, UserRole.NURSE, UserRole.PATIENT,
                      UserRole.RESEARCHER, UserRole.ADMIN)

#: THE permission table: for each action, the roles that may perform it.
PERMISSIONS: dict[Action, frozenset[UserRole]] = {
    Action.READ_RECORD: frozenset({_C, _N, _P}),
    Action.READ_DEIDENTIFIED: frozenset({_C, _R}),
    Action.RUN_TRIAL: frozenset({_C, _R}),
    Action.REGISTER_PATIENT: frozenset({_C, _N}),
    Action.UPDATE_PATIENT: frozenset({_C, _N}),
    Action.RECORD_IMPLANT: frozenset({_C}),
    Action.UPDATE_IMPLANT: frozenset({_C}),
    Action.INSTALL_LIBRARY: frozenset({_A}),
    Action.PROPOSE_THERAPY: frozenset({_C}),
    Action.CHANGE_THERAPY: frozenset({_C}),
    Action.RECORD_REFILL: frozenset({_C, _N}),
    Action.IMPORT_PUMP_LOG: frozenset({_C, _N}),
    Action.WRITE_DIARY: frozenset({_C, _N, _P}),
    Action.ASSESS_SIDE_EFFECTS: frozenset({_C, _N}),
    Action.RECORD_ALARM: frozenset({_C, _N}),
    Action.ACKNOWLEDGE_ALARM: frozenset({_C, _N}),
    Action.REVIEW_PATIENT: frozenset({_C, _N}),
    Action.RECORD_RECOMMENDATION: frozenset({_C}),
    Action.DECIDE_RECOMMENDATION: frozenset({_C}),
    Action.RECORD_SELECTION: frozenset({_C}),
    Action.MANAGE_USERS: frozenset({_A}),
    Action.READ_AUDIT: frozenset({_A}),
    Action.EXPORT_RECORD: frozenset({_A}),
    Action.RESTORE_RECORD: frozenset({_A}),
}
#: Actions on one patient's record: a patient may do them on their own record only.
PATIENT_SCOPED = frozenset({Action.READ_RECORD, Action.WRITE_DIARY})
#: Actions that need a fresh password entry.
FRESH = frozenset({Action.CHANGE_THERAPY})
#: How recent the password entry must be for a `FRESH` action: long enough to fill in a
#: therapy change and review its Finish screen, short enough that a programmer left logged in
#: cannot be used to change therapy (a design choice, docs/store.md).
FRESH_WINDOW = timedelta(minutes=5)


@dataclass(frozen=True)
class Actor:
    """Who is acting: a user's name, role, own patient (patients only) and when they last
    entered their password (None: never in this session)."""

    username: str
    role: UserRole
    patient_id: int | None = None
    authenticated_at: datetime | None = None


def authorize(actor: Actor, action: Action, now: datetime,
              patient_id: int | None = None) -> None:
    """Refuse, with the reason, unless `actor` may perform `action` (on `patient_id`'s
    record, for a patient-scoped action) at `now`."""
    if actor.role not in PERMISSIONS[action]:
        raise AccessDeniedError(f"{actor.username} ({actor.role}) may not {action}")
    if actor.role is UserRole.PATIENT and (action not in PATIENT_SCOPED or patient_id is None
                                           or patient_id != actor.patient_id):
        raise AccessDeniedError(f"{actor.username} (patient) may {action} on their own record "
                                "only")
    if action in FRESH and (actor.authenticated_at is None
                            or now - actor.authenticated_at > FRESH_WINDOW):
        minutes = int(FRESH_WINDOW.total_seconds() // 60)
        raise FreshLoginRequiredError(f"{action} needs the password entered again (within "
                                      f"{minutes} minutes): re-authenticate first")
