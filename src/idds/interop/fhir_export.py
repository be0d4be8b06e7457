"""A patient's record as a FHIR transaction `Bundle`, R5 (default) or R4B, validated with
fhir.resources before it leaves (docs/interop.md). The Bundle is assembled here from:

- `idds.interop.fhir_record`: the `Patient`, per therapy program a `MedicationRequest` and
  its `Provenance`, per diary entry a pain `Observation`, per alarm a `Flag`;
- `idds.interop.fhir_device`: per implant the `Device` with its `DeviceAssociation` (R5) or
  `Device.patient` (R4B), its `DeviceMetric`s (reservoir, volume delivered since the fill,
  battery) and per pump reading an `Observation` of each (the volume delivered where the
  reading kept it);
- `idds.interop.fhir_administrations`: per basal rate segment and per bolus of the pump's
  log a `MedicationAdministration`;
- `idds.interop.fhir_audit`: per audit record of the patient's programs an `AuditEvent`.

Resource ids are the record's ("patient-1", "program-7", "basal-2-14-0"), each entry a PUT
by id, so exporting twice gives the same Bundle and a hospital's PUT is idempotent. The
shared pieces (`FhirError`, `FhirVersion`, `quantity`, `rate`, `validated`, `fhir_json`,
`read_fhir_json`) live in `idds.interop.fhir_types` and are importable from here too.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from idds.drugs import DrugLibrary
from idds.interop.fhir_administrations import (
    LogDates,
    administration_resource,
    administrations,
)
from idds.interop.fhir_audit import audit_event
from idds.interop.fhir_device import device_resources, metric_resources, reading_observations
from idds.interop.fhir_record import (
    alarm_flag,
    pain_observation,
    patient_resource,
    program_resources,
)
from idds.interop.fhir_types import (
    FhirError,
    FhirVersion,
    fhir_json,
    quantity,
    rate,
    read_fhir_json,
    validated,
)
from idds.store import Actor, Database
from idds.store.alarms import alarms_of
from idds.store.diary import diary_of
from idds.store.model import Implant
from idds.store.patients import get_patient, implants_of
from idds.store.pumplogs import log_of
from idds.store.readings import readings_of
from idds.store.therapy import programs_of
from idds.store.trail import program_trail

__all__ = ["FhirError", "FhirVersion", "dose_units", "fhir_json", "patient_bundle",
           "program_resources", "quantity", "rate", "read_fhir_json", "validated"]

#: The daily-dose unit of a drug the library does not name.
DEFAULT_DOSE_UNIT = "mg/day"


def dose_units(library: DrugLibrary) -> dict[str, str]:
    """Each drug's daily-dose unit in the library ("mg/day", "mcg/day")."""
    return {name: entry.dose_unit for name, entry in library.data.drugs.items()}


def _after(moment: datetime | None, since: datetime | None) -> bool:
    return since is None or (moment is not None and moment >= since)


def implant_resources(db: Database, actor: Actor, implant: Implant,
                      dose_units: dict[str, str], version: FhirVersion,
                      since: datetime | None) -> list[dict[str, Any]]:
    """One implant's Device (and association) and metrics; its programs, administrations
    and readings' observations from `since` on."""
    patient_id = implant.patient_id
    readings = readings_of(db, actor, patient_id, implant.id)
    out = device_resources(implant, readings[-1] if readings else None, version)
    out += metric_resources(implant, version)
    programs = programs_of(db, actor, patient_id, implant.id)
    for program in programs:
        if _after(program.programmed_at, since):
            out += program_resources(program, dose_units.get(program.drug, DEFAULT_DOSE_UNIT),
                                     version)
    log = log_of(db, actor, patient_id, implant.id)
    dates = LogDates(log, readings)
    for given in administrations(log, programs):
        if _after(dates.at(given.seq, given.start), since):
            resource = administration_resource(
                given, implant, dates, dose_units.get(given.drug.name, DEFAULT_DOSE_UNIT),
                version)
            if resource is not None:
                out.append(resource)
    for reading in readings:
        if _after(reading.read_at, since):
            out += reading_observations(reading, patient_id)
    return out


def patient_bundle(db: Database, actor: Actor, patient_id: int, dose_units: dict[str, str],
                   version: FhirVersion = FhirVersion.R5,
                   since: datetime | None = None) -> dict[str, Any]:
    """The patient's record (programs, administrations, readings, diary, alarms and audit
    events from `since` on, if given) as a transaction Bundle of `version`, validated;
    `dose_units` gives each drug's daily-dose unit ("mg/day" or "mcg/day", the drug
    library's)."""
    resources = [patient_resource(get_patient(db, actor, patient_id))]
    for implant in implants_of(db, actor, patient_id):
        resources += implant_resources(db, actor, implant, dose_units, version, since)
    resources += [pain_observation(e) for e in diary_of(db, actor, patient_id)
                  if _after(e.felt_at, since)]
    resources += [alarm_flag(a) for a in alarms_of(db, actor, patient_id)
                  if _after(a.raised_at, since)]
    resources += [audit_event(r, patient_id, version)
                  for r in program_trail(db, actor, patient_id) if _after(r.at, since)]
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": f"urn:idds:{r['resourceType']}/{r['id']}", "resource": r,
         "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"}}
        for r in resources]}
    return validated(bundle, version)
