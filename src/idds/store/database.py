"""The clinic's record as one object: an engine, an injected clock, and the only way to
write: `Database.write`, which checks the permission table and appends the audit record of
every change in the same transaction (all or nothing).

Writers are serialized before they touch a row, so a writer that changes several rows cannot
deadlock with another: every write transaction (`write`, `login_write`, `session`) starts by
taking the database's write lock (SQLite: `BEGIN IMMEDIATE`, `idds.store.engine`;
PostgreSQL: the advisory lock `idds.store.audit.APPEND_LOCK`, as its first statement). Reads
(`read`, `look`) take no lock.

    db = Database.open(url, clock)
    with db.write(actor, Action.REGISTER_PATIENT) as w:
        patient = w.create(Patient(...))
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import TypeVar

from sqlalchemy import Engine, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from idds.store.audit import APPEND_LOCK, AuditEntry, append
from idds.store.clock import Clock, utc
from idds.store.engine import READ_ONLY, make_engine
from idds.store.errors import (
    DatabaseBusyError,
    DatabaseUrlError,
    DuplicateError,
    StaleWriteError,
    StoreError,
)
from idds.store.model import Base
from idds.store.permissions import Action, Actor, authorize

_Row = TypeVar("_Row", bound=Base)


def entity_id(row: Base) -> str:
    """The audit trail's id of a row: its primary key as text."""
    return "/".join(str(getattr(row, c.key)) for c in row.__table__.columns if c.primary_key)


class Writer:
    """One transaction's writes, each audited as `action` by `actor` at `now`."""

    def __init__(self, session: Session, actor: str, role: str, action: str,
                 now: datetime) -> None:
        self.session, self.actor, self.role, self.action, self.now = (
            session, actor, role, action, now)

    def audit(self, entity_type: str, entity: str, before: dict[str, object] | None,
              after: dict[str, object] | None, reason: str | None = None) -> None:
        """Append one audit record for a change not made with `create` / `update`."""
        append(self.session, AuditEntry(self.actor, self.role, self.action, entity_type,
                                        entity, before, after, reason), self.now)

    def create(self, row: _Row, reason: str | None = None) -> _Row:
        """Insert `row` (a versioned row starts at version 1) and audit it."""
        if "version" in row.__table__.columns and getattr(row, "version", None) is None:
            row.version = 1  # type: ignore[attr-defined]
        self.session.add(row)
        self.session.flush()
        self.audit(row.__tablename__, entity_id(row), None, row.audit_data(), reason)
        return row

    def update(self, row: _Row, changes: Mapping[str, object], expected_version: int | None,
               reason: str | None = None) -> _Row:
        """Change columns of `row`; with a versioned row, refuse (`StaleWriteError`) unless it
        is still at `expected_version`, the version the caller read."""
        current = getattr(row, "version", None)  # None: a row without a version column
        if current is not None and current != expected_version:
            raise StaleWriteError(
                f"{row.__tablename__} {entity_id(row)} changed since it was read (version "
                f"{expected_version}, now {current}): read it again")
        before = row.audit_data()
        for name, value in changes.items():
            if name not in row.__table__.columns or name in ("id", "version"):
                raise StoreError(f"{row.__tablename__} has no changeable column {name!r}")
            setattr(row, name, value)
        self.session.flush()
        self.audit(row.__tablename__, entity_id(row), before, row.audit_data(), reason)
        return row


class Database:
    """The clinic's record on one database (SQLite or PostgreSQL)."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._reads = sessionmaker(engine.execution_options(**{READ_ONLY: True}),
                                   expire_on_commit=False)

    @staticmethod
    def open(url: URL, clock: Clock) -> Database:
        return Database(make_engine(url), clock)

    def now(self) -> datetime:
        """The injected clock's time, in UTC."""
        return utc(self.clock(), "the clock's time")

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A write transaction with no permission check (the audit verifier, tests), which
        holds the database's write lock from its start to its end."""
        with _translated(), self._sessions.begin() as session:
            if session.get_bind().dialect.name == "postgresql":
                session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": APPEND_LOCK})
            else:
                session.connection()  # BEGIN IMMEDIATE: wait for the write lock now
            yield session

    @contextmanager
    def look(self) -> Iterator[Session]:
        """A read-only look with no permission check (authentication): takes no lock, writes
        nothing."""
        with _translated(), self._reads() as session:
            try:
                yield session
            finally:
                session.expunge_all()
                session.rollback()

    @contextmanager
    def read(self, actor: Actor, action: Action,
             patient_id: int | None = None) -> Iterator[Session]:
        """A read-only look, after the permission check (nothing is written or audited)."""
        authorize(actor, action, self.now(), patient_id)
        with _translated(), self._reads() as session:
            try:
                yield session
            finally:
                session.expunge_all()  # what was read stays readable after the rollback
                session.rollback()

    @contextmanager
    def write(self, actor: Actor, action: Action,
              patient_id: int | None = None) -> Iterator[Writer]:
        """One audited transaction, after the permission check: committed when the block
        ends, rolled back (with its audit records) if it raises."""
        now = self.now()
        authorize(actor, action, now, patient_id)
        with self.session() as session:
            yield Writer(session, actor.username, str(actor.role), str(action), now)

    @contextmanager
    def login_write(self, username: str, role: str, action: str) -> Iterator[Writer]:
        """An audited transaction for the login bookkeeping itself (a login, a failed one,
        a logout): no permission applies before someone is authenticated. It holds the write
        lock from its start, so what it reads (the user's failed logins) is still so when it
        writes; the caller may set the writer's `actor` and `role` once it has read the user."""
        now = self.now()
        with self.session() as session:
            yield Writer(session, username, role, action, now)

    def dispose(self) -> None:
        self.engine.dispose()


@contextmanager
def _translated() -> Iterator[None]:
    """Database refusals as one-line typed errors."""
    try:
        yield
    except StaleDataError:
        raise StaleWriteError("the row changed while this change was being written: read it "
                              "again") from None
    except IntegrityError as exc:
        kind = DuplicateError if _duplicate(exc) else StoreError
        raise kind(f"the database refused the change: {_first_line(exc)}") from None
    except OperationalError as exc:
        if _busy(exc):
            raise DatabaseBusyError(f"the database was busy (another writer held it): nothing "
                                    f"was written, try again ({_first_line(exc)})") from None
        raise DatabaseUrlError(f"database error: {_first_line(exc)}") from None


#: PostgreSQL's SQLSTATEs of a lock not granted: serialization failure, deadlock, lock wait
#: timed out (lock_timeout), statement timed out while waiting.
_BUSY_STATES = frozenset({"40001", "40P01", "55P03", "57014"})
#: SQLite's messages of a lock not granted within the busy timeout.
_BUSY_WORDS = ("database is locked", "database table is locked", "database is busy")


def _duplicate(exc: IntegrityError) -> bool:
    """Whether `exc` is a unique constraint violated (PostgreSQL 23505; SQLite's words)."""
    orig = getattr(exc, "orig", None)
    return getattr(orig, "sqlstate", None) == "23505" or "UNIQUE constraint failed" in str(orig)


def _busy(exc: OperationalError) -> bool:
    """Whether `exc` is a lock not granted (deadlock, lock timeout, SQLite busy)."""
    orig = getattr(exc, "orig", None)
    if getattr(orig, "sqlstate", None) in _BUSY_STATES:
        return True
    message = str(orig or exc).lower()
    return any(words in message for words in _BUSY_WORDS)


def _first_line(exc: Exception) -> str:
    orig = getattr(exc, "orig", None) or exc
    return str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__


__all__ = ["Database", "Writer", "entity_id"]
