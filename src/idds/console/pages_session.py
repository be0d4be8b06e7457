"""Log in (the store's login: lock-out after repeated failures, every login audited) and log
out."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from idds.api.clinic import clinic_of
from idds.console.render import page
from idds.console.session import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    check_csrf,
    posted,
    text,
)
from idds.errors import IddsError
from idds.store.sessions import login, logout

router = APIRouter()


def _safe_next(target: str) -> str:
    """Only a path of this site (never another site: an open redirect)."""
    return target if target.startswith("/") and not target.startswith("//") else "/"


def _login_page(request: Request, status: int = 200, error: str | None = None,
                username: str = "") -> Response:
    nonce = secrets.token_urlsafe(16)
    response = page(request, "login.html", None, status, nonce=nonce, error=error,
                    username=username, next=_safe_next(request.query_params.get("next", "/")))
    response.set_cookie(LOGIN_COOKIE, nonce, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")
    return response


@router.get("/login")
def login_form(request: Request) -> Response:
    return _login_page(request)


@router.post("/login")
async def log_in(request: Request) -> Response:
    form = await request.form()
    check_csrf(form, request.cookies.get(LOGIN_COOKIE) or secrets.token_hex(16))
    username = text(form, "username")
    password = form.get("password")
    try:
        done = await run_in_threadpool(login, clinic_of(request).db, username,
                                       password if isinstance(password, str) else "")
    except IddsError as exc:
        return _login_page(request, 401, str(exc), username)
    response = RedirectResponse(_safe_next(text(form, "next") or "/"), status_code=303)
    response.set_cookie(SESSION_COOKIE, done.token, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")
    response.delete_cookie(LOGIN_COOKIE)
    return response


@router.post("/logout")
async def log_out(request: Request) -> Response:
    session, _form = await posted(request)
    logout(clinic_of(request).db, session.token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response
