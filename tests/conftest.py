"""Shared fixtures: a site library signed with a throw-away key, trusted only by itself."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from idds.drugs import TrustStore, generate_keypair, reference_library_path, sign_file

#: The database fixtures (SQLite and PostgreSQL) of the store and API tests.
pytest_plugins = ["tests.databases"]


@dataclass(frozen=True)
class SiteLibrary:
    path: Path
    key: Path
    public: Path
    trust: TrustStore


@pytest.fixture
def site_library(tmp_path: Path) -> SiteLibrary:
    """A copy of the reference library signed by a fresh site key."""
    private, public = generate_keypair(tmp_path / "site")
    path = tmp_path / "library.toml"
    shutil.copy(reference_library_path(), path)
    sign_file(path, private)
    return SiteLibrary(path, private, public, TrustStore.only(public))
