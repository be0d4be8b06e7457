"""Fixtures of the console's page tests: the console (API and pages) over a fresh record on
SQLite (the store's own tests cover both databases), one user of each role, and a browser-like
client that logs in through the login form."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from idds.api import Clinic
from idds.console.app import create_console
from tests.api.conftest import clinic, users  # noqa: F401 (fixtures used here)
from tests.console.page_helpers import log_in


@pytest.fixture
def backend() -> str:
    return "sqlite"


@pytest.fixture
def client(clinic: Clinic) -> Iterator[TestClient]:  # noqa: F811 (the console, not the API)
    with TestClient(create_console(clinic), raise_server_exceptions=False,
                    follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture
def browser_as(clinic: Clinic, users: object) -> Iterator[Callable[[str], TestClient]]:  # noqa: F811
    """A new client logged in through the form as `<role>1`."""
    opened: list[TestClient] = []

    def make(username: str) -> TestClient:
        c = TestClient(create_console(clinic), raise_server_exceptions=False,
                       follow_redirects=False)
        opened.append(c)
        log_in(c, username)
        return c

    yield make
    for c in opened:
        c.close()
