"""Who is at the console: the session cookie (the store's session token, HttpOnly,
SameSite=Strict) and the CSRF token every form carries: an HMAC of the session token under
the server's secret (OWASP's "synchronizer token" pattern, docs/references.md). Before login
the login form carries a random nonce also set as a cookie (double submit). A form without
its token, or with another, is refused and changes nothing."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from fastapi import Request
from starlette.datastructures import FormData

from idds.api.clinic import clinic_of
from idds.store import AccessDeniedError, Action, Actor, LoginError, authorize
from idds.store.sessions import actor_of

SESSION_COOKIE = "idds_session"
LOGIN_COOKIE = "idds_login"
CSRF_FIELD = "csrf_token"


class NotLoggedInError(Exception):
    """The page needs a session: the console answers with the login page."""


class CsrfError(AccessDeniedError):
    """A form posted without its CSRF token, or with a wrong one (403, like any refusal of
    access)."""


@dataclass(frozen=True)
class PageSession:
    token: str
    actor: Actor
    csrf: str


def new_secret() -> bytes:
    """The server's CSRF key (a new one at every start: forms of an old server are refused)."""
    return secrets.token_bytes(32)


def csrf_of(secret: bytes, token: str) -> str:
    return hmac.new(secret, token.encode(), hashlib.sha256).hexdigest()


def secret_of(request: Request) -> bytes:
    secret = request.app.state.console_secret
    assert isinstance(secret, bytes)
    return secret


def page_session(request: Request) -> PageSession:
    """The caller's session, or `NotLoggedInError` (no cookie, or one ended or expired)."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise NotLoggedInError
    try:
        actor = actor_of(clinic_of(request).db, token)
    except LoginError:
        raise NotLoggedInError from None
    return PageSession(token, actor, csrf_of(secret_of(request), token))


def check_csrf(form: FormData, expected: str) -> None:
    given = form.get(CSRF_FIELD)
    if not isinstance(given, str) or not hmac.compare_digest(given, expected):
        raise CsrfError("the form's CSRF token is missing or wrong: reload the page and try "
                        "again (nothing was changed)")


async def posted(request: Request, action: Action | None = None
                 ) -> tuple[PageSession, FormData]:
    """A logged-in caller's form, once its CSRF token is checked and, when the form performs
    `action`, once the caller's role may (the store checks again when it writes)."""
    session = page_session(request)
    form = await request.form()
    check_csrf(form, session.csrf)
    if action is not None:
        authorize(session.actor, action, clinic_of(request).db.now())
    return session, form


def text(form: FormData, name: str) -> str:
    """A form field's text, stripped ('' when absent)."""
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""
