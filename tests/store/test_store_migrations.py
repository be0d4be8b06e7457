"""Migrations go up, down and up again on both backends; the models and the migrations do not
drift (`alembic check`); the audit table's triggers refuse UPDATE and DELETE, and an INSERT
(or SQLite INSERT OR REPLACE) of a record that does not follow the last."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from idds.store import migrate
from idds.store.audit import verify_chain
from idds.store.clock import FakeClock
from idds.store.database import Database
from idds.store.engine import make_engine
from idds.store.model import Base, Patient
from idds.store.patients import register_patient
from idds.store.permissions import UserRole
from tests.store.store_helpers import START, actor


def test_up_down_and_up_again_with_no_drift(empty_url: URL) -> None:
    engine = make_engine(empty_url)
    try:
        assert migrate.current(engine) is None
        migrate.upgrade(engine)
        assert migrate.current(engine) == migrate.head()
        assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
        assert migrate.drift(engine) == []
        migrate.downgrade(engine)
        assert migrate.current(engine) is None
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        migrate.upgrade(engine)
        assert migrate.current(engine) == migrate.head()
        assert migrate.drift(engine) == []
    finally:
        engine.dispose()


def test_a_record_at_the_first_revision_upgrades_with_its_rows_and_chain(
        empty_url: URL) -> None:
    """A clinic's record written at 0001 keeps every row and a verifying audit chain when
    migrated to the newest revision (and back down to 0001)."""
    engine = make_engine(empty_url)
    try:
        migrate.upgrade(engine, "0001")
        db = Database(engine, FakeClock(START))
        register_patient(db, actor(UserRole.NURSE), "MRN-7", "Kept Patient", date(1960, 1, 1))
        migrate.upgrade(engine)
        assert migrate.current(engine) == migrate.head() != "0001"
        with db.session() as session:
            assert [p.identifier for p in session.scalars(select(Patient))] == ["MRN-7"]
            assert verify_chain(session).ok
        migrate.downgrade(engine, "0001")
        assert "pump_reading" not in inspect(engine).get_table_names()
        with db.session() as session:
            assert verify_chain(session).count == 1
    finally:
        engine.dispose()


def test_the_drift_check_sees_a_table_the_migrations_lack(empty_url: URL) -> None:
    """A guard on the guard: a column the migrations do not create is reported."""
    engine = make_engine(empty_url)
    try:
        migrate.upgrade(engine)
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE patient ADD COLUMN nickname VARCHAR(20)"))
        assert migrate.drift(engine) != []
    finally:
        engine.dispose()


INSERT = text("INSERT INTO audit_record (sequence, at, actor, role, action, entity_type, "
              "entity_id, prev_hash, hash) VALUES (1, :at, 'a', 'admin', 'x', 'y', '1', "
              f"'{'0' * 64}', 'h')")


def _refused_after_one_record(url: URL, statement: str) -> Engine:
    """An engine on `url` holding one audit record, after `statement` was refused as
    append-only (the caller disposes of it)."""
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(INSERT, {"at": "2026-01-01 00:00:00"})
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text(statement))
    return engine


@pytest.mark.parametrize("statement", [
    "UPDATE audit_record SET actor = 'mallory'",
    "DELETE FROM audit_record",
])
def test_the_audit_trigger_refuses_update_and_delete(url: URL, statement: str) -> None:
    engine = _refused_after_one_record(url, statement)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT actor FROM audit_record")).scalar_one() == "a"
    finally:
        engine.dispose()


def test_foreign_keys_are_enforced_and_sqlite_uses_the_wal(url: URL) -> None:
    engine = make_engine(url)
    try:
        with pytest.raises(DBAPIError), engine.begin() as conn:
            conn.execute(text("INSERT INTO implant (patient_id, pump_serial, pump_model, "
                              "catheter_model, catheter_tip, implanted_on, version) VALUES "
                              "(999, 'S', 'M', 'C', 'T10', '2026-01-01', 1)"))
        if engine.dialect.name == "sqlite":
            with engine.connect() as conn:
                assert conn.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
                assert conn.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
    finally:
        engine.dispose()


def _record(sequence: int, prev_hash: str, verb: str = "INSERT") -> str:
    return (f"{verb} INTO audit_record (sequence, at, actor, role, action, entity_type, "
            f"entity_id, prev_hash, hash) VALUES ({sequence}, '2026-01-01 00:00:00', "
            f"'mallory', 'admin', 'x', 'y', '1', '{prev_hash}', 'forged-{sequence}')")


@pytest.mark.parametrize(("sequence", "prev"), [
    (1, "h"),  # a sequence already taken
    (3, "h"),  # a gap
    (2, "0" * 64),  # the right sequence, not linked to the last record
])
def test_the_audit_trigger_refuses_a_record_that_does_not_follow(url: URL, sequence: int,
                                                                 prev: str) -> None:
    engine = _refused_after_one_record(url, _record(sequence, prev))
    try:
        with engine.begin() as conn:
            conn.execute(text(_record(2, "h")))  # the one record that follows is accepted
            assert conn.execute(text("SELECT COUNT(*) FROM audit_record")).scalar_one() == 2
    finally:
        engine.dispose()


@pytest.mark.parametrize("statement", [
    _record(1, "0" * 64, "INSERT OR REPLACE"),  # rewrite record 1 in place
    _record(2, "h", "REPLACE").replace("'forged-2'", "'h'"),  # steal record 1's hash
])
def test_sqlite_insert_or_replace_cannot_rewrite_a_record(url: URL, statement: str) -> None:
    if url.get_backend_name() != "sqlite":
        pytest.skip("INSERT OR REPLACE is SQLite's")
    engine = _refused_after_one_record(url, statement)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT sequence, actor FROM audit_record")).all() == [
                (1, "a")]
    finally:
        engine.dispose()
