"""The database fixtures of the store and API tests (a plugin of tests/conftest.py): every
test that asks for `db` runs on SQLite and on PostgreSQL.

SQLite: a copy of a migrated file in tmp_path. PostgreSQL (127.0.0.1:5432, user postgres,
trust authentication, as this kind of machine runs it; .ci/run starts it): a database made
for this test session from `test` is migrated once and used as the template of a fresh
database per test, all dropped at the end, so parallel runs never share a database. When
PostgreSQL cannot be reached the tests FAIL, saying so, unless IDDS_SKIP_POSTGRES=1.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import URL, make_url

from idds.store import migrate
from idds.store.clock import FakeClock
from idds.store.database import Database
from idds.store.engine import make_engine
from idds.store.permissions import Actor, UserRole
from tests.store.store_helpers import START, actor

POSTGRES = os.environ.get("IDDS_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BACKENDS = ["sqlite", "postgresql"]


def _admin_connection() -> psycopg.Connection[tuple[object, ...]]:
    url = make_url(POSTGRES)
    return psycopg.connect(host=url.host, port=url.port, user=url.username,
                           dbname=url.database, autocommit=True, connect_timeout=5)


class _Postgres:
    """The session's template database and the per-test copies of it."""

    def __init__(self) -> None:
        self.prefix = f"idds_store_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        self.made: list[str] = []
        self.template = self.prefix + "_template"
        with _admin_connection() as conn:
            conn.execute(f'CREATE DATABASE "{self.template}"')
        engine = make_engine(self.url(self.template))
        migrate.upgrade(engine)
        engine.dispose()

    def url(self, name: str) -> URL:
        return make_url(POSTGRES).set(database=name)

    def fresh(self, migrated: bool = True) -> URL:
        name = f"{self.prefix}_{len(self.made)}"
        template = f' TEMPLATE "{self.template}"' if migrated else ""
        with _admin_connection() as conn:
            conn.execute(f'CREATE DATABASE "{name}"{template}')
        self.made.append(name)
        return self.url(name)

    def drop_all(self) -> None:
        with _admin_connection() as conn:
            for name in [*self.made, self.template]:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres() -> Iterator[_Postgres | None]:
    try:
        server = _Postgres()
    except psycopg.OperationalError as exc:
        if os.environ.get("IDDS_SKIP_POSTGRES") == "1":
            yield None
            return
        pytest.fail(f"PostgreSQL is not reachable at {POSTGRES} ({str(exc).strip()}): start it "
                    "(.ci/run does: pg_ctlcluster ... main start) or set IDDS_SKIP_POSTGRES=1 "
                    "to run the store tests on SQLite only", pytrace=False)
    yield server
    server.drop_all()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("store") / "template.db"
    engine = make_engine(URL.create("sqlite", database=str(path)))
    migrate.upgrade(engine)
    engine.dispose()
    return path


def fresh_url(backend: str, tmp_path: Path, postgres: _Postgres | None,
              sqlite_template: Path | None, migrated: bool = True) -> URL:
    """A database URL of `backend`, new for this test (migrated, or empty)."""
    if backend == "sqlite":
        path = tmp_path / f"idds-{uuid.uuid4().hex[:6]}.db"
        if migrated and sqlite_template is not None:
            shutil.copy(sqlite_template, path)
        return URL.create("sqlite", database=str(path))
    if postgres is None:
        pytest.skip("IDDS_SKIP_POSTGRES=1: PostgreSQL tests skipped")
    return postgres.fresh(migrated)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _server(backend: str, request: pytest.FixtureRequest) -> _Postgres | None:
    """The PostgreSQL server, asked for only by the PostgreSQL runs (SQLite runs do not fail
    when PostgreSQL is down)."""
    if backend != "postgresql":
        return None
    server = request.getfixturevalue("postgres")
    assert server is None or isinstance(server, _Postgres)
    return server


@pytest.fixture
def url(backend: str, tmp_path: Path, request: pytest.FixtureRequest,
        sqlite_template: Path) -> URL:
    """A fresh, migrated database of each backend."""
    return fresh_url(backend, tmp_path, _server(backend, request), sqlite_template)


@pytest.fixture
def url_factory(backend: str, tmp_path: Path, request: pytest.FixtureRequest,
                sqlite_template: Path) -> Callable[[], URL]:
    """More fresh, migrated databases of the test's backend (a restore's target)."""
    return lambda: fresh_url(backend, tmp_path, _server(backend, request), sqlite_template)


@pytest.fixture
def empty_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> URL:
    """A fresh database of each backend with no tables."""
    return fresh_url(backend, tmp_path, _server(backend, request), None, migrated=False)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def db(url: URL, clock: FakeClock) -> Iterator[Database]:
    database = Database.open(url, clock)
    yield database
    database.dispose()


@pytest.fixture
def clinician(clock: FakeClock) -> Actor:
    return actor(UserRole.CLINICIAN, clock)


@pytest.fixture
def nurse(clock: FakeClock) -> Actor:
    return actor(UserRole.NURSE, clock)


@pytest.fixture
def admin(clock: FakeClock) -> Actor:
    return actor(UserRole.ADMIN, clock)
