"""The candidacy criteria are signed data: the reference file verifies with the shipped key,
a tampered or unsigned copy is refused, a hospital's own signed file is accepted once its key
is trusted, and a malformed file is refused naming the criterion."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import pytest

from idds.drugs import (
    RollbackError,
    SignatureError,
    TrustStore,
    VersionRecord,
    generate_keypair,
    sign_file,
)
from idds.drugs.signing import read_toml
from idds.selection import (
    CandidacyOutcome,
    CriteriaError,
    CriterionKind,
    assess,
    load_criteria,
    parse_candidate,
    parse_criteria,
    reference_criteria_path,
)
from tests.selection.scenario import base_patient

REFERENCE_KEY_ID = "fd3390b18ca64893"


def _copy_reference(folder: Path) -> Path:
    target = folder / "criteria.toml"
    shutil.copy(reference_criteria_path(), target)
    shutil.copy(reference_criteria_path().with_name("criteria.toml.sig"),
                folder / "criteria.toml.sig")
    return target


def _hospital(tmp_path: Path, edit: dict[str, str]) -> tuple[Path, Path]:
    """A copy of the reference criteria with `edit` applied, signed by a new hospital key."""
    private, public = generate_keypair(tmp_path / "hospital")
    path = tmp_path / "hospital-criteria.toml"
    text = reference_criteria_path().read_text()
    for old, new in edit.items():
        assert old in text
        text = text.replace(old, new)
    path.write_text(text)
    sign_file(path, private)
    return path, public


def test_the_reference_criteria_verify_with_the_shipped_key() -> None:
    criteria = load_criteria()
    assert criteria.signed_by == REFERENCE_KEY_ID
    assert criteria.version == "2026.12.02"
    for criterion in criteria.criteria.values():
        assert criterion.source.strip() and criterion.text.strip()
    # every number the sources do not give says so
    for cid in ("intolerable-side-effects", "coagulation-values", "respiratory-depression",
                "life-expectancy-route", "trial-skip-short-prognosis"):
        assert "not from the sources" in criteria[cid].assumption, cid
    assert criteria["refractory-pain"].quantity("ome_at_least").display("mg/day") == "200 mg/day"
    assert criteria["life-expectancy-route"].quantity("external_below").display("day") == "90 day"


def test_a_tampered_criteria_file_is_refused(tmp_path: Path) -> None:
    path = _copy_reference(tmp_path)
    path.write_text(path.read_text().replace('ome_at_least = "200 mg/day"',
                                             'ome_at_least = "100 mg/day"'))
    with pytest.raises(SignatureError, match="fails its signature check"):
        load_criteria(path, TrustStore.default())


def test_an_unsigned_criteria_file_is_refused(tmp_path: Path) -> None:
    path = _copy_reference(tmp_path)
    (tmp_path / "criteria.toml.sig").unlink()
    with pytest.raises(SignatureError, match="unsigned"):
        load_criteria(path, TrustStore.default())


def test_comments_and_layout_do_not_break_the_signature(tmp_path: Path) -> None:
    path = _copy_reference(tmp_path)
    path.write_text("# our copy, re-indented\n" + path.read_text().replace("\n[[", "\n\n[["))
    assert load_criteria(path, TrustStore.default()).signed_by == REFERENCE_KEY_ID


def test_a_hospital_signed_file_is_accepted_once_its_key_is_trusted(tmp_path: Path) -> None:
    path, public = _hospital(tmp_path, {'ome_at_least = "200 mg/day"':
                                        'ome_at_least = "150 mg/day"',
                                        'version = "2026.12.02"': 'version = "2026.12.10"'})
    with pytest.raises(SignatureError, match="not in the trust store"):
        load_criteria(path, TrustStore.default())
    store = tmp_path / "trust-store.toml"
    store.write_text('keys = ["hospital.pub"]\n')
    criteria = load_criteria(path, TrustStore.default(store))
    assert criteria.version == "2026.12.10"
    record = base_patient()
    record["regimen"]["oral_morphine_equivalent"] = "160 mg/day"
    patient = parse_candidate(record, "p.toml")
    assert assess(patient, criteria).outcome is CandidacyOutcome.SCREENING_TRIAL_FIRST
    assert assess(patient, load_criteria()).outcome is CandidacyOutcome.NOT_A_CANDIDATE
    assert TrustStore.only(public).keys.keys() == {criteria.signed_by}


def test_a_hospital_may_allow_skipping_the_trial_for_a_short_prognosis(tmp_path: Path) -> None:
    path, public = _hospital(tmp_path, {"allowed = false": "allowed = true"})
    criteria = load_criteria(path, TrustStore.only(public))
    record = base_patient()
    record["patient"]["life_expectancy"] = "5 month"
    verdict = assess(parse_candidate(record, "p.toml"), criteria)
    assert verdict.outcome is CandidacyOutcome.IMPLANTED_PUMP
    assert "trial-skip-short-prognosis" in verdict.deciding
    record["patient"]["life_expectancy"] = "6 month"  # 180 days is not below 180 days
    assert assess(parse_candidate(record, "p.toml"), criteria).outcome is \
        CandidacyOutcome.SCREENING_TRIAL_FIRST


def test_a_hospital_may_make_a_relative_contraindication_absolute(tmp_path: Path) -> None:
    text = 'id = "site-infection"\nkind = "relative"'
    path, public = _hospital(tmp_path, {text: text.replace("relative", "absolute")})
    criteria = load_criteria(path, TrustStore.only(public))
    assert criteria["site-infection"].kind is CriterionKind.ABSOLUTE
    record = base_patient()
    record["infection"]["at_site"] = True
    verdict = assess(parse_candidate(record, "p.toml"), criteria)
    assert verdict.outcome is CandidacyOutcome.NOT_A_CANDIDATE
    assert verdict.deciding == ("site-infection",) and verdict.to_fix == ()


def test_a_criteria_version_never_goes_back(tmp_path: Path) -> None:
    """An older signed copy put back is refused, as for the drug library."""
    path, public = _hospital(tmp_path, {'version = "2026.12.02"': 'version = "2026.12.20"'})
    private = tmp_path / "hospital.key"
    record = VersionRecord(tmp_path / "home" / "criteria-version.json")
    trust = TrustStore.only(public)
    assert load_criteria(path, trust, record).version == "2026.12.20"
    path.write_text(path.read_text().replace('"2026.12.20"', '"2026.12.03"'))
    sign_file(path, private)
    with pytest.raises(RollbackError, match=r"older than version 2026\.12\.20"):
        load_criteria(path, trust, record)
    assert load_criteria(path, trust).version == "2026.12.03"  # without a record: no check
    assert record.newest("IDDS reference candidacy criteria") == "2026.12.20"


def _raw() -> dict[str, Any]:
    return copy.deepcopy(read_toml(reference_criteria_path()))


def _entry(raw: dict[str, Any], cid: str) -> dict[str, Any]:
    return next(c for c in raw["criterion"] if c["id"] == cid)


def _drop(raw: dict[str, Any]) -> None:
    raw["criterion"] = [c for c in raw["criterion"] if c["id"] != "gi-obstruction"]


def _rename(raw: dict[str, Any]) -> None:
    _entry(raw, "gi-obstruction")["id"] = "gi-obstructoin"


def _kind(raw: dict[str, Any]) -> None:
    _entry(raw, "refractory-pain")["kind"] = "absolute"


def _unit(raw: dict[str, Any]) -> None:
    _entry(raw, "refractory-pain")["thresholds"]["ome_at_least"] = "200 mg"


def _float(raw: dict[str, Any]) -> None:
    _entry(raw, "coagulation-values")["thresholds"]["inr_above"] = 1.5


def _extra(raw: dict[str, Any]) -> None:
    _entry(raw, "mao-inhibitor")["thresholds"]["washout_days"] = 14


def _twice(raw: dict[str, Any]) -> None:
    raw["criterion"].append(copy.deepcopy(_entry(raw, "gi-obstruction")))


def _no_source(raw: dict[str, Any]) -> None:
    _entry(raw, "gi-obstruction")["source"] = " "


def _zero(raw: dict[str, Any]) -> None:
    _entry(raw, "life-expectancy-route")["thresholds"]["external_below"] = "0 day"


@pytest.mark.parametrize(("change", "fragment"), [
    (_drop, "criterion 'gi-obstruction' is missing"),
    (_rename, "id 'gi-obstructoin' is not a criterion IDDS evaluates"),
    (_kind, "(refractory-pain): kind 'absolute' is not allowed"),
    (_unit, "thresholds.ome_at_least"),
    (_float, "thresholds.inr_above must be text"),
    (_extra, "thresholds must be exactly ['washout']"),
    (_twice, "'gi-obstruction' is given twice"),
    (_no_source, "(gi-obstruction): source must be non-empty text"),
    (_zero, "must be above zero"),
])
def test_a_malformed_criteria_file_is_refused_by_criterion(change: Any, fragment: str) -> None:
    raw = _raw()
    change(raw)
    with pytest.raises(CriteriaError) as caught:
        parse_criteria(raw, Path("site-criteria.toml"))
    assert fragment in str(caught.value) and "site-criteria.toml" in str(caught.value)
