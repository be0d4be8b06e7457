"""`/api/v1/patients`: the patients and their implants."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from idds.api.auth import ClinicDep, Reader, permitted
from idds.api.errors import RESPONSES
from idds.api.schemas import (
    ExplantIn,
    ImplantId,
    ImplantIn,
    ImplantOut,
    PatientChange,
    PatientId,
    PatientIn,
    PatientOut,
)
from idds.api.views import implant_out, patient_out
from idds.interop.fhir_export import FhirVersion, dose_units, fhir_json, patient_bundle
from idds.programmer.entry import quantity_of
from idds.store import Action, Actor
from idds.store.backup import export_patient
from idds.store.patients import (
    ImplantDetails,
    get_patient,
    implants_of,
    list_patients,
    record_explant,
    record_implant,
    register_patient,
    update_patient,
)
from idds.units import Kind

router = APIRouter(tags=["patients"], responses=RESPONSES)


@router.get("/patients", response_model=list[PatientOut])
def patients(clinic: ClinicDep, actor: Reader) -> list[PatientOut]:
    """Every patient (a patient user: their own record only)."""
    return [patient_out(p) for p in list_patients(clinic.db, actor)]


@router.post("/patients", response_model=PatientOut, status_code=201)
def register(clinic: ClinicDep, given: PatientIn,
             actor: Annotated[Actor, Depends(permitted(Action.REGISTER_PATIENT))]) -> PatientOut:
    """Register a patient (the clinic's identifier is unique)."""
    return patient_out(register_patient(clinic.db, actor, given.identifier, given.name,
                                        given.birth_date))


@router.get("/patients/{patient_id}", response_model=PatientOut)
def patient(clinic: ClinicDep, patient_id: PatientId, actor: Reader) -> PatientOut:
    return patient_out(get_patient(clinic.db, actor, patient_id))


@router.patch("/patients/{patient_id}", response_model=PatientOut)
def correct(clinic: ClinicDep, patient_id: PatientId, given: PatientChange,
            actor: Annotated[Actor, Depends(permitted(Action.UPDATE_PATIENT))]) -> PatientOut:
    """Correct the name or birth date; 409 if the patient changed since `expected_version`."""
    return patient_out(update_patient(clinic.db, actor, patient_id, given.expected_version,
                                      given.reason, given.name, given.birth_date))


@router.get("/patients/{patient_id}/export", response_model=dict[str, object])
def export(clinic: ClinicDep, patient_id: PatientId, actor: Reader) -> dict[str, object]:
    """The patient's whole record as data (docs/store.md "Export and restore")."""
    return export_patient(clinic.db, actor, patient_id)


@router.get("/patients/{patient_id}/fhir", response_class=Response, responses={
    200: {"content": {"application/fhir+json": {"schema": {"type": "object"}}},
          "description": "A FHIR transaction Bundle"}})
def fhir(clinic: ClinicDep, patient_id: PatientId, actor: Reader,
         version: Annotated[FhirVersion, Query(description="R5 or R4B")] = FhirVersion.R5,
         since: Annotated[date | None, Query(description="Only programs, administrations, "
                                             "pump readings, diary, alarms and audit events "
                                             "from this date (UTC) on.")] = None
         ) -> Response:
    """The patient's record as a validated FHIR transaction Bundle (docs/interop.md), its
    decimals written with every digit."""
    start = None if since is None else datetime.combine(since, datetime.min.time(), UTC)
    bundle = patient_bundle(clinic.db, actor, patient_id, dose_units(clinic.library), version,
                            start)
    return Response(fhir_json(bundle), media_type="application/fhir+json")


@router.get("/patients/{patient_id}/implants", response_model=list[ImplantOut])
def implants(clinic: ClinicDep, patient_id: PatientId, actor: Reader) -> list[ImplantOut]:
    return [implant_out(i) for i in implants_of(clinic.db, actor, patient_id)]


@router.post("/patients/{patient_id}/implants", response_model=ImplantOut, status_code=201)
def implant(clinic: ClinicDep, patient_id: PatientId, given: ImplantIn,
            actor: Annotated[Actor, Depends(permitted(Action.RECORD_IMPLANT))]) -> ImplantOut:
    """Record a pump implanted in the patient (the serial is its id on the link)."""
    volume = (None if given.catheter_volume is None else
              quantity_of(given.catheter_volume, Kind.VOLUME, "catheter_volume"))
    details = ImplantDetails(given.pump_serial, given.pump_model, given.catheter_model,
                             given.catheter_tip, given.implanted_on, volume)
    return implant_out(record_implant(clinic.db, actor, patient_id, details))


@router.post("/implants/{implant_id}/explant", response_model=ImplantOut)
def explant(clinic: ClinicDep, implant_id: ImplantId, given: ExplantIn,
            actor: Annotated[Actor, Depends(permitted(Action.UPDATE_IMPLANT))]) -> ImplantOut:
    """Record that the pump was removed."""
    return implant_out(record_explant(clinic.db, actor, implant_id, given.expected_version,
                                      given.explanted_on, given.reason))
