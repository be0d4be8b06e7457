"""Opening a database: an engine for a SQLite file or a PostgreSQL server (psycopg 3).

On SQLite every connection turns foreign keys on and uses the write-ahead log (WAL: readers do
not block the writer, and a crash leaves the last committed transaction in place), with
`synchronous=FULL` so a commit is on disk before it is acknowledged.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL

from idds.store.errors import DatabaseUrlError

#: How long a SQLite writer waits for another's lock before giving up (s).
SQLITE_BUSY_S = 15


def _sqlite_pragmas(connection: Any, _record: object) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


def make_engine(url: URL) -> Engine:
    """An engine for `url` (from `idds.store.url`). A SQLite file's folder is created."""
    if url.get_backend_name() == "sqlite":
        database = url.database or ""
        if database != ":memory:":
            folder = Path(database).expanduser().parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise DatabaseUrlError(f"cannot create the database folder {folder}: "
                                       f"{exc.strerror}") from None
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_S})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)
