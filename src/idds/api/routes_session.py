"""`/api/v1/session`: log in (a token, shown once), who am I, re-authenticate (the password
again, before a therapy change is confirmed), log out. Lock-out after repeated failures and
every login in the audit trail: `idds.store.sessions`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.concurrency import run_in_threadpool

from idds.api.auth import ClinicDep, TokenDep, current_actor
from idds.api.errors import RESPONSES
from idds.api.schemas import LoginIn, PasswordIn, SessionOut
from idds.store import Actor
from idds.store.sessions import actor_of, login, logout, reauthenticate

router = APIRouter(prefix="/session", tags=["session"], responses=RESPONSES)


def _out(actor: Actor) -> SessionOut:
    return SessionOut(username=actor.username, role=str(actor.role),
                      patient_id=actor.patient_id, authenticated_at=actor.authenticated_at)


@router.post("", response_model=SessionOut, status_code=201)
async def log_in(clinic: ClinicDep, given: LoginIn) -> SessionOut:
    """Log in: the token to send as `Authorization: Bearer TOKEN` (shown only here)."""
    done = await run_in_threadpool(login, clinic.db, given.username, given.password)
    actor = await run_in_threadpool(actor_of, clinic.db, done.token)
    return _out(actor).model_copy(update={"token": done.token,
                                          "expires_at": done.session.expires_at})


@router.get("", response_model=SessionOut)
def who(actor: Annotated[Actor, Depends(current_actor)]) -> SessionOut:
    """Who holds this session, and when they last entered their password."""
    return _out(actor)


@router.post("/reauthenticate", response_model=SessionOut)
async def again(clinic: ClinicDep, token: TokenDep, given: PasswordIn,
                _open: Annotated[Actor, Depends(current_actor)]) -> SessionOut:
    """Enter the password again: a therapy change is confirmed only within 5 minutes of it."""
    return _out(await run_in_threadpool(reauthenticate, clinic.db, token, given.password))


@router.delete("", status_code=204)
def log_out(clinic: ClinicDep, token: TokenDep) -> None:
    """End the session."""
    logout(clinic.db, token)
