"""Which database: `--db URL`, else $IDDS_DATABASE_URL, else the SQLite file `idds.db` in the
data directory ($IDDS_DATA_DIR, else $XDG_DATA_HOME/idds, else ~/.local/share/idds).

PostgreSQL is `postgresql+psycopg://user@host:port/database` (psycopg 3); a bare
`postgresql://` is read as that driver. Any other scheme is refused with one line.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from idds.store.errors import DatabaseUrlError

DATABASE_ENV = "IDDS_DATABASE_URL"
DATA_DIR_ENV = "IDDS_DATA_DIR"
DEFAULT_FILE = "idds.db"
#: The drivers the store supports, by URL scheme.
DRIVERS = {"sqlite": "sqlite", "sqlite+pysqlite": "sqlite",
           "postgresql": "postgresql+psycopg", "postgresql+psycopg": "postgresql+psycopg"}


def data_dir(env: Mapping[str, str], home: Path) -> Path:
    """Where the default database lives (see the module docstring)."""
    if env.get(DATA_DIR_ENV):
        return Path(env[DATA_DIR_ENV]).expanduser()
    if env.get("XDG_DATA_HOME"):
        return Path(env["XDG_DATA_HOME"]) / "idds"
    return home / ".local" / "share" / "idds"


def database_url(option: str | None, env: Mapping[str, str], home: Path) -> URL:
    """The database URL in force: the option, the environment, or the default file."""
    text = option if option is not None else env.get(DATABASE_ENV)
    if text is None:
        return URL.create("sqlite", database=str(data_dir(env, home) / DEFAULT_FILE))
    return parse_database_url(text)


def parse_database_url(text: str) -> URL:
    """A SQLite or PostgreSQL URL, with the psycopg 3 driver for PostgreSQL."""
    shown = text if len(text) <= 80 else text[:77] + "..."
    try:
        url = make_url(text.strip())
    except ArgumentError:
        raise DatabaseUrlError(f"--db {shown!r} is not a database URL (like "
                               "sqlite:///idds.db or postgresql+psycopg://user@host/db)") from None
    driver = DRIVERS.get(url.drivername)
    if driver is None:
        raise DatabaseUrlError(f"--db {shown!r}: the database kind {url.drivername!r} is not "
                               "supported (sqlite or postgresql+psycopg)")
    if driver == "sqlite" and not url.database:
        raise DatabaseUrlError(f"--db {shown!r} names no SQLite file (like sqlite:///idds.db)")
    return url.set(drivername=driver)
