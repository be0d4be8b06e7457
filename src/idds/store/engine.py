"""Opening a database: an engine for a SQLite file or a PostgreSQL server (psycopg 3).

On SQLite every connection turns foreign keys on and uses the write-ahead log (WAL: readers do
not block the writer, and a crash leaves the last committed transaction in place), with
`synchronous=FULL` so a commit is on disk before it is acknowledged.

Writers are serialized before they touch a row. On SQLite the driver's own transaction
handling is switched off and SQLAlchemy emits the BEGIN itself (SQLAlchemy's pysqlite recipe
"Serializable isolation / Savepoints / Transactional DDL"): `BEGIN IMMEDIATE`, which takes the
database's write lock at once, for every transaction except those opened on a connection with
the execution option `READ_ONLY` (plain `BEGIN`: a WAL reader takes no lock). A writer that
finds the lock taken waits up to `SQLITE_BUSY_S` for it. On PostgreSQL `idds.store.database`
takes an advisory lock as the first statement of every write transaction.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL

from idds.store.errors import DatabaseUrlError

#: How long a SQLite writer waits for another's lock before giving up (s).
SQLITE_BUSY_S = 30
#: The execution option of a connection whose transactions only read (SQLite: plain BEGIN).
READ_ONLY = "idds_read_only"


def _sqlite_connect(connection: Any, _record: object) -> None:
    connection.isolation_level = None  # no implicit BEGIN from the driver: see _sqlite_begin
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_S * 1000)}")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    read_only = connection.get_execution_options().get(READ_ONLY, False)
    connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


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
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True)
