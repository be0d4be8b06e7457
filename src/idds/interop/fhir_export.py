"""A patient's record as a FHIR transaction `Bundle`, R5 (default) or R4B, validated with
fhir.resources before it leaves: `Patient`; per implant a `Device` (serial, model, the latest
reading's reservoir and battery as properties) with `DeviceAssociation` (R5) or
`Device.patient` (R4B); per therapy program a `MedicationRequest` (intrathecal route, the
basal rate and, for patient boluses, an as-needed dosage with its daily maximum, in UCUM;
`priorPrescription` chaining the history) with its `Provenance` (who programmed it, when,
why); per diary entry a pain `Observation` (LOINC 72514-3); per alarm a `Flag`.

Quantities stay exact: a value with a finite decimal is a FHIR decimal; one without (1/3
mg/day) is a `Ratio` of two integers (rates) or refused (doses). Resource ids are the
record's ("patient-1", "program-7"), so exporting twice gives the same resources and a
hospital's PUT is idempotent. Not yet exported (issue 18): MedicationAdministration per rate
segment and bolus, DeviceMetric, AuditEvent.
"""

from __future__ import annotations

import importlib
import json
from datetime import datetime
from decimal import Decimal, localcontext
from enum import StrEnum
from fractions import Fraction
from typing import Any

from pydantic import ValidationError

from idds.drugs import DrugLibrary
from idds.errors import IddsError
from idds.interop.codes import (
    BOLUS_DURATION_EXTENSION,
    DEVICE_ASSOCIATION_STATUS,
    LOCKOUT_EXTENSION,
    PAIN_SCORE,
    PATIENT_ID_SYSTEM,
    PUMP_SERIAL_SYSTEM,
    ROUTE_INTRATHECAL,
    SURVEY,
    UCUM,
    ucum,
)
from idds.pump import Continuous, Flex, Therapy
from idds.pump.records import clock_text
from idds.store import Actor, Database
from idds.store.alarms import alarms_of
from idds.store.diary import diary_of
from idds.store.model import Alarm, DiaryEntry, Implant, Patient, PumpReading, TherapyProgram
from idds.store.patients import get_patient, implants_of
from idds.store.quantities import concentration_of, volume_of
from idds.store.readings import readings_of
from idds.store.therapy import program_therapy, programs_of
from idds.units import Quantity, terminates


class FhirError(IddsError):
    """A resource that is not valid FHIR of the version asked for; the message names the
    element."""


class FhirVersion(StrEnum):
    R5 = "R5"
    R4B = "R4B"


def _number(value: Fraction, what: str) -> Decimal:
    """The exact decimal of `value` (refused when it has none)."""
    if not terminates(value.denominator):
        raise FhirError(f"{what} ({value}) has no exact decimal form")
    with localcontext() as context:
        context.prec = 60  # every digit of a finite decimal of a 64-bit fraction
        return Decimal(value.numerator) / Decimal(value.denominator)


def quantity(q: Quantity, unit: str) -> dict[str, Any]:
    """A FHIR Quantity in `unit` (shown as IDDS writes it) with its UCUM code; exact."""
    return {"value": _number(q.value_in(unit), f"{q} in {unit}"), "unit": unit,
            "system": UCUM, "code": ucum(unit)}


def rate(q: Quantity, unit: str) -> dict[str, Any]:
    """`rateQuantity` when the rate has an exact decimal, else the exact `rateRatio`."""
    value = q.value_in(unit)
    if terminates(value.denominator):
        return {"rateQuantity": quantity(q, unit)}
    mass, per = unit.split("/")
    return {"rateRatio": {
        "numerator": {"value": value.numerator, "unit": mass, "system": UCUM,
                      "code": ucum(mass)},
        "denominator": {"value": value.denominator, "unit": per, "system": UCUM,
                        "code": ucum(per)}}}


def _ref(kind: str, rid: str) -> dict[str, str]:
    return {"reference": f"{kind}/{rid}"}


def patient_resource(row: Patient) -> dict[str, Any]:
    return {"resourceType": "Patient", "id": f"patient-{row.id}",
            "identifier": [{"system": PATIENT_ID_SYSTEM, "value": row.identifier}],
            "name": [{"text": row.name}], "birthDate": row.birth_date.isoformat()}


def _properties(reading: PumpReading, version: FhirVersion) -> list[dict[str, Any]]:
    """The latest reading's reservoir volumes and battery as Device properties."""
    volumes = (("reservoir volume (estimate)", reading.reservoir_nl),
               ("low-reservoir alarm volume", reading.low_alarm_nl))
    if version is FhirVersion.R5:
        return [*({"type": {"text": name}, "valueQuantity": quantity(volume_of(nl), "mL")}
                  for name, nl in volumes),
                {"type": {"text": "battery"}, "valueString": reading.battery}]
    return [*({"type": {"text": name}, "valueQuantity": [quantity(volume_of(nl), "mL")]}
              for name, nl in volumes),
            {"type": {"text": "battery"}, "valueCode": [{"text": reading.battery}]}]


def device_resources(row: Implant, reading: PumpReading | None,
                     version: FhirVersion) -> list[dict[str, Any]]:
    """The pump as a Device, tied to the patient by a DeviceAssociation (R5) or by
    `Device.patient` (R4B)."""
    device: dict[str, Any] = {
        "resourceType": "Device", "id": f"pump-{row.id}",
        "identifier": [{"system": PUMP_SERIAL_SYSTEM, "value": row.pump_serial}],
        "serialNumber": row.pump_serial, "modelNumber": row.pump_model,
        "status": "inactive" if row.explanted_on else "active"}
    if reading is not None:
        device["property"] = _properties(reading, version)
    if version is FhirVersion.R4B:
        device["patient"] = _ref("Patient", f"patient-{row.patient_id}")
        device["deviceName"] = [{"name": row.pump_model, "type": "model-name"}]
        return [device]
    device["name"] = [{"value": row.pump_model, "type": "registered-name"}]
    period = {"start": row.implanted_on.isoformat()}
    if row.explanted_on:
        period["end"] = row.explanted_on.isoformat()
    association = {
        "resourceType": "DeviceAssociation", "id": f"implant-{row.id}",
        "device": _ref("Device", f"pump-{row.id}"),
        "subject": _ref("Patient", f"patient-{row.patient_id}"),
        "status": {"coding": [{"system": DEVICE_ASSOCIATION_STATUS,
                               "code": "explanted" if row.explanted_on else "implanted"}]},
        "period": period}
    return [device, association]


def _dosages(therapy: Therapy, unit: str, version: FhirVersion) -> list[dict[str, Any]]:
    """The basal dosage (one per flex step: from its time of day, for its length) and the
    as-needed bolus, all concurrent (sequence 1)."""
    route = ROUTE_INTRATHECAL.concept()
    basal, demand = therapy.basal, therapy.demand
    if isinstance(basal, Flex) and len(basal.days) != 1:
        raise FhirError("a weekly flex schedule has no export yet (dayOfWeek per step): "
                        "export refused rather than say one day runs every day")
    out: list[dict[str, Any]] = []
    if isinstance(basal, Continuous):
        out.append({"sequence": 1, "text": f"continuous {basal.dose_rate.display(unit)}",
                    "route": route,
                    "doseAndRate": [rate(basal.dose_rate, unit)]})
    elif isinstance(basal, Flex):
        for start, end, dose_rate in basal.spans():
            out.append({"sequence": 1, "text": f"from {clock_text(start)} for {end - start} "
                        f"min: {dose_rate.display(unit)}", "route": route,
                        "timing": {"repeat": {"timeOfDay": [f"{clock_text(start)}:00"],
                                              "duration": end - start,
                                              "durationUnit": "min"}},
                        "doseAndRate": [rate(dose_rate, unit)]})
    if demand is not None:
        mass = unit.split("/")[0]
        most = {"numerator": quantity(demand.dose * demand.max_per_24h, mass),
                "denominator": {"value": 1, "unit": "day", "system": UCUM, "code": "d"}}
        bolus = {"sequence": 1, "text": f"patient bolus {demand.dose.display(mass)} over "
                 f"{demand.duration.display('min')}, lockout {demand.lockout.display('min')}"
                 f", at most {demand.max_per_24h} a day", "route": route,
                 "extension": [
                     {"url": BOLUS_DURATION_EXTENSION,
                      "valueDuration": quantity(demand.duration, "min")},
                     {"url": LOCKOUT_EXTENSION, "valueDuration": quantity(demand.lockout,
                                                                          "min")}],
                 "doseAndRate": [{"doseQuantity": quantity(demand.dose, mass)}],
                 "maxDosePerPeriod": [most] if version is FhirVersion.R5 else most}
        bolus["asNeeded" if version is FhirVersion.R5 else "asNeededBoolean"] = True
        out.append(bolus)
    return out


def program_resources(row: TherapyProgram, unit: str,
                      version: FhirVersion) -> list[dict[str, Any]]:
    """A program as a MedicationRequest (the drug at its concentration, intrathecal) and its
    Provenance."""
    rid = f"program-{row.id}"
    medication = {"text": f"{row.drug} "
                  f"{concentration_of(row.concentration_num, row.concentration_den)}"}
    request: dict[str, Any] = {
        "resourceType": "MedicationRequest", "id": rid, "status": "active",
        "intent": "order", "subject": _ref("Patient", f"patient-{row.patient_id}"),
        "authoredOn": row.programmed_at.isoformat(),
        "dosageInstruction": _dosages(program_therapy(row), unit, version),
        "note": [{"text": row.reason}]}
    if version is FhirVersion.R5:
        request["medication"] = {"concept": medication}
    else:
        request["medicationCodeableConcept"] = medication
    if row.previous_id is not None:
        request["priorPrescription"] = _ref("MedicationRequest", f"program-{row.previous_id}")
    provenance = {"resourceType": "Provenance", "id": f"provenance-{rid}",
                  "target": [_ref("MedicationRequest", rid)],
                  "recorded": row.programmed_at.isoformat(),
                  "agent": [{"who": {"display": row.programmed_by}}]}
    if version is FhirVersion.R4B:
        provenance["reason"] = [{"text": row.reason}]
    return [request, provenance]


def pain_observation(row: DiaryEntry) -> dict[str, Any]:
    return {"resourceType": "Observation", "id": f"pain-{row.id}", "status": "final",
            "category": [SURVEY.concept()], "code": PAIN_SCORE.concept(),
            "subject": _ref("Patient", f"patient-{row.patient_id}"),
            "effectiveDateTime": row.felt_at.isoformat(), "valueInteger": row.pain,
            **({"note": [{"text": row.note}]} if row.note else {})}


def alarm_flag(row: Alarm) -> dict[str, Any]:
    period = {"start": row.raised_at.isoformat()}
    if row.acknowledged_at is not None:
        period["end"] = row.acknowledged_at.isoformat()
    return {"resourceType": "Flag", "id": f"alarm-{row.id}",
            "status": "inactive" if row.acknowledged_at else "active",
            "code": {"text": f"pump alarm: {row.kind} ({row.priority} priority)"},
            "subject": _ref("Patient", f"patient-{row.patient_id}"), "period": period,
            "author": _ref("Device", f"pump-{row.implant_id}")}


def dose_units(library: DrugLibrary) -> dict[str, str]:
    """Each drug's daily-dose unit in the library ("mg/day", "mcg/day")."""
    return {name: entry.dose_unit for name, entry in library.data.drugs.items()}


def patient_bundle(db: Database, actor: Actor, patient_id: int, dose_units: dict[str, str],
                   version: FhirVersion = FhirVersion.R5,
                   since: datetime | None = None) -> dict[str, Any]:
    """The patient's record (programs, diary and alarms from `since` on, if given) as a
    transaction Bundle of `version`, validated; `dose_units` gives each drug's daily-dose
    unit ("mg/day" or "mcg/day", the drug library's)."""
    resources = [patient_resource(get_patient(db, actor, patient_id))]
    for implant in implants_of(db, actor, patient_id):
        readings = readings_of(db, actor, patient_id, implant.id)
        resources += device_resources(implant, readings[-1] if readings else None, version)
        for program in programs_of(db, actor, patient_id, implant.id):
            if since is None or program.programmed_at >= since:
                resources += program_resources(program, dose_units.get(program.drug,
                                                                       "mg/day"), version)
    resources += [pain_observation(e) for e in diary_of(db, actor, patient_id)
                  if since is None or e.felt_at >= since]
    resources += [alarm_flag(a) for a in alarms_of(db, actor, patient_id)
                  if since is None or a.raised_at >= since]
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": f"urn:idds:{r['resourceType']}/{r['id']}", "resource": r,
         "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"}}
        for r in resources]}
    return validated(bundle, version)


def validated(resource: object, version: FhirVersion) -> dict[str, Any]:
    """`resource` (any FHIR resource as JSON data), once fhir.resources accepts it as
    `version`, returned as given (its decimals exact); `FhirError` naming the first element
    that is wrong."""
    if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str) \
            or not resource["resourceType"].isalpha():
        raise FhirError("resourceType: not a FHIR resource")
    kind = resource["resourceType"]
    package = "fhir.resources" if version is FhirVersion.R5 else "fhir.resources.R4B"
    try:
        model = importlib.import_module(f"{package}.{kind.lower()}").__dict__[kind]
    except (ImportError, KeyError):
        raise FhirError(f"resourceType: {kind[:60]!r} is not a FHIR {version} resource"
                        ) from None
    try:
        model.model_validate(resource)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "resource"
        raise FhirError(f"{kind}.{where}: {first['msg']} (FHIR {version})") from None
    return resource


def fhir_json(value: object) -> str:
    """FHIR data as JSON text with every decimal digit kept (the json module would write a
    Decimal as a float, or not at all)."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(k))}: {fhir_json(v)}"
                               for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(fhir_json(v) for v in value) + "]"
    return json.dumps(value)


def read_fhir_json(text: str | bytes) -> object:
    """JSON text as FHIR data, decimals as exact Decimals; `FhirError` if it is not JSON."""
    try:
        return json.loads(text, parse_float=Decimal)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise FhirError(f"body: not JSON ({exc})") from None
