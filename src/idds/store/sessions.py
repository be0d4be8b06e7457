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
Every login, failed login, re-authentication and logout is a write, so it is audited, in one
transaction that holds the write lock from its start (`Database.login_write`): the failed
count is read and written under it, so parallel guesses are each counted. A failed login
under a name no user has is audited as "unknown" with a SHA-256 prefix of the name, never the
typed text; a locked or disabled account still costs the argon2 verification.
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
from idds.store.errors import LoginError, StoreError
from idds.store.model import User, UserSession
from idds.store.permissions import Actor, UserRole
from idds.store.users import HASHER, MAX_PASSWORD, check_username

SESSION_LIFETIME = timedelta(hours=12)
MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=30)
#: Random bytes in a session token.
TOKEN_BYTES = 32
TokenSource = Callable[[int], str]
#: The actor and role of a failed login under a name no user has.
UNKNOWN, NO_ROLE = "unknown", "none"
#: Hex digits of an unknown name's SHA-256 kept in the audit trail (32 bits: enough to tell
#: repeated attempts apart, too few to pin down a password typed into the name field).
NAME_DIGEST_CHARS = 8
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
    lock-out (recorded, with the lock when it is reached). `user` must have been read in
    `w`'s transaction, which holds the write lock from its start: the count read is the count
    written over, so parallel guesses are each counted."""
    locked = user.locked_until is not None and user.locked_until > w.now
    if user.disabled or locked:
        _password_ok(user, password, hasher)  # the argon2 work of a usable account: no timing
        w.audit(User.__tablename__, str(user.id), None, None,  # oracle of the account state
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


def name_digest(username: str) -> str:
    """What the audit trail keeps of a name no user has: a prefix of its SHA-256 (the typed
    text may be a password typed into the name field, and the trail cannot be changed)."""
    return hashlib.sha256(username.encode()).hexdigest()[:NAME_DIGEST_CHARS]


def login(db: Database, username: str, password: str, hasher: PasswordHasher = HASHER,
          tokens: TokenSource = secrets.token_urlsafe) -> Login:
    """Log in; `LoginError` (one message for every cause) when refused. A name that no user
    could have (`check_username`) is refused before anything is read or written."""
    try:
        check_username(username)
    except StoreError:
        raise LoginError(_REFUSED) from None
    result: Login | None = None
    with db.login_write(UNKNOWN, NO_ROLE, "log in") as w:
        user = _find(w.session, username)  # read after the write lock: the current count
        if user is None:
            hasher.hash(password[:MAX_PASSWORD])  # the work of a known name: no timing oracle
            w.audit(User.__tablename__, f"{UNKNOWN}:{name_digest(username)}", None, None,
                    "unknown user name")
        else:
            w.actor, w.role = user.username, user.role
            if _check_password(w, user, password, hasher):
                token = tokens(TOKEN_BYTES)
                row = w.create(UserSession(user_id=user.id, token_hash=token_hash(token),
                                           created_at=w.now,
                                           expires_at=w.now + SESSION_LIFETIME,
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
    with db.look() as session:
        row, user = _open_session(session, token, db.now())
        return Actor(user.username, UserRole(user.role), user.patient_id, row.authenticated_at)


def reauthenticate(db: Database, token: str, password: str,
                   hasher: PasswordHasher = HASHER) -> Actor:
    """Enter the password again in an open session (before a therapy change); a wrong one
    counts towards the lock-out."""
    ok = False
    with db.login_write(UNKNOWN, NO_ROLE, "re-authenticate") as w:
        row, user = _open_session(w.session, token, w.now)
        w.actor, w.role = user.username, user.role
        ok = _check_password(w, user, password, hasher)
        if ok:
            w.update(row, {"authenticated_at": w.now}, None)
    if not ok:
        raise LoginError(_REFUSED)
    return actor_of(db, token)


def logout(db: Database, token: str) -> None:
    """End the session."""
    with db.login_write(UNKNOWN, NO_ROLE, "log out") as w:
        row, user = _open_session(w.session, token, w.now)
        w.actor, w.role = user.username, user.role
        w.update(row, {"ended_at": w.now}, None)
