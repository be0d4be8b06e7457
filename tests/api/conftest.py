"""Fixtures of the API tests: the app over a fresh record on SQLite and on PostgreSQL (the
store tests' databases), with one user of each role, logged in through the API itself."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from idds.api import Clinic, DevicePumps, create_app
from idds.drugs import load_library
from idds.programmer import DeviceDir
from idds.store import Database, UserRole
from idds.store.clock import FakeClock
from idds.store.patients import register_patient
from idds.store.therapy import install_library
from idds.store.users import add_user
from tests.api.api_helpers import PASSWORD, Users
from tests.store.store_helpers import CHEAP, actor


@pytest.fixture
def clinic(db: Database, clock: FakeClock, tmp_path: Path) -> Clinic:
    """The record with the reference library installed and a device directory for pumps."""
    library = load_library()
    installed = install_library(db, actor(UserRole.ADMIN, clock), library)
    device = DeviceDir(tmp_path / "clinic-programmer", "programmer", lambda: clock().isoformat())
    return Clinic(db, library, installed.id, DevicePumps(device, library, lambda: clock().date()))


@pytest.fixture
def client(clinic: Clinic) -> Iterator[TestClient]:
    with TestClient(create_app(clinic), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def users(clinic: Clinic, clock: FakeClock, client: TestClient) -> Users:
    """One user of each role (the patient user is patient 1's, registered here), logged in."""
    admin = actor(UserRole.ADMIN, clock, "root")
    patient = register_patient(clinic.db, actor(UserRole.NURSE, clock), "MRN-1", "Ada Patient",
                               date(1970, 5, 4))
    for role in UserRole:
        add_user(clinic.db, admin, f"{role.value}1", role, PASSWORD,
                 patient.id if role is UserRole.PATIENT else None, hasher=CHEAP)
    return Users.logged_in(client, patient.id)
