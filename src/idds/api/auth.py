"""Who is calling, and may they: the session token (`Authorization: Bearer TOKEN`) to an
`Actor`, and `permitted(action)`, the dependency every route declares, which checks the one
permission table (`idds.store.permissions.authorize`) before the route runs; the store checks
it again on every read and write. A patient-scoped action on `/patients/{patient_id}/...`
is checked against that patient; on a path without one, against the caller's own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from idds.api.clinic import Clinic, clinic_of
from idds.store import Action, Actor, LoginError, authorize
from idds.store.sessions import actor_of

BEARER = HTTPBearer(auto_error=False, description="The token from POST /api/v1/session.")

ClinicDep = Annotated[Clinic, Depends(clinic_of)]


def session_token(credentials: Annotated[HTTPAuthorizationCredentials | None,
                                         Depends(BEARER)]) -> str:
    """The caller's session token; refused (401) when there is none."""
    if credentials is None or not credentials.credentials:
        raise LoginError("not logged in: POST /api/v1/session, then send "
                         "'Authorization: Bearer TOKEN'")
    return credentials.credentials


TokenDep = Annotated[str, Depends(session_token)]


def current_actor(clinic: ClinicDep, token: TokenDep) -> Actor:
    """Who holds the session (401 when it is unknown, ended or expired)."""
    return actor_of(clinic.db, token)


class Permitted:
    """The dependency of a route that performs `action`: the caller, once permitted."""

    def __init__(self, action: Action) -> None:
        self.action = action

    def __call__(self, request: Request, clinic: ClinicDep,
                 actor: Annotated[Actor, Depends(current_actor)]) -> Actor:
        raw = request.path_params.get("patient_id")
        patient_id = (int(raw) if isinstance(raw, str) and raw.isdigit() else
                      actor.patient_id if raw is None else None)  # no patient in the path:
        # a patient's own (the route then reads only their rows, `list_patients`)
        authorize(actor, self.action, clinic.db.now(), patient_id)
        return actor


def permitted(action: Action) -> Callable[..., Actor]:
    return Permitted(action)


#: The caller of a route that reads a patient's record.
Reader = Annotated[Actor, Depends(permitted(Action.READ_RECORD))]


def action_of(dependency: object) -> Action | None:
    """The action a route's dependency checks (None: not a permission check)."""
    return dependency.action if isinstance(dependency, Permitted) else None
