"""FHIR export of a patient's record, R5 and R4B: every resource validates with
fhir.resources, the codes are the table's (intrathecal route SNOMED 72607000, pain LOINC
72514-3, UCUM "ug" never "mcg"), quantities keep their exact values, the program history is
chained, exporting twice gives the same Bundle; HL7's own example resources are read by the
validator (valid ones parse, pre-release drafts are refused naming the element); the CLI and
the API route."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from idds.cli.main import main
from idds.drugs import load_library
from idds.interop.codes import UCUM_CODES
from idds.interop.fhir_export import (
    FhirError,
    FhirVersion,
    dose_units,
    patient_bundle,
    quantity,
    rate,
    read_fhir_json,
    validated,
)
from idds.store import Database, UserRole
from idds.store.clock import FakeClock
from idds.units import Quantity
from tests.interop.record_helpers import make_record
from tests.store.store_helpers import actor

EXAMPLES = Path(__file__).parent.parent / "fixtures" / "fhir-examples"


def _record(db: Database, clock: FakeClock) -> int:
    return make_record(db, clock).patient_id


def _resources(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def _codes(value: object) -> list[str]:
    """Every `code` of a UCUM-coded element anywhere in `value`."""
    if isinstance(value, dict):
        own = [str(value["code"])] if value.get("system") == "http://unitsofmeasure.org" else []
        return own + [c for v in value.values() for c in _codes(v)]
    if isinstance(value, list):
        return [c for v in value for c in _codes(v)]
    return []


@pytest.mark.parametrize("version", list(FhirVersion))
def test_the_bundle_validates_and_says_what_the_record_says(db: Database, clock: FakeClock,
                                                            version: FhirVersion) -> None:
    pid = _record(db, clock)
    units = dose_units(load_library())
    bundle = patient_bundle(db, actor(UserRole.NURSE, clock), pid, units, version)
    assert validated(bundle, version) == bundle  # and the written form validates again
    assert bundle["type"] == "transaction"
    assert all(e["request"]["method"] == "PUT" for e in bundle["entry"])
    older, newer = _resources(bundle, "MedicationRequest")
    assert newer["priorPrescription"]["reference"] == f"MedicationRequest/{older['id']}"
    basal = newer["dosageInstruction"][0]
    assert basal["route"]["coding"][0]["code"] == "72607000"
    assert basal["doseAndRate"][0]["rateQuantity"] == {
        "value": Decimal("1.1"), "unit": "mg/day", "system": "http://unitsofmeasure.org",
        "code": "mg/d"}
    bolus = newer["dosageInstruction"][1]
    assert bolus["doseAndRate"][0]["doseQuantity"]["code"] == "mg"
    most = bolus["maxDosePerPeriod"][0] if version is FhirVersion.R5 else \
        bolus["maxDosePerPeriod"]
    assert most["numerator"]["value"] == Decimal("0.4")  # 4 boluses of 0.1 mg a day
    (pain,) = [o for o in _resources(bundle, "Observation") if o["id"].startswith("pain-")]
    assert pain["code"]["coding"][0]["code"] == "72514-3" and pain["valueInteger"] == 4
    (device,) = _resources(bundle, "Device")
    assert device["serialNumber"] == "SN-1"
    if version is FhirVersion.R5:
        (link,) = _resources(bundle, "DeviceAssociation")
        assert link["subject"]["reference"] == f"Patient/patient-{pid}"
    else:
        assert device["patient"]["reference"] == f"Patient/patient-{pid}"
    assert "mcg" not in "".join(_codes(bundle)) and set(_codes(bundle)) <= set(
        UCUM_CODES.values())
    assert _resources(bundle, "Flag")[0]["status"] == "active"
    again = patient_bundle(db, actor(UserRole.NURSE, clock), pid, units, version)
    assert again == bundle  # the same ids and content: a hospital's PUT is idempotent


def test_since_keeps_only_what_came_after(db: Database, clock: FakeClock) -> None:
    pid = _record(db, clock)
    since = clock() - timedelta(days=1)
    bundle = patient_bundle(db, actor(UserRole.NURSE, clock), pid, {}, FhirVersion.R5, since)
    assert len(_resources(bundle, "MedicationRequest")) == 1
    assert len(_resources(bundle, "Patient")) == 1 and _resources(bundle, "Observation")


def test_quantities_stay_exact_and_microgram_is_ug() -> None:
    third = Quantity.of(Fraction(1, 3), "mg/day")
    assert rate(third, "mg/day") == {"rateRatio": {
        "numerator": {"value": 1, "unit": "mg", "system": "http://unitsofmeasure.org",
                      "code": "mg"},
        "denominator": {"value": 3, "unit": "day", "system": "http://unitsofmeasure.org",
                        "code": "d"}}}
    fine = quantity(Quantity.of(Fraction(123456789, 10**8), "mcg/day"), "mcg/day")
    assert fine["value"] == Decimal("1.23456789") and fine["code"] == "ug/d"
    with pytest.raises(FhirError, match="no exact decimal"):
        quantity(Quantity.of(Fraction(1, 3), "mg"), "mg")


@pytest.mark.parametrize(("folder", "version"), [("R5", FhirVersion.R5),
                                                 ("R4B", FhirVersion.R4B)])
def test_hl7_examples_validate_as_their_version(folder: str, version: FhirVersion) -> None:
    files = sorted((EXAMPLES / folder).glob("*.json"))
    assert files
    for path in files:
        data = json.loads(path.read_text())
        assert validated(data, version)["resourceType"] == data["resourceType"]


def test_pre_release_r5_drafts_are_refused_naming_the_element() -> None:
    files = sorted((EXAMPLES / "R5-draft").glob("*.json"))
    assert len(files) == 3
    for path in files:
        data = json.loads(path.read_text())
        with pytest.raises(FhirError) as refused:
            validated(data, FhirVersion.R5)
        assert str(refused.value).startswith(f"{data['resourceType']}.")
    for junk in ({}, [], {"resourceType": "os.path"}, {"resourceType": "Nonsense"}):
        with pytest.raises(FhirError, match="resourceType"):
            validated(junk, FhirVersion.R5)


def test_export_fhir_through_the_cli(db: Database, clock: FakeClock, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    pid = _record(db, clock)
    url = db.engine.url.render_as_string(hide_password=False)
    out = tmp_path / "bundle.json"
    assert main(["export", "fhir", "--patient", str(pid), "--fhir-version", "R4B", "--out",
                 str(out), "--db", url]) == 0
    assert "R4B Bundle" in capsys.readouterr().out
    written = read_fhir_json(out.read_text())
    assert validated(written, FhirVersion.R4B) == patient_bundle(
        db, actor(UserRole.NURSE, clock), pid, dose_units(load_library()), FhirVersion.R4B)
    for args, words in ((["--fhir-version", "R6"], "use R5 or R4B"),
                        (["--since", "yesterday"], "not a date"),
                        (["--patient", "99"], "no patient")):
        base = ["export", "fhir", "--patient", str(pid), "--out", str(tmp_path / "x.json"),
                "--db", url]
        merged = base + args if "--patient" not in args else \
            [*base[:2], *args, *base[4:]]
        assert main(merged) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and words in err, err
    assert not (tmp_path / "x.json").exists()
