"""The `--db URL` option of every store command, and opening the record from the CLI.

The CLI is the one place that reads the environment and the wall clock for the store: the URL
comes from `--db`, else $IDDS_DATABASE_URL, else `idds.db` in the data directory
(`idds.store.url`). An empty database is migrated to the newest revision on first use; one
at an older revision is refused until `idds store upgrade` runs. The person at the terminal
acts as the local administrator `cli:<login>`: whoever can run the CLI on the database already
has the database's own access (docs/store.md).
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, OperationalError

from idds.store import Actor, Database, DatabaseUrlError, UserRole, database_url, migrate
from idds.store.clock import wall_clock
from idds.store.url import DATABASE_ENV

DbOption = Annotated[str | None, typer.Option(
    "--db", help=f"Database URL (default: ${DATABASE_ENV}, else idds.db in the data "
    "directory): sqlite:///FILE or postgresql+psycopg://USER@HOST:PORT/DB.")]


def chosen_url(option: str | None) -> URL:
    return database_url(option, os.environ, Path.home())


def shown(url: URL) -> str:
    """The URL without any password."""
    return url.render_as_string(hide_password=True)


def local_admin() -> Actor:
    """The person at the terminal, as the local administrator."""
    return local_operator(UserRole.ADMIN)


def local_operator(role: UserRole) -> Actor:
    """The person at the terminal acting in `role` (a clinic command's own role: a sync is a
    nurse's or clinician's work), recorded as `cli:<login>` in the audit trail."""
    try:
        login = getpass.getuser()
    except (OSError, KeyError):
        login = "unknown"
    return Actor(f"cli:{login}", role, authenticated_at=wall_clock())


@contextmanager
def reached(url: URL) -> Iterator[None]:
    """Connection failures as one line naming the database."""
    try:
        yield
    except (OperationalError, DBAPIError) as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()
        raise DatabaseUrlError(f"cannot use the database {shown(url)}: "
                               f"{reason[0] if reason else type(exc).__name__}") from None


@contextmanager
def open_record(option: str | None, migrate_empty: bool = True) -> Iterator[Database]:
    """The record at `--db`, refused when behind the newest revision; an empty one is
    migrated (`migrate_empty`) or refused."""
    url = chosen_url(option)
    db = Database.open(url, wall_clock)
    try:
        with reached(url):
            revision = migrate.current(db.engine)
            if revision is None and migrate_empty:
                migrate.upgrade(db.engine)
            elif revision is None:
                raise DatabaseUrlError(f"the database {shown(url)} has no tables (not "
                                       "migrated): nothing to read")
            elif revision != migrate.head():
                raise DatabaseUrlError(f"the database {shown(url)} is at revision {revision}, "
                                       f"not {migrate.head()}: run `idds store upgrade` first")
            yield db
    finally:
        db.dispose()
