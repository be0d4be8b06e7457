"""The clinical record as FHIR resources: the `Patient`; per therapy program a
`MedicationRequest` (the drug at its concentration, intrathecal route SNOMED 72607000, the
basal rate, one dosage per flex step, and for patient boluses an as-needed dosage with its
dose, duration and lockout (IDDS extensions) and daily maximum, all in UCUM;
`priorPrescription` chaining the history) with its `Provenance` (who programmed it, when,
why); per diary entry a pain `Observation` (LOINC 72514-3, 0-10); per alarm a `Flag`.
Resource ids are the record's ("patient-1", "program-7"), so exporting twice gives the same
resources."""

from __future__ import annotations

from typing import Any

from idds.interop.codes import (
    BOLUS_DURATION_EXTENSION,
    LOCKOUT_EXTENSION,
    PAIN_SCORE,
    PATIENT_ID_SYSTEM,
    ROUTE_INTRATHECAL,
    SURVEY,
    UCUM,
)
from idds.interop.fhir_types import FhirError, FhirVersion, quantity, rate
from idds.interop.fhir_types import ref as _ref
from idds.pump import Continuous, Flex, Therapy
from idds.pump.records import clock_text
from idds.store.model import Alarm, DiaryEntry, Patient, TherapyProgram
from idds.store.quantities import concentration_of
from idds.store.therapy import program_therapy


def patient_resource(row: Patient) -> dict[str, Any]:
    return {"resourceType": "Patient", "id": f"patient-{row.id}",
            "identifier": [{"system": PATIENT_ID_SYSTEM, "value": row.identifier}],
            "name": [{"text": row.name}], "birthDate": row.birth_date.isoformat()}


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
