"""Every refusal of the API as typed JSON: `{"error": {"code", "message", "field"}}` with one
HTTP status per kind of refusal, never a stack trace. "Refused" means nothing happened: every
write the store refuses is rolled back whole (`idds.store.database`).

| code | status | when |
|---|---|---|
| `unauthenticated` | 401 | no session, or one that is unknown, ended or expired; a wrong password |
| `reauthentication_required` | 403 | a therapy change without the password entered again lately |
| `forbidden` | 403 | the role may not do this (the permission table), or another patient's record |
| `not_found` | 404 | no such row, proposal or route |
| `conflict` | 409 | the record changed since it was read (optimistic concurrency), or a duplicate |
| `invalid` | 422 | a field that is missing or malformed: `field` names it |
| `refused` | 422 | the drug library, the pump's rules or the record refused the change |
| `pump_unreachable` | 502 | the pump did not answer, or is not paired with the clinic |
| `pump_state_unknown` | 502 | a change was sent, the pump not read back: interrogate it |
| `database_unavailable` | 503 | the database could not be reached (the detail is logged) |
| `busy` | 503 | another writer held the database too long: try again |
| `internal` | 500 | a fault of the server itself (logged; the body says nothing more) |
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from idds.errors import IddsError
from idds.link import ErrorCode as LinkCode
from idds.link import LinkError
from idds.link.errors import TransportError
from idds.programmer.entry import EntryError
from idds.store import (
    AccessDeniedError,
    DatabaseBusyError,
    DatabaseUrlError,
    DuplicateError,
    FreshLoginRequiredError,
    LoginError,
    NotFoundError,
    StaleWriteError,
)

LOG = logging.getLogger("idds.api")


class RefusalCode(StrEnum):
    UNAUTHENTICATED = "unauthenticated"
    REAUTHENTICATION_REQUIRED = "reauthentication_required"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    CONFLICT = "conflict"
    INVALID = "invalid"
    REFUSED = "refused"
    PUMP_UNREACHABLE = "pump_unreachable"
    PUMP_STATE_UNKNOWN = "pump_state_unknown"
    DATABASE_UNAVAILABLE = "database_unavailable"
    BUSY = "busy"
    INTERNAL = "internal"


class ErrorDetail(BaseModel):
    code: RefusalCode
    message: str
    field: str | None = None


class ErrorBody(BaseModel):
    """The body of every refusal."""

    error: ErrorDetail


class ApiError(IddsError):
    """A refusal raised by the API layer itself (an unknown proposal, a wrong pump)."""

    def __init__(self, status: int, code: RefusalCode, message: str,
                 field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.field = status, code, field


#: Typed store and link refusals -> (status, code); the first match wins (subclasses first).
_KINDS: tuple[tuple[type[Exception], int, RefusalCode], ...] = (
    (LoginError, 401, RefusalCode.UNAUTHENTICATED),
    (FreshLoginRequiredError, 403, RefusalCode.REAUTHENTICATION_REQUIRED),
    (AccessDeniedError, 403, RefusalCode.FORBIDDEN),
    (NotFoundError, 404, RefusalCode.NOT_FOUND),
    (StaleWriteError, 409, RefusalCode.CONFLICT),
    (DuplicateError, 409, RefusalCode.CONFLICT),
    (DatabaseBusyError, 503, RefusalCode.BUSY),
    (TransportError, 502, RefusalCode.PUMP_UNREACHABLE),
    (EntryError, 422, RefusalCode.INVALID),
)

#: Link refusals that are the pump's answer to the command (a rule of the pump, a role that may
#: not): the change was refused; every other link error means the pump was not reached.
PUMP_REFUSALS = frozenset({LinkCode.COMMAND_REFUSED, LinkCode.NOT_PERMITTED})

#: The OpenAPI description of the refusals every route may answer with.
RESPONSES: dict[int | str, dict[str, object]] = {
    status: {"model": ErrorBody, "description": text} for status, text in (
        (401, "Not logged in, or the session ended"),
        (403, "Not permitted, or re-authentication required"),
        (404, "Not found"),
        (409, "Changed since it was read"),
        (422, "Invalid or refused: nothing happened"),
        (502, "The pump was not reached or did not answer"),
        (503, "The database was busy or unreachable: nothing happened"),
    )
}


def body(code: RefusalCode, message: str, field: str | None = None) -> dict[str, object]:
    return ErrorBody(error=ErrorDetail(code=code, message=message, field=field)).model_dump()


def _respond(status: int, code: RefusalCode, message: str,
             field: str | None = None) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body(code, message, field), status_code=status, headers=headers)


@dataclass(frozen=True)
class ApiRefusal:
    """What a refusal answers: its HTTP status, code, message and the field it names."""

    status: int
    code: RefusalCode
    message: str
    field: str | None = None


def refusal_of(exc: IddsError) -> ApiRefusal:
    """The one mapping of a typed refusal to its status and code (the API's JSON and the
    console's pages both answer with it)."""
    if isinstance(exc, ApiError):
        return ApiRefusal(exc.status, exc.code, str(exc), exc.field)
    if isinstance(exc, DatabaseUrlError):  # the server's own database: say nothing of it
        LOG.error("database unavailable: %s", exc)
        return ApiRefusal(503, RefusalCode.DATABASE_UNAVAILABLE,
                       "the database could not be reached: try again (logged)")
    for kind, status, code in _KINDS:
        if isinstance(exc, kind):
            return ApiRefusal(status, code, str(exc), getattr(exc, "field", None))
    if isinstance(exc, LinkError) and exc.code not in PUMP_REFUSALS:
        return ApiRefusal(502, RefusalCode.PUMP_UNREACHABLE, str(exc))
    return ApiRefusal(422, RefusalCode.REFUSED, str(exc))


async def idds_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, IddsError)
    r = refusal_of(exc)
    return _respond(r.status, r.code, r.message, r.field)


def _field(location: tuple[object, ...]) -> str:
    """`("body", "therapy", "dose")` -> "therapy.dose"; `("path", "patient_id")` ->
    "patient_id"."""
    parts = [str(p) for p in location[1:]] if len(location) > 1 else [str(p) for p in location]
    return ".".join(parts) or "body"


async def invalid(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {"loc": ("body",), "msg": "invalid request"}
    field = _field(tuple(first.get("loc", ("body",))))
    message = str(first.get("msg", "invalid")).removeprefix("Value error, ")
    return _respond(422, RefusalCode.INVALID, f"{field}: {message}", field)


async def http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code = {401: RefusalCode.UNAUTHENTICATED, 403: RefusalCode.FORBIDDEN,
            404: RefusalCode.NOT_FOUND, 405: RefusalCode.METHOD_NOT_ALLOWED}.get(
        exc.status_code, RefusalCode.INVALID)
    return _respond(exc.status_code, code, str(exc.detail))


async def internal(_request: Request, exc: Exception) -> JSONResponse:
    LOG.error("internal error", exc_info=exc)
    return _respond(500, RefusalCode.INTERNAL, "internal server error (logged)")


def install(app: FastAPI) -> None:
    """Answer every refusal of `app` as typed JSON."""
    app.add_exception_handler(IddsError, idds_error)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(Exception, internal)
