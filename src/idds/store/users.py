"""Users of the record: add, list, disable, set a password. Passwords are hashed with
argon2id (argon2-cffi's defaults: RFC 9106's second recommended option, t=3, 64 MiB, p=4);
the hash is never shown, and the audit trail shows it as "<redacted>".

Managing users is `Action.MANAGE_USERS` (admins). A new password ends the user's sessions and
lifts a lock-out; disabling a user ends their sessions too.
"""

from __future__ import annotations

import string

from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session

from idds.store.database import Database, Writer
from idds.store.errors import DuplicateError, NotFoundError, StoreError
from idds.store.model import Patient, User, UserSession
from idds.store.permissions import Action, Actor, UserRole
from idds.store.rows import fetch

#: Password length bounds (characters): at least 12, above NIST SP 800-63B's floor of 8 for
#: a memorized secret; at most 256 so that hashing cannot be used to exhaust the server.
MIN_PASSWORD, MAX_PASSWORD = 12, 256
#: The hasher of the record (argon2id). Tests pass a cheaper one.
HASHER = PasswordHasher()
_NAME_CHARS = frozenset(string.ascii_lowercase + string.digits + "._-")


def check_username(username: str) -> str:
    """1-64 characters of a-z, 0-9, '.', '_' and '-' (lowercase, so names cannot be told
    apart by case alone)."""
    if not 1 <= len(username) <= 64 or not set(username) <= _NAME_CHARS:
        raise StoreError(f"user name {username[:70]!r} must be 1 to 64 characters of a-z, "
                         "0-9, '.', '_' and '-'")
    return username


def check_password(password: str) -> str:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise StoreError(f"a password must have {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    if not password.isprintable():
        raise StoreError("a password must be printable characters (no control characters)")
    return password


def find_user(session: Session, username: str) -> User:
    """The user named `username`, or `NotFoundError`."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFoundError(f"no user named {username!r}")
    return user


def add_user(db: Database, actor: Actor, username: str, role: UserRole, password: str,
             patient_id: int | None = None, hasher: PasswordHasher = HASHER) -> User:
    """A new user; a patient user is tied to their patient row, nobody else is."""
    check_username(username)
    check_password(password)
    if (role is UserRole.PATIENT) != (patient_id is not None):
        raise StoreError("a patient user needs their patient id (--patient), and only a "
                         "patient user has one")
    digest = hasher.hash(password)
    with db.write(actor, Action.MANAGE_USERS) as w:
        if patient_id is not None:
            fetch(w.session, Patient, patient_id)
        if w.session.scalar(select(User.id).where(User.username == username)) is not None:
            raise DuplicateError(f"a user named {username!r} already exists")
        return w.create(User(username=username, role=role.value, password_hash=digest,
                             patient_id=patient_id, disabled=False, failed_logins=0,
                             created_at=w.now, password_changed_at=w.now))


def list_users(db: Database, actor: Actor) -> list[User]:
    """Every user, by name."""
    with db.read(actor, Action.MANAGE_USERS) as session:
        return list(session.scalars(select(User).order_by(User.username)))


def end_sessions(w: Writer, user: User) -> None:
    open_ = list(w.session.scalars(select(UserSession).where(
        UserSession.user_id == user.id, UserSession.ended_at.is_(None))))
    for login in open_:
        w.update(login, {"ended_at": w.now}, None)


def disable_user(db: Database, actor: Actor, username: str, reason: str) -> User:
    """The user can no longer log in; their sessions end."""
    if not reason.strip():
        raise StoreError("disabling a user needs a reason")
    if username == actor.username:
        raise StoreError("an admin cannot disable their own account")
    with db.write(actor, Action.MANAGE_USERS) as w:
        user = find_user(w.session, username)
        if user.disabled:
            raise StoreError(f"user {username!r} is already disabled")
        end_sessions(w, user)
        return w.update(user, {"disabled": True}, user.version, reason.strip())


def set_password(db: Database, actor: Actor, username: str, password: str, reason: str,
                 hasher: PasswordHasher = HASHER) -> User:
    """A new password for `username`: ends their sessions, clears failed logins and any
    lock-out."""
    check_password(password)
    digest = hasher.hash(password)
    with db.write(actor, Action.MANAGE_USERS) as w:
        user = find_user(w.session, username)
        end_sessions(w, user)
        return w.update(user, {"password_hash": digest, "password_changed_at": w.now,
                               "failed_logins": 0, "locked_until": None}, user.version,
                        reason.strip() or "password set")
