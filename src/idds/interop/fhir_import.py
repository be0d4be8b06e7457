"""A hospital's FHIR `MedicationRequest` for intrathecal therapy, read into the therapy a
clinician would enter (`idds.programmer.TherapyRequest`). It is only a proposal: it must pass
the drug library and the pump's Finish screen like any other change (the API's
`POST .../programs/proposals/fhir`). Whatever cannot be mapped is refused with the element
named, never guessed:

- the resource must validate as the FHIR version given and be a `MedicationRequest` with
  status active or draft and intent order, plan or proposal;
- the medication is its text "DRUG CONCENTRATION" ("morphine 10 mg/mL", as IDDS exports it),
  a drug the library knows;
- every dosage is intrathecal (SNOMED 72607000);
- the basal: one dosage with `rateQuantity` or `rateRatio` (continuous), or several with
  `timing.repeat.timeOfDay` (flex steps, every day), each rate in UCUM (mg/d, ug/d);
- the patient bolus: one as-needed dosage with `doseQuantity`, the IDDS extensions for its
  duration and lockout, and `maxDosePerPeriod` per 1 day giving the boluses a day.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from idds.drugs import DrugLibrary
from idds.interop.codes import (
    BOLUS_DURATION_EXTENSION,
    FROM_UCUM,
    LOCKOUT_EXTENSION,
    ROUTE_INTRATHECAL,
)
from idds.interop.fhir_export import FhirError, FhirVersion, validated
from idds.programmer import TherapyRequest
from idds.pump import Continuous, DemandBolus, Flex, FlexStep, Therapy
from idds.pump.program import Basal
from idds.units import Kind, Quantity, UnitError, parse_quantity

STATUSES = ("active", "draft")
INTENTS = ("order", "plan", "proposal")


def _quantity(value: object, where: str, kind: Kind) -> Quantity:
    """A FHIR Quantity (value and UCUM code) as an exact IDDS quantity of `kind`."""
    if not isinstance(value, dict) or "value" not in value:
        raise FhirError(f"{where}: no quantity")
    code = value.get("code")
    unit = FROM_UCUM.get(code) if isinstance(code, str) else None
    if unit is None or value.get("system") != "http://unitsofmeasure.org":
        raise FhirError(f"{where}.code: {code!r} is not a UCUM unit IDDS reads")
    try:
        return Quantity.of(Fraction(str(value["value"])), unit).require(kind, where)
    except (UnitError, ValueError) as exc:
        raise FhirError(f"{where}: {exc}") from None


def _rate(dosage: dict[str, Any], where: str) -> Quantity:
    rates = dosage.get("doseAndRate") or []
    if len(rates) != 1:
        raise FhirError(f"{where}.doseAndRate: one rate needed, not {len(rates)}")
    if "rateQuantity" in rates[0]:
        return _quantity(rates[0]["rateQuantity"], f"{where}.doseAndRate[0].rateQuantity",
                         Kind.DOSE_RATE)
    ratio = rates[0].get("rateRatio")
    if not isinstance(ratio, dict):
        raise FhirError(f"{where}.doseAndRate[0]: no rateQuantity or rateRatio")
    mass = _quantity(ratio.get("numerator"), f"{where}.doseAndRate[0].rateRatio.numerator",
                     Kind.MASS)
    per = _quantity(ratio.get("denominator"),
                    f"{where}.doseAndRate[0].rateRatio.denominator", Kind.TIME)
    return Quantity.of(mass.value_in("mg") / per.value_in("day"), "mg/day")


def _extension(dosage: dict[str, Any], url: str, where: str) -> Quantity:
    for extension in dosage.get("extension") or []:
        if extension.get("url") == url:
            return _quantity(extension.get("valueDuration"), f"{where}.extension[{url}]",
                             Kind.TIME)
    raise FhirError(f"{where}.extension: no {url} (the bolus's duration and lockout)")


def _bolus(dosage: dict[str, Any], where: str) -> DemandBolus:
    rates = dosage.get("doseAndRate") or []
    if len(rates) != 1 or "doseQuantity" not in rates[0]:
        raise FhirError(f"{where}.doseAndRate: a patient bolus needs one doseQuantity")
    dose = _quantity(rates[0]["doseQuantity"], f"{where}.doseAndRate[0].doseQuantity",
                     Kind.MASS)
    most = dosage.get("maxDosePerPeriod")
    most = most[0] if isinstance(most, list) and len(most) == 1 else most
    if not isinstance(most, dict):
        raise FhirError(f"{where}.maxDosePerPeriod: the most boluses a day is needed")
    total = _quantity(most.get("numerator"), f"{where}.maxDosePerPeriod.numerator", Kind.MASS)
    per = _quantity(most.get("denominator"), f"{where}.maxDosePerPeriod.denominator",
                    Kind.TIME)
    count = total.value_in("mg") / dose.value_in("mg") / per.value_in("day")
    if count.denominator != 1:
        raise FhirError(f"{where}.maxDosePerPeriod: {total} per {per} is not a whole number "
                        f"of {dose} boluses a day")
    return DemandBolus(dose, _extension(dosage, BOLUS_DURATION_EXTENSION, where),
                       _extension(dosage, LOCKOUT_EXTENSION, where), int(count))


def _as_needed(dosage: dict[str, Any], version: FhirVersion) -> bool:
    return bool(dosage.get("asNeeded" if version is FhirVersion.R5 else "asNeededBoolean"))


def _basal(dosages: list[tuple[str, dict[str, Any]]]) -> Basal:
    if not dosages:
        raise FhirError("dosageInstruction: no basal rate (a dosage that is not as needed)")
    if len(dosages) == 1 and "timing" not in dosages[0][1]:
        return Continuous(_rate(dosages[0][1], dosages[0][0]))
    steps = []
    for where, dosage in dosages:
        times = ((dosage.get("timing") or {}).get("repeat") or {}).get("timeOfDay") or []
        if len(times) != 1:
            raise FhirError(f"{where}.timing.repeat.timeOfDay: one start time per flex step")
        try:
            hours, minutes, *_ = (int(p) for p in str(times[0]).split(":"))
        except ValueError:
            raise FhirError(f"{where}.timing.repeat.timeOfDay: {times[0]!r} is not HH:MM:SS"
                            ) from None
        steps.append(FlexStep(hours * 60 + minutes, _rate(dosage, where)))
    steps.sort(key=lambda step: step.start_minute)
    if steps[0].start_minute != 0:
        raise FhirError("dosageInstruction.timing.repeat.timeOfDay: the first flex step "
                        "starts at 00:00")
    return Flex((tuple(steps),))


def therapy_request(resource: object, version: FhirVersion, library: DrugLibrary
                    ) -> TherapyRequest:
    """The therapy a hospital's MedicationRequest asks for (see the module docstring)."""
    data = validated(resource, version)
    if data["resourceType"] != "MedicationRequest":
        raise FhirError(f"resourceType: {data['resourceType']} is not a MedicationRequest")
    if data.get("status") not in STATUSES or data.get("intent") not in INTENTS:
        raise FhirError(f"status/intent: {data.get('status')}/{data.get('intent')} is not an "
                        "active order, plan or proposal")
    concept = ((data.get("medication") or {}).get("concept") if version is FhirVersion.R5
               else data.get("medicationCodeableConcept")) or {}
    text = str(concept.get("text") or "").strip()
    drug, _, strength = text.partition(" ")
    field = "medication.concept" if version is FhirVersion.R5 else "medicationCodeableConcept"
    if not text or drug.lower() not in library.data.drugs:
        raise FhirError(f"{field}.text: {text[:60]!r} names no drug of the library "
                        f"({', '.join(library.data.drugs)})")
    try:
        concentration = parse_quantity(strength, Kind.CONCENTRATION, f"{field}.text")
    except UnitError as exc:
        raise FhirError(f"{field}.text: {exc}") from None
    dosages = data.get("dosageInstruction") or []
    basal: list[tuple[str, dict[str, Any]]] = []
    bolus: list[tuple[str, dict[str, Any]]] = []
    for index, dosage in enumerate(dosages):
        where = f"dosageInstruction[{index}]"
        codes = [(c.get("system"), c.get("code"))
                 for c in (dosage.get("route") or {}).get("coding") or []]
        if (ROUTE_INTRATHECAL.system, ROUTE_INTRATHECAL.code) not in codes:
            raise FhirError(f"{where}.route: not intrathecal (SNOMED "
                            f"{ROUTE_INTRATHECAL.code}): {codes or 'none'}")
        (bolus if _as_needed(dosage, version) else basal).append((where, dosage))
    if len(bolus) > 1:
        raise FhirError("dosageInstruction: more than one as-needed (patient bolus) dosage")
    demand = _bolus(bolus[0][1], bolus[0][0]) if bolus else None
    return TherapyRequest(drug.lower(), concentration, Therapy(_basal(basal), demand))
