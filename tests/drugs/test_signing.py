"""The signed drug library: tampering, wrong keys and missing signatures are refused."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from idds.drugs import (
    LibraryError,
    LibraryHolder,
    SignatureError,
    TrustStore,
    generate_keypair,
    load_library,
    reference_library_path,
    sign_file,
)
from tests.conftest import SiteLibrary


def test_shipped_library_verifies_with_shipped_key() -> None:
    library = load_library(reference_library_path(), TrustStore.default())
    assert set(library.drugs) == {
        "morphine", "hydromorphone", "fentanyl", "sufentanil", "bupivacaine", "clonidine",
        "ziconotide", "baclofen",
    }


def test_every_limit_names_its_source_and_kind() -> None:
    library = load_library()
    for drug in library.drugs.values():
        limits = [drug.concentration_max, drug.max_daily_dose, drug.max_bolus,
                  drug.max_increase, drug.min_interval_between_increases,
                  drug.max_increase_percent, drug.start_daily_dose]
        for limit in filter(None, limits):
            assert limit.source.strip()
            assert limit.kind in ("hard", "soft")
        assert drug.concentration_max.kind == "hard"


def test_site_library_loads(site_library: SiteLibrary) -> None:
    library = load_library(site_library.path, site_library.trust)
    assert library.drug("Morphine").name.startswith("Morphine")


def test_a_tampered_byte_is_refused(site_library: SiteLibrary) -> None:
    text = site_library.path.read_text()
    site_library.path.write_text(text.replace('value = "20 mg/mL"', 'value = "90 mg/mL"', 1))
    with pytest.raises(SignatureError, match="changed after signing"):
        load_library(site_library.path, site_library.trust)


def test_every_value_byte_is_covered(site_library: SiteLibrary) -> None:
    raw = site_library.path.read_bytes()
    offset = raw.index(b'"15 mg/day"') + 1  # the morphine maximum daily dose
    site_library.path.write_bytes(raw[:offset] + b"5" + raw[offset + 1:])
    with pytest.raises(SignatureError):
        load_library(site_library.path, site_library.trust)


def test_layout_and_comments_do_not_matter(site_library: SiteLibrary) -> None:
    site_library.path.write_text("# a hospital comment\n\n" + site_library.path.read_text())
    load_library(site_library.path, site_library.trust)


def test_wrong_key_is_refused(site_library: SiteLibrary, tmp_path: Path) -> None:
    _, other_public = generate_keypair(tmp_path / "other")
    with pytest.raises(SignatureError, match="not in the trust store"):
        load_library(site_library.path, TrustStore.only(other_public))


def test_signature_from_a_different_key_with_a_forged_key_id(
    site_library: SiteLibrary, tmp_path: Path
) -> None:
    attacker, _ = generate_keypair(tmp_path / "attacker")
    real = json.loads((site_library.path.parent / "library.toml.sig").read_text())
    sign_file(site_library.path, attacker)
    forged = json.loads((site_library.path.parent / "library.toml.sig").read_text())
    forged["key_id"] = real["key_id"]
    (site_library.path.parent / "library.toml.sig").write_text(json.dumps(forged))
    with pytest.raises(SignatureError, match="fails its signature check"):
        load_library(site_library.path, site_library.trust)


def test_missing_signature_is_refused(site_library: SiteLibrary) -> None:
    (site_library.path.parent / "library.toml.sig").unlink()
    with pytest.raises(SignatureError, match="unsigned"):
        load_library(site_library.path, site_library.trust)


def test_damaged_signature_file_is_refused(site_library: SiteLibrary) -> None:
    (site_library.path.parent / "library.toml.sig").write_text("not json")
    with pytest.raises(SignatureError, match="not valid JSON"):
        load_library(site_library.path, site_library.trust)


def test_previous_library_stays_in_force(site_library: SiteLibrary, tmp_path: Path) -> None:
    holder = LibraryHolder(load_library(site_library.path, site_library.trust))
    before = holder.current
    bad = tmp_path / "bad.toml"
    bad.write_text(site_library.path.read_text())
    with pytest.raises(SignatureError):
        holder.replace(bad, site_library.trust)
    assert holder.current is before
    assert holder.rejected and "unsigned" in holder.rejected[0]


def test_floats_are_refused_before_signing(site_library: SiteLibrary) -> None:
    text = site_library.path.read_text().replace(
        "frail_reduction_percent = 50", "frail_reduction_percent = 50.0"
    )
    site_library.path.write_text(text)
    with pytest.raises(SignatureError, match="bare number"):
        sign_file(site_library.path, site_library.key)


def test_a_limit_with_the_wrong_dimension_is_refused(site_library: SiteLibrary) -> None:
    text = site_library.path.read_text().replace('value = "20 mg/mL"', 'value = "20 mg/day"', 1)
    site_library.path.write_text(text)
    sign_file(site_library.path, site_library.key)
    with pytest.raises(LibraryError, match="concentration_max 20 mg/day must be a concentration"):
        load_library(site_library.path, site_library.trust)


def test_a_bad_unit_in_the_library_is_refused(site_library: SiteLibrary) -> None:
    text = site_library.path.read_text().replace('value = "20 mg/mL"', 'value = "20 mg/cc"', 1)
    site_library.path.write_text(text)
    sign_file(site_library.path, site_library.key)
    with pytest.raises(LibraryError, match="unknown unit 'cc'"):
        load_library(site_library.path, site_library.trust)


def test_private_key_is_private_and_never_overwritten(tmp_path: Path) -> None:
    private, public = generate_keypair(tmp_path / "k")
    assert stat.S_IMODE(os.stat(private).st_mode) == 0o600
    with pytest.raises(SignatureError, match="already exists"):
        generate_keypair(tmp_path / "k")
    assert public.read_text().startswith("-----BEGIN PUBLIC KEY-----")


def test_library_path_from_environment(
    site_library: SiteLibrary, monkeypatch: pytest.MonkeyPatch
) -> None:
    """IDDS_LIBRARY chooses the library; the trust store is never from the environment
    (tests/drugs/test_trust_store.py)."""
    monkeypatch.setenv("IDDS_LIBRARY", str(site_library.path))
    assert load_library(trust=site_library.trust).path == site_library.path
