"""FHIR import of a hospital's MedicationRequest: the programs IDDS exports (R5 and R4B,
continuous, flex, with patient boluses) read back as the same therapy (export, import,
export gives the same content); HL7's own example resources are never mistaken for an
intrathecal program and each is refused naming the element; malformed orders are refused
naming the element."""

from __future__ import annotations

import copy
import json
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from idds.drugs import load_library
from idds.interop.fhir_export import (
    FhirError,
    FhirVersion,
    fhir_json,
    program_resources,
    rate,
    read_fhir_json,
)
from idds.interop.fhir_import import therapy_request
from idds.pump import Continuous, DemandBolus, Flex, FlexStep, Therapy
from idds.pump.records import therapy_record
from idds.store.canonical import canonical_json
from idds.store.model import TherapyProgram
from idds.units import Quantity
from tests.store.store_helpers import START, q

#: The patient the orders are for: record id 1, clinic identifier MRN-1.
PATIENT = (1, "MRN-1")
EXAMPLES = Path(__file__).parent.parent / "fixtures" / "fhir-examples"
LIBRARY = load_library()
BOLUS = DemandBolus(q("0.05 mg"), q("10 min"), q("2 h"), 4)
THERAPIES = [
    Therapy(Continuous(q("0.5 mg/day")), BOLUS),
    Therapy(Continuous(q("0.125 mg/day"))),
    Therapy(Flex(((FlexStep(0, q("0.4 mg/day")), FlexStep(480, q("0.6 mg/day")),
                   FlexStep(1320, q("0.45 mg/day"))),)), BOLUS),
]


def program_row(therapy: Therapy, rid: int = 7, previous: int | None = None
                ) -> TherapyProgram:
    """A stored program of `therapy` (morphine 10 mg/mL) for patient 1, not in a database."""
    return TherapyProgram(id=rid, patient_id=1, implant_id=2, previous_id=previous,
                          drug="morphine",
                          concentration_num=10, concentration_den=1,
                          therapy=canonical_json(therapy_record(therapy)), daily_dose_num=None,
                          daily_dose_den=None, library_version_id=1, checks="[]",
                          override_reason=None, reason="start", programmed_at=START,
                          programmed_by="doc")


def _request(therapy: Therapy, version: FhirVersion) -> dict[str, Any]:
    return program_resources(program_row(therapy), "mg/day", version)[0]


@pytest.mark.parametrize("version", list(FhirVersion))
@pytest.mark.parametrize("therapy", THERAPIES, ids=["continuous+bolus", "continuous", "flex"])
def test_an_exported_program_imports_as_the_same_therapy(therapy: Therapy,
                                                         version: FhirVersion) -> None:
    exported = _request(therapy, version)
    imported = therapy_request(copy.deepcopy(exported), version, LIBRARY, *PATIENT)
    assert imported.therapy == therapy
    assert (imported.drug, imported.concentration) == ("morphine", q("10 mg/mL"))
    again = _request(imported.therapy, version)
    assert again == exported  # export, import, export: the same content


def test_a_rate_ratio_is_read_exactly() -> None:
    order = _request(THERAPIES[1], FhirVersion.R5)
    third = Quantity.of(Fraction(1, 3), "mg/day")
    order["dosageInstruction"][0]["doseAndRate"] = [rate(third, "mg/day")]
    imported = therapy_request(order, FhirVersion.R5, LIBRARY, *PATIENT)
    assert imported.therapy.basal == Continuous(third)


def _refused(resource: object, version: FhirVersion) -> str:
    with pytest.raises(FhirError) as refused:
        therapy_request(resource, version, LIBRARY, *PATIENT)
    return str(refused.value)


@pytest.mark.parametrize(("folder", "version"), [("R5", FhirVersion.R5),
                                                 ("R4B", FhirVersion.R4B),
                                                 ("R5-draft", FhirVersion.R5)])
def test_hl7_examples_are_never_an_intrathecal_program(folder: str,
                                                       version: FhirVersion) -> None:
    for path in sorted((EXAMPLES / folder).glob("*.json")):
        data = json.loads(path.read_text())
        message = _refused(data, version)
        kind = data["resourceType"]
        assert message.startswith((f"{kind}.", "resourceType:", "status/intent:", "subject:",
                                   "medicationCodeableConcept", "medication.")), message


def test_the_oral_oxycodone_order_is_refused_for_its_patient_medication_and_route() -> None:
    order = json.loads((EXAMPLES / "R4B" / "medicationrequest0301.json").read_text())
    order["status"] = "active"
    assert _refused(order, FhirVersion.R4B).startswith("subject: the order is for Patient/pat1")
    order["subject"] = {"reference": "Patient/patient-1"}
    assert "medicationCodeableConcept" in _refused(order, FhirVersion.R4B)
    order.pop("medicationReference")
    order["medicationCodeableConcept"] = {"text": "morphine 10 mg/mL"}
    assert "dosageInstruction[0].route: not intrathecal" in _refused(order, FhirVersion.R4B)


@pytest.mark.parametrize(("damage", "element"), [
    (lambda r: r["medication"]["concept"].update(text="unobtainium 1 mg/mL"),
     "medication.concept.text"),
    (lambda r: r["medication"]["concept"].update(text="morphine 10"), "medication.concept.text"),
    (lambda r: r["dosageInstruction"][0]["doseAndRate"][0]["rateQuantity"].update(code="mcg/d"),
     "dosageInstruction[0].doseAndRate[0].rateQuantity.code"),
    (lambda r: r["dosageInstruction"][1].pop("extension"), "dosageInstruction[1].extension"),
    (lambda r: r["dosageInstruction"][1]["maxDosePerPeriod"][0]["numerator"].update(
        value=0.07), "dosageInstruction[1].maxDosePerPeriod"),
    (lambda r: r.update(status="completed"), "status/intent"),
    (lambda r: r.update(dose="1 mg"), "MedicationRequest.dose"),
    (lambda r: r.update(doNotPerform=True), "doNotPerform"),
    (lambda r: r.update(modifierExtension=[{"url": "urn:x", "valueBoolean": True}]),
     "modifierExtension"),
    (lambda r: r["medication"]["concept"].update(coding=[{"system": "urn:rxnorm",
                                                          "code": "3423"}]),
     "medication.concept.coding"),
    (lambda r: r.update(subject={"reference": "Patient/patient-2"}), "subject"),
    (lambda r: r["dosageInstruction"][0].update(timing={"repeat": {"frequency": 1}}),
     "dosageInstruction[0].timing.repeat.frequency"),
    (lambda r: r["dosageInstruction"][0]["doseAndRate"][0]["rateQuantity"].update(
        comparator="<"), "dosageInstruction[0].doseAndRate[0].rateQuantity.comparator"),
    (lambda r: r["dosageInstruction"][0]["doseAndRate"][0]["rateQuantity"].update(value=0),
     "dosageInstruction[0].doseAndRate[0].rateQuantity.value"),
    (lambda r: r["dosageInstruction"][1]["doseAndRate"][0]["doseQuantity"].update(value=0),
     "dosageInstruction[1].doseAndRate[0].doseQuantity.value"),
    (lambda r: r["dosageInstruction"][1]["maxDosePerPeriod"][0]["denominator"].update(
        value=1, unit="h", code="h"), "dosageInstruction[1].maxDosePerPeriod.denominator"),
    (lambda r: r["dosageInstruction"][0].update(maxDosePerAdministration={"value": 1}),
     "dosageInstruction[0].maxDosePerAdministration"),
    (lambda r: r["dosageInstruction"][0].update(asNeededFor=[{"text": "pain"}]),
     "dosageInstruction: more than one as-needed"),
])
def test_a_malformed_order_is_refused_naming_the_element(damage: Any, element: str) -> None:
    order = _request(THERAPIES[0], FhirVersion.R5)
    damage(order)
    assert _refused(order, FhirVersion.R5).startswith(element)


@pytest.mark.parametrize(("damage", "element"), [
    (lambda r: r["dosageInstruction"][1]["timing"]["repeat"].update(dayOfWeek=["mon"]),
     "dosageInstruction[1].timing.repeat.dayOfWeek"),
    (lambda r: r["dosageInstruction"][1]["timing"]["repeat"].update(timeOfDay=["08:00:45"]),
     "dosageInstruction[1].timing.repeat.timeOfDay"),
    (lambda r: r["dosageInstruction"][1]["timing"]["repeat"].update(duration=60),
     "dosageInstruction[1].timing.repeat.duration"),
])
def test_a_flex_order_is_read_only_as_it_says(damage: Any, element: str) -> None:
    order = _request(THERAPIES[2], FhirVersion.R5)
    damage(order)
    assert _refused(order, FhirVersion.R5).startswith(element)


def test_every_digit_of_a_decimal_is_read() -> None:
    order = _request(THERAPIES[1], FhirVersion.R5)
    text = fhir_json(order).replace('"value": 0.125', '"value": 0.12500000000000000001')
    assert "0.12500000000000000001" in text
    imported = therapy_request(read_fhir_json(text), FhirVersion.R5, LIBRARY, *PATIENT)
    assert imported.therapy.basal == Continuous(Quantity.of(
        Fraction(12500000000000000001, 10**20), "mg/day"))


def test_a_weekly_flex_program_is_not_exported_as_one_day() -> None:
    week = tuple((FlexStep(0, q(f"0.{4 + d} mg/day")),) for d in range(7))
    with pytest.raises(FhirError, match="weekly"):
        program_resources(program_row(Therapy(Flex(week))), "mg/day", FhirVersion.R5)


def test_the_wrong_version_is_refused_naming_the_element() -> None:
    order = _request(THERAPIES[0], FhirVersion.R5)
    assert _refused(order, FhirVersion.R4B).startswith("MedicationRequest.")
