"""Migrations go up, down and up again on both backends; the models and the migrations do not
drift (`alembic check`); the audit table's triggers refuse UPDATE and DELETE."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from idds.store import migrate
from idds.store.engine import make_engine
from idds.store.model import Base


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
              "'0', 'h')")


@pytest.mark.parametrize("statement", [
    "UPDATE audit_record SET actor = 'mallory'",
    "DELETE FROM audit_record",
])
def test_the_audit_trigger_refuses_update_and_delete(url: URL, statement: str) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(INSERT, {"at": "2026-01-01 00:00:00"})
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
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
