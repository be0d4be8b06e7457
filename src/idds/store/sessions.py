"""Logging in: sessions with an expiry, lock-out after failed logins, re-authentication.

- A login gives a random token (256 bits, `secrets`); only its SHA-256 is stored. A session
  ends `SESSION_LIFETIME` after login (NIST SP 800-63B: reauthenticate at least every 12 h),
  at logout, or when the user is disabled or gets a new password.
- `MAX_FAILED_LOGINS` wrong passwords in a row lock the account for `LOCKOUT` (or until an
  admin sets a new password): 5 is stricter than PCI DSS v4.0 requirement 8.3.4 (at most 10)
  and far inside NIST SP 800-63B's ceiling of 100; 30 minutes is PCI DSS's minimum lock-out.
  A locked account refuses even the right password, and no message says whether the name or
  the password was wrong.
- `reauthenticate` records a fresh password entry in the session: a therapy change needs one
  within `idds.store.permissions.FRESH_WINDOW`.
Every login, failed login, re-authentication and logout is a write, so it is audited.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from idds.store.database import Database, Writer
from idds.store.errors import LoginError
from idds.store.model import User, UserSession
from idds.store.permissions import Actor, UserRole
from idds.store.users import HASHER

SESSION_LIFETIME = timedelta(hours=12)
MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=30)
#: Random bytes in a session token.
TOKEN_BYTES = 32
TokenSource = Callable[[int], str]
_REFUSED = "login refused: wrong user name or password, or the account is disabled or locked"


@dataclass(frozen=True)
class Login:
    """A successful login: the token to present (shown once, never stored) and its session."""

    token: str
    session: UserSession


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _password_ok(user: User, password: str, hasher: PasswordHasher) -> bool:
    try:
        return hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _check_password(w: Writer, user: User, password: str, hasher: PasswordHasher) -> bool:
    """Whether the password is right for a usable account; a wrong one counts towards the
    lock-out (recorded, with the lock when it is reached)."""
    locked = user.locked_until is not None and user.locked_until > w.now
    if user.disabled or locked:
        w.audit(User.__tablename__, str(user.id), None, None,
                "account disabled" if user.disabled else "account locked out")
        return False
    if _password_ok(user, password, hasher):
        if user.failed_logins or user.locked_until is not None:
            w.update(user, {"failed_logins": 0, "locked_until": None}, user.version)
        return True
    failures = user.failed_logins + 1
    lock = w.now + LOCKOUT if failures >= MAX_FAILED_LOGINS else None
    w.update(user, {"failed_logins": 0 if lock else failures, "locked_until": lock},
             user.version, "locked out" if lock else "wrong password")
    return False


def _find(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username))


def login(db: Database, username: str, password: str, hasher: PasswordHasher = HASHER,
          tokens: TokenSource = secrets.token_urlsafe) -> Login:
    """Log in; `LoginError` (one message for every cause) when refused."""
    result: Login | None = None
    with db.session() as session:
        user = _find(session, username)
    role = user.role if user is not None else "none"
    with db.login_write(username[:64], role, "log in") as w:
        user = _find(w.session, username)
        if user is None:
            hasher.hash(password[:256])  # the same work as a known name: no timing oracle
            w.audit(User.__tablename__, "unknown", None, None, "unknown user name")
        elif _check_password(w, user, password, hasher):
            token = tokens(TOKEN_BYTES)
            row = w.create(UserSession(user_id=user.id, token_hash=token_hash(token),
                                       created_at=w.now, expires_at=w.now + SESSION_LIFETIME,
                                       authenticated_at=w.now))
            result = Login(token, row)
    if result is None:
        raise LoginError(_REFUSED)
    return result


def _open_session(session: Session, token: str, now: datetime) -> tuple[UserSession, User]:
    row = session.scalar(select(UserSession).where(UserSession.token_hash == token_hash(token)))
    if row is None or row.ended_at is not None or not row.expires_at > now:
        raise LoginError("the session is unknown, ended or expired: log in again")
    user = session.get(User, row.user_id)
    if user is None or user.disabled:
        raise LoginError("the session's user is disabled: log in again")
    return row, user


def actor_of(db: Database, token: str) -> Actor:
    """Who holds the session `token`, as an `Actor` for the permission check."""
    with db.session() as session:
        row, user = _open_session(session, token, db.now())
        return Actor(user.username, UserRole(user.role), user.patient_id, row.authenticated_at)


def reauthenticate(db: Database, token: str, password: str,
                   hasher: PasswordHasher = HASHER) -> Actor:
    """Enter the password again in an open session (before a therapy change); a wrong one
    counts towards the lock-out."""
    with db.session() as session:
        _, user = _open_session(session, token, db.now())
    ok = False
    with db.login_write(user.username, user.role, "re-authenticate") as w:
        row, user = _open_session(w.session, token, w.now)
        ok = _check_password(w, user, password, hasher)
        if ok:
            w.update(row, {"authenticated_at": w.now}, None)
    if not ok:
        raise LoginError(_REFUSED)
    return actor_of(db, token)


def logout(db: Database, token: str) -> None:
    """End the session."""
    with db.session() as session:
        _, user = _open_session(session, token, db.now())
    with db.login_write(user.username, user.role, "log out") as w:
        row, _ = _open_session(w.session, token, w.now)
        w.update(row, {"ended_at": w.now}, None)
