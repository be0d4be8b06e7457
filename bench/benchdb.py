"""The benchmarks' databases: SQLite in the run's folder, then PostgreSQL if it answers (a
database made for the run, dropped after it)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
from sqlalchemy.engine import URL, make_url


def databases(root: Path, admin_url: str, prefix: str,
              unreachable: Callable[[str], None] = lambda _why: None
              ) -> Iterator[tuple[str, URL]]:
    """(backend, URL) for SQLite, then for a new PostgreSQL database named `prefix`_<random>,
    made through `admin_url`; when PostgreSQL does not answer, `unreachable(why)` is called
    and only SQLite is measured."""
    yield "sqlite", URL.create("sqlite", database=str(root / "bench.db"))
    admin = make_url(admin_url)
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    try:
        conn = psycopg.connect(host=admin.host, port=admin.port, user=admin.username,
                               dbname=admin.database, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        unreachable(str(exc).strip())
        return
    with conn:
        conn.execute(f'CREATE DATABASE "{name}"')
        try:
            yield "postgresql", admin.set(database=name)
        finally:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
