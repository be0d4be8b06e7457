"""`create_console(clinic)`: the clinic's API (under /api/v1) with the console's pages beside
it at /, their static files (htmx and the style sheet, vendored: no CDN) at /static, and every
refusal on a page answered as a page (the API's paths keep their typed JSON)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from idds.api import create_app, errors
from idds.api.app import PREFIX
from idds.api.clinic import Clinic
from idds.console import (
    events,
    pages_admin,
    pages_advice,
    pages_care,
    pages_dashboard,
    pages_patient,
    pages_program,
    pages_refill,
    pages_report,
    pages_session,
)
from idds.console.render import page
from idds.console.session import NotLoggedInError, new_secret, page_session
from idds.console.syncing import periodic_sync
from idds.errors import IddsError

LOG = logging.getLogger("idds.console")
PAGES = (pages_session, pages_dashboard, pages_patient, pages_program, pages_refill,
         pages_care, pages_advice, pages_admin, pages_report, events)


def _is_api(request: Request) -> bool:
    return request.url.path.startswith(PREFIX)


def _error_page(request: Request, status: int, message: str) -> Response:
    try:
        session = page_session(request)
    except NotLoggedInError:
        session = None
    return page(request, "error.html", session, status, status_code=status, message=message)


async def _refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, IddsError)
    if _is_api(request):
        return await errors.idds_error(request, exc)
    refusal = errors.refusal_of(exc)
    if refusal.status == 401:
        return RedirectResponse("/login", status_code=303)
    return _error_page(request, refusal.status, refusal.message)


async def _invalid(request: Request, exc: Exception) -> Response:
    if _is_api(request):
        return await errors.invalid(request, exc)
    return _error_page(request, 422, "the address is malformed: go back and try again")


async def _http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if _is_api(request):
        return await errors.http_error(request, exc)
    return _error_page(request, exc.status_code, "no such page" if exc.status_code == 404
                       else str(exc.detail))


async def _fault(request: Request, exc: Exception) -> Response:
    if _is_api(request):
        return await errors.internal(request, exc)
    LOG.error("console fault", exc_info=exc)
    return _error_page(request, 500, "the server failed (logged); nothing more is known: if "
                       "a change was being sent, interrogate the pump before anything else")


async def _framing_denied(request: Request, call_next: Callable[[Request],
                                                                Awaitable[Response]]
                          ) -> Response:
    """No page may be framed by another site (clickjacking)."""
    response = await call_next(request)
    if not _is_api(request):
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Content-Security-Policy"] = "frame-ancestors 'none'"
    return response


async def _login_first(request: Request, _exc: Exception) -> Response:
    """To the login page, coming back here after it (a form's page: back to where it was)."""
    back = request.url.path if request.method == "GET" else "/"
    return RedirectResponse(f"/login?next={back}", status_code=303)


def create_console(clinic: Clinic, sync_every_s: float | None = None) -> FastAPI:
    """The API and the console, on one clinic; every pump synced every `sync_every_s`
    seconds while it runs (None: only when asked)."""
    app = create_app(clinic)
    app.router.lifespan_context = periodic_sync(clinic, sync_every_s)
    app.state.console_secret = new_secret()
    for module in PAGES:
        app.include_router(module.router, include_in_schema=False)
    app.mount("/static", StaticFiles(packages=[("idds.console", "static")]), name="static")
    app.add_exception_handler(IddsError, _refused)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(NotLoggedInError, _login_first)
    app.add_exception_handler(Exception, _fault)
    app.middleware("http")(_framing_denied)
    return app
