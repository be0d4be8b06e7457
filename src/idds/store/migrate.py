"""Migrations in code: upgrade, downgrade, the revision in force, and the drift check.

The Alembic configuration is built here (script location inside the package), so a user needs
no alembic.ini. `drift` is `alembic check`: autogenerate's comparison of the models with the
migrated database; an empty list means no drift.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from idds.store.model import Base

MIGRATIONS = Path(__file__).parent / "migrations"


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def _run(engine: Engine, step: Callable[[Config], None]) -> None:
    """Run one Alembic command on a connection of `engine` and commit it."""
    with engine.connect() as connection:
        config = _config()
        config.attributes["connection"] = connection
        step(config)
        connection.commit()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database up to `revision` (default: the newest)."""
    _run(engine, lambda config: command.upgrade(config, revision))


def downgrade(engine: Engine, revision: str = "base") -> None:
    """Migrate the database down to `revision` (default: no tables at all)."""
    _run(engine, lambda config: command.downgrade(config, revision))


def current(engine: Engine) -> str | None:
    """The revision the database is at (None: not migrated)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head() -> str:
    """The newest revision."""
    revision = ScriptDirectory.from_config(_config()).get_current_head()
    assert revision is not None
    return revision


def drift(engine: Engine) -> list[object]:
    """What autogenerate would change to make the database match the models ([] = none)."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))
