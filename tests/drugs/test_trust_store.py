"""The trust store comes from the shipped keys and a site file only its owner may write; a
library version never goes back (issue 13, finding 6; What to build, item 8)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from idds.drugs import (
    LibraryHolder,
    RollbackError,
    SignatureError,
    TrustStore,
    TrustStoreError,
    VersionRecord,
    load_library,
    reference_library_path,
    sign_file,
)
from tests.conftest import SiteLibrary


def versioned(site: SiteLibrary, version: str, name: str) -> Path:
    """A copy of the site library at `version`, signed by the site key."""
    path = site.path.parent / name
    text = re.sub(r'^version = ".*"$', f'version = "{version}"', site.path.read_text(),
                  count=1, flags=re.MULTILINE)
    path.write_text(text)
    sign_file(path, site.key)
    return path


def trust_file(site: SiteLibrary, mode: int = 0o644) -> Path:
    folder = site.path.parent / "etc-idds"
    folder.mkdir(mode=0o755, exist_ok=True)
    shutil.copy(site.public, folder / "site.pub")
    path = folder / "trust-store.toml"
    path.write_text('# site trust store\nkeys = ["site.pub"]\n')
    path.chmod(mode)
    return path


def test_the_environment_no_longer_extends_the_trust_store(
    site_library: SiteLibrary, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IDDS_TRUSTED_KEYS", str(site_library.public))
    with pytest.raises(SignatureError, match="not in the trust store"):
        load_library(site_library.path, TrustStore.default())


def test_a_site_trust_store_file_adds_its_keys(site_library: SiteLibrary) -> None:
    trust = TrustStore.default(trust_file(site_library))
    assert load_library(site_library.path, trust).signed_by in trust.keys
    assert load_library(reference_library_path(), trust)  # the shipped keys stay trusted


@pytest.mark.parametrize("mode", [0o664, 0o646])
def test_a_trust_store_file_others_may_write_is_refused(site_library: SiteLibrary,
                                                        mode: int) -> None:
    with pytest.raises(TrustStoreError, match="writable by group or others"):
        TrustStore.default(trust_file(site_library, mode))


def test_a_key_file_or_folder_others_may_write_is_refused(site_library: SiteLibrary) -> None:
    path = trust_file(site_library)
    (path.parent / "site.pub").chmod(0o666)
    with pytest.raises(TrustStoreError, match=r"key file .* writable by group or others"):
        TrustStore.default(path)
    (path.parent / "site.pub").chmod(0o644)
    path.parent.chmod(0o777)
    try:
        with pytest.raises(TrustStoreError, match=r"folder .* writable by group or others"):
            TrustStore.default(path)
    finally:
        path.parent.chmod(0o755)
    site_library.public.chmod(0o622)
    with pytest.raises(TrustStoreError, match="writable by group or others"):
        TrustStore.only(site_library.public)


@pytest.mark.parametrize(("text", "fragment"), [
    ('keys = ["site.pub"]\nextra = 1\n', "unknown key"),
    ('keys = "site.pub"\n', "list of file names"),
    ('keys = ["missing.pub"]\n', "no such key file"),
    ("keys = [", "not valid TOML"),
])
def test_a_malformed_trust_store_file_is_refused(site_library: SiteLibrary, text: str,
                                                 fragment: str) -> None:
    path = trust_file(site_library)
    path.write_text(text)
    with pytest.raises(TrustStoreError, match=fragment):
        TrustStore.default(path)
    with pytest.raises(TrustStoreError, match="no such trust-store file"):
        TrustStore.default(path.parent / "absent.toml")


def test_an_older_signed_library_is_refused(site_library: SiteLibrary, tmp_path: Path) -> None:
    record = VersionRecord(tmp_path / "home" / ".idds" / "library-version.json")
    newer = versioned(site_library, "2030.2.1", "newer.toml")
    older = versioned(site_library, "2030.1.15", "older.toml")
    load_library(newer, site_library.trust, record)
    written = record.path.read_bytes()
    assert json.loads(written)["libraries"]
    with pytest.raises(RollbackError, match=r"2030\.1\.15 is older than version 2030\.2\.1"):
        load_library(older, site_library.trust, record)
    assert record.path.read_bytes() == written  # refused: nothing changed
    load_library(newer, site_library.trust, record)  # the same version again is fine
    assert versioned(site_library, "2030.10", "next.toml")
    load_library(site_library.path.parent / "next.toml", site_library.trust, record)
    assert record.newest(load_library(newer, site_library.trust).data.library.name) == "2030.10"


def test_a_damaged_record_fails_safe(site_library: SiteLibrary, tmp_path: Path) -> None:
    record = VersionRecord(tmp_path / "library-version.json")
    record.path.write_text("{not json")
    with pytest.raises(RollbackError, match="unreadable"):
        load_library(site_library.path, site_library.trust, record)


def test_the_holder_refuses_an_older_replacement(site_library: SiteLibrary) -> None:
    holder = LibraryHolder(load_library(versioned(site_library, "2030.2", "new.toml"),
                                        site_library.trust))
    before = holder.current
    with pytest.raises(RollbackError, match=r"older than version 2030\.2 in force"):
        holder.replace(versioned(site_library, "2030.1", "old.toml"), site_library.trust)
    assert holder.current is before and "older" in holder.rejected[0]


def test_a_version_must_be_dotted_numbers(site_library: SiteLibrary) -> None:
    path = versioned(site_library, "2030.1-beta", "odd.toml")
    with pytest.raises(Exception, match="dotted whole numbers"):
        load_library(path, site_library.trust)
