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
  duration and lockout, and `maxDosePerPeriod` per 1 day giving the boluses a day;
- nothing the mapping would drop: `doNotPerform`, any `modifierExtension`, a coded medication
  (IDDS has no drug code table: the text is read, a code is never guessed), a dosage element
  or timing element outside the ones above (`dayOfWeek`, `frequency`, bounds, seconds in a
  time of day), a `comparator`, and a quantity that is not positive are refused.
Read quantities from JSON parsed with `parse_float=Decimal` to keep every digit.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from idds.drugs import DrugLibrary
from idds.interop.codes import (
    BOLUS_DURATION_EXTENSION,
    FROM_UCUM,
    LOCKOUT_EXTENSION,
    PATIENT_ID_SYSTEM,
    ROUTE_INTRATHECAL,
)
from idds.interop.fhir_types import FhirError, FhirVersion, validated
from idds.programmer import TherapyRequest
from idds.pump import Continuous, DemandBolus, Flex, FlexStep, Therapy
from idds.pump.program import Basal
from idds.units import Kind, Quantity, UnitError, parse_quantity

STATUSES = ("active", "draft")
INTENTS = ("order", "plan", "proposal")


#: The elements a dosage may have: what the mapping reads, and nothing it would drop.
BASAL_ELEMENTS = frozenset({"sequence", "text", "route", "doseAndRate", "timing"})
BOLUS_ELEMENTS = frozenset({"sequence", "text", "route", "doseAndRate", "extension",
                            "asNeeded", "asNeededBoolean", "maxDosePerPeriod"})
QUANTITY_ELEMENTS = frozenset({"value", "unit", "system", "code"})
REPEAT_ELEMENTS = frozenset({"timeOfDay", "duration", "durationUnit"})


def _only(data: dict[str, Any], allowed: frozenset[str], where: str) -> None:
    extra = sorted(set(data) - allowed - {"id"})
    if extra:
        raise FhirError(f"{where}.{extra[0]}: not read by IDDS, so the order is refused "
                        "rather than carried out without it")


def _quantity(value: object, where: str, kind: Kind) -> Quantity:
    """A FHIR Quantity (value and UCUM code) as an exact, positive IDDS quantity of `kind`."""
    if not isinstance(value, dict) or "value" not in value:
        raise FhirError(f"{where}: no quantity")
    _only(value, QUANTITY_ELEMENTS, where)
    code = value.get("code")
    unit = FROM_UCUM.get(code) if isinstance(code, str) else None
    if unit is None or value.get("system") != "http://unitsofmeasure.org":
        raise FhirError(f"{where}.code: {code!r} is not a UCUM unit IDDS reads")
    try:
        exact = Fraction(str(value["value"]))
    except (ValueError, ZeroDivisionError):
        raise FhirError(f"{where}.value: {value['value']!r} is not a number") from None
    if exact <= 0:
        raise FhirError(f"{where}.value: {exact} is not positive")
    try:
        return Quantity.of(exact, unit).require(kind, where)
    except UnitError as exc:
        raise FhirError(f"{where}: {exc}") from None


def _rate(dosage: dict[str, Any], where: str) -> Quantity:
    rates = dosage.get("doseAndRate") or []
    if len(rates) != 1:
        raise FhirError(f"{where}.doseAndRate: one rate needed, not {len(rates)}")
    _only(rates[0], frozenset({"rateQuantity", "rateRatio"}), f"{where}.doseAndRate[0]")
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
    _only(rates[0], frozenset({"doseQuantity"}), f"{where}.doseAndRate[0]")
    dose = _quantity(rates[0]["doseQuantity"], f"{where}.doseAndRate[0].doseQuantity",
                     Kind.MASS)
    most = dosage.get("maxDosePerPeriod")
    most = most[0] if isinstance(most, list) and len(most) == 1 else most
    if not isinstance(most, dict):
        raise FhirError(f"{where}.maxDosePerPeriod: the most boluses a day is needed")
    total = _quantity(most.get("numerator"), f"{where}.maxDosePerPeriod.numerator", Kind.MASS)
    per = _quantity(most.get("denominator"), f"{where}.maxDosePerPeriod.denominator",
                    Kind.TIME)
    if per.value_in("day") != 1:
        raise FhirError(f"{where}.maxDosePerPeriod.denominator: {per}, not 1 day (the pump "
                        "counts boluses per rolling 24 h)")
    count = total.value_in("mg") / dose.value_in("mg")
    if count.denominator != 1:
        raise FhirError(f"{where}.maxDosePerPeriod: {total} per {per} is not a whole number "
                        f"of {dose} boluses a day")
    return DemandBolus(dose, _extension(dosage, BOLUS_DURATION_EXTENSION, where),
                       _extension(dosage, LOCKOUT_EXTENSION, where), int(count))


def _as_needed(dosage: dict[str, Any], version: FhirVersion) -> bool:
    """Whether the dosage is as needed, by any of FHIR's ways of saying so."""
    flag = "asNeeded" if version is FhirVersion.R5 else "asNeededBoolean"
    return bool(dosage.get(flag)) or "asNeededFor" in dosage or \
        "asNeededCodeableConcept" in dosage


def _start(dosage: dict[str, Any], where: str) -> tuple[int, int | None]:
    """A flex step's start (minutes after midnight) and its stated length (min, or None)."""
    timing = dosage.get("timing") or {}
    _only(timing, frozenset({"repeat"}), f"{where}.timing")
    repeat = timing.get("repeat") or {}
    _only(repeat, REPEAT_ELEMENTS, f"{where}.timing.repeat")
    times = repeat.get("timeOfDay") or []
    text = str(times[0]) if len(times) == 1 else ""
    parts = text.split(":")
    if len(parts) != 3 or parts[2] != "00" or not all(p.isdigit() for p in parts):
        raise FhirError(f"{where}.timing.repeat.timeOfDay: one start time HH:MM:00 per flex "
                        f"step, not {times!r}")
    length: int | None = None
    if "duration" in repeat:
        if repeat.get("durationUnit") != "min":
            raise FhirError(f"{where}.timing.repeat.durationUnit: give the step's length in "
                            "min")
        stated = Fraction(str(repeat["duration"]))
        if stated.denominator != 1:
            raise FhirError(f"{where}.timing.repeat.duration: whole minutes")
        length = int(stated)
    return int(parts[0]) * 60 + int(parts[1]), length


def _basal(dosages: list[tuple[str, dict[str, Any]]]) -> Basal:
    if not dosages:
        raise FhirError("dosageInstruction: no basal rate (a dosage that is not as needed)")
    for where, dosage in dosages:
        _only(dosage, BASAL_ELEMENTS, where)
    if len(dosages) == 1 and "timing" not in dosages[0][1]:
        return Continuous(_rate(dosages[0][1], dosages[0][0]))
    starts = [(*_start(d, w), w, d) for w, d in dosages]
    starts.sort(key=lambda item: item[0])
    if starts[0][0] != 0:
        raise FhirError("dosageInstruction.timing.repeat.timeOfDay: the first flex step "
                        "starts at 00:00")
    ends = [s[0] for s in starts[1:]] + [1440]
    for (start, length, where, _), end in zip(starts, ends, strict=True):
        if length is not None and length != end - start:
            raise FhirError(f"{where}.timing.repeat.duration: {length} min, but the step runs "
                            f"{end - start} min to the next")
    return Flex((tuple(FlexStep(start, _rate(d, w)) for start, _, w, d in starts),))


def _for_patient(data: dict[str, Any], patient_id: int, identifier: str) -> None:
    """Refuse an order for another patient: its subject must be this patient's record
    (Patient/patient-ID, as IDDS exports it) or name the clinic's identifier."""
    subject = data.get("subject") or {}
    ours = subject.get("reference") == f"Patient/patient-{patient_id}"
    named = subject.get("identifier") or {}
    if not ours and not (named.get("system") == PATIENT_ID_SYSTEM
                         and named.get("value") == identifier):
        whom = subject.get("reference") or named or "no one"
        raise FhirError(f"subject: the order is for {whom}, not this patient "
                        f"(Patient/patient-{patient_id}, identifier {identifier})")


def therapy_request(resource: object, version: FhirVersion, library: DrugLibrary,
                    patient_id: int, identifier: str) -> TherapyRequest:
    """The therapy a hospital's MedicationRequest asks for, for the patient with record id
    `patient_id` and clinic `identifier` (see the module docstring)."""
    validated(resource, version)
    assert isinstance(resource, dict)  # validated: a resource
    data: dict[str, Any] = resource  # read as given (with parse_float=Decimal: exact)
    if data["resourceType"] != "MedicationRequest":
        raise FhirError(f"resourceType: {data['resourceType']} is not a MedicationRequest")
    if data.get("status") not in STATUSES or data.get("intent") not in INTENTS:
        raise FhirError(f"status/intent: {data.get('status')}/{data.get('intent')} is not an "
                        "active order, plan or proposal")
    _for_patient(data, patient_id, identifier)
    if data.get("doNotPerform"):
        raise FhirError("doNotPerform: the order says not to give it")
    if data.get("modifierExtension"):
        raise FhirError("modifierExtension: an extension that changes the order's meaning, "
                        "which IDDS does not read")
    concept = ((data.get("medication") or {}).get("concept") if version is FhirVersion.R5
               else data.get("medicationCodeableConcept")) or {}
    field = "medication.concept" if version is FhirVersion.R5 else "medicationCodeableConcept"
    if concept.get("coding"):
        raise FhirError(f"{field}.coding: IDDS reads the medication by its text only (it has "
                        "no drug code table), and refuses a coded one rather than guess")
    text = str(concept.get("text") or "").strip()
    drug, _, strength = text.partition(" ")
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
        if dosage.get("modifierExtension"):
            raise FhirError(f"{where}.modifierExtension: not read by IDDS")
        codes = [(c.get("system"), c.get("code"))
                 for c in (dosage.get("route") or {}).get("coding") or []]
        if (ROUTE_INTRATHECAL.system, ROUTE_INTRATHECAL.code) not in codes:
            raise FhirError(f"{where}.route: not intrathecal (SNOMED "
                            f"{ROUTE_INTRATHECAL.code}): {codes or 'none'}")
        (bolus if _as_needed(dosage, version) else basal).append((where, dosage))
    if len(bolus) > 1:
        raise FhirError("dosageInstruction: more than one as-needed (patient bolus) dosage")
    if bolus:
        _only(bolus[0][1], BOLUS_ELEMENTS, bolus[0][0])
    demand = _bolus(bolus[0][1], bolus[0][0]) if bolus else None
    return TherapyRequest(drug.lower(), concentration, Therapy(_basal(basal), demand))


def bundle_therapy(bundle: object, version: FhirVersion, library: DrugLibrary,
                   patient_id: int, identifier: str) -> TherapyRequest:
    """The therapy of the patient's current program in a Bundle as IDDS exports it (or any
    Bundle holding the patient's MedicationRequests): the whole Bundle must validate as
    `version`; of the patient's MedicationRequests, the current one is the one no other
    names as its `priorPrescription`, read with `therapy_request` (its refusals name the
    entry and the element). Nothing is stored: the therapy is only proposed."""
    validated(bundle, version)
    assert isinstance(bundle, dict)  # validated: a resource
    if bundle["resourceType"] != "Bundle":
        raise FhirError(f"resourceType: {bundle['resourceType']} is not a Bundle")
    orders: list[tuple[int, dict[str, Any]]] = []
    for index, entry in enumerate(bundle.get("entry") or []):
        resource = entry.get("resource") or {}
        subject = (resource.get("subject") or {}).get("reference")
        if resource.get("resourceType") == "MedicationRequest" and \
                subject == f"Patient/patient-{patient_id}":
            orders.append((index, resource))
    if not orders:
        raise FhirError(f"Bundle.entry: no MedicationRequest for Patient/patient-{patient_id}")
    replaced = {str((r.get("priorPrescription") or {}).get("reference")) for _, r in orders}
    current = [(i, r) for i, r in orders if f"MedicationRequest/{r.get('id')}" not in replaced]
    if len(current) != 1:
        named = ", ".join(f"entry[{i}]" for i, _ in current) or "none (a loop)"
        raise FhirError(f"Bundle.entry: one current MedicationRequest (named by no "
                        f"priorPrescription) is needed, not: {named}")
    index, order = current[0]
    try:
        return therapy_request(order, version, library, patient_id, identifier)
    except FhirError as exc:
        raise FhirError(f"Bundle.entry[{index}].resource (MedicationRequest/"
                        f"{order.get('id')}).{exc}") from None
