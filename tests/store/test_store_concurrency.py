"""Writers racing: they are serialized, a stale write gets a clear conflict and the change
made first stays, a lock held too long is a typed busy error, and the audit chain stays whole
(on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.engine import URL

from idds.store import engine, patients
from idds.store.audit import verify_chain
from idds.store.clock import FakeClock
from idds.store.database import Database
from idds.store.errors import DatabaseBusyError, StaleWriteError
from idds.store.model import Patient
from idds.store.permissions import Action, Actor
from idds.store.rows import fetch


def test_a_race_between_two_writers_loses_no_update(url: URL, clock: FakeClock,
                                                    nurse: Actor) -> None:
    first, second = Database.open(url, clock), Database.open(url, clock)
    try:
        patient = patients.register_patient(first, nurse, "MRN-1", "Ada", date(1950, 1, 1))
        read = patients.get_patient(first, nurse, patient.id)  # the first has read version 1
        patients.update_patient(second, nurse, patient.id, 1, "second", name="Second")
        with pytest.raises(StaleWriteError), first.write(nurse, Action.UPDATE_PATIENT) as w:
            row = fetch(w.session, Patient, patient.id)  # writers are serialized: version 2
            w.update(row, {"name": "First"}, read.version, "first")
        back = patients.get_patient(first, nurse, patient.id)
        assert (back.name, back.version) == ("Second", 2)
        with first.session() as session:
            check = verify_chain(session)
        assert (check.ok, check.count) == (True, 2)
    finally:
        first.dispose()
        second.dispose()


def test_writers_queue_and_a_lock_held_too_long_is_a_busy_error(
        url: URL, clock: FakeClock, nurse: Actor, monkeypatch: pytest.MonkeyPatch) -> None:
    """A write transaction takes the write lock first (SQLite: BEGIN IMMEDIATE; PostgreSQL:
    the advisory lock); one that cannot get it in time is a `DatabaseBusyError`, not a bad
    database URL."""
    monkeypatch.setattr(engine, "SQLITE_BUSY_S", 0.2)
    postgres = url.get_backend_name() == "postgresql"
    first = Database.open(url, clock)
    second = Database(create_engine(url, connect_args={"options": "-c lock_timeout=200"})
                      if postgres else engine.make_engine(url), clock)
    try:
        with first.session():  # holds the write lock
            with pytest.raises(DatabaseBusyError, match="busy"):
                patients.register_patient(second, nurse, "MRN-1", "Ada", date(1950, 1, 1))
            with first.look() as session:  # a reader is not blocked
                assert session.scalars(select(Patient)).all() == []
        patients.register_patient(second, nurse, "MRN-1", "Ada", date(1950, 1, 1))
    finally:
        first.dispose()
        second.dispose()
