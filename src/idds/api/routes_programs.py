"""Therapy programs: propose (the pump is interrogated, the drug library checks run, the
Finish screen comes back; nothing changes) -> confirm (a fresh password entry; the program
goes over the secure link to the pump through the programmer core, is read back and
compared, and is recorded with the program it replaced).

Two clinicians changing the same pump: the second confirm finds that the program in force is
no longer the one its Finish screen showed and gets 409 (`StaleWriteError`), never a change
stacked on one its author did not see (the check, the send and the record happen under the
pump's lock: `idds.api.changes`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from idds.api.auth import ClinicDep, Reader, permitted
from idds.api.errors import RESPONSES
from idds.api.planning import confirm_therapy_change, plan_therapy_change
from idds.api.proposals import PendingChange
from idds.api.schemas import (
    ConfirmProgramIn,
    ImplantId,
    PatientId,
    ProgramOut,
    ProgramProposalIn,
    ProposalOut,
    SentProgramOut,
)
from idds.api.views import breaches_out, program_out, rows_out
from idds.interop.fhir_export import FhirVersion, read_fhir_json
from idds.interop.fhir_import import bundle_therapy, therapy_request
from idds.programmer import TherapyPlan, TherapyRequest
from idds.programmer.entry import TherapyFields, quantity_of, therapy_of
from idds.store import Action, Actor
from idds.store.patients import get_patient
from idds.store.therapy import checks_data, programs_of
from idds.units import Kind

router = APIRouter(tags=["programs"], responses=RESPONSES)


@router.get("/patients/{patient_id}/implants/{implant_id}/programs",
            response_model=list[ProgramOut])
def programs(clinic: ClinicDep, patient_id: PatientId, implant_id: ImplantId,
             actor: Reader) -> list[ProgramOut]:
    """Every program of the implant, oldest first (each names the one it replaced)."""
    return [program_out(p) for p in programs_of(clinic.db, actor, patient_id, implant_id)]


def finish_screen(proposal: PendingChange) -> ProposalOut:
    plan = proposal.plan
    assert isinstance(plan, TherapyPlan)
    return ProposalOut(
        proposal_id=proposal.id, expires_at=proposal.expires_at, replaces=proposal.replaces,
        rows=rows_out(plan.rows),
        notes=list(plan.notes), breaches=breaches_out(list(checks_data(plan.checks))),
        needs_override_confirmation=plan.needs_override_confirmation,
        next_refill=plan.refill.alarm_date if plan.refill else None)


@router.post("/patients/{patient_id}/implants/{implant_id}/programs/proposals",
             response_model=ProposalOut, status_code=201)
async def propose(clinic: ClinicDep, patient_id: PatientId, implant_id: ImplantId,
                  given: ProgramProposalIn,
                  actor: Annotated[Actor, Depends(permitted(Action.PROPOSE_THERAPY))]
                  ) -> ProposalOut:
    """Plan a therapy change: the Finish screen (every setting old beside new, the library's
    checks, the next refill date). A hard limit refuses it (422); a soft limit needs
    `override_reason`, and the confirm step then needs `override_confirmed`."""
    t = given.therapy
    therapy = therapy_of(TherapyFields(t.mode, t.dose, t.flex, t.bolus, t.bolus_duration,
                                       t.lockout, t.max_boluses), prefix="therapy.")
    request = TherapyRequest(given.drug, quantity_of(given.concentration, Kind.CONCENTRATION,
                                                     "concentration"),
                             therapy, given.override_reason, given.opioid_tolerant)
    return finish_screen(await plan_therapy_change(clinic, actor, patient_id, implant_id,
                                                   request))


@router.post("/patients/{patient_id}/implants/{implant_id}/programs/proposals/fhir",
             response_model=ProposalOut, status_code=201, openapi_extra={"requestBody": {
                 "required": True, "description": "A FHIR MedicationRequest, or a Bundle "
                 "holding the patient's MedicationRequests (JSON).",
                 "content": {"application/json": {"schema": {"type": "object"}},
                             "application/fhir+json": {"schema": {"type": "object"}}}}})
async def propose_from_fhir(
        clinic: ClinicDep, patient_id: PatientId, implant_id: ImplantId, raw: Request,
        actor: Annotated[Actor, Depends(permitted(Action.PROPOSE_THERAPY))],
        version: Annotated[FhirVersion, Query(description="R5 or R4B")] = FhirVersion.R5,
        override_reason: Annotated[str | None, Query(min_length=1, max_length=2000)] = None,
        opioid_tolerant: bool = False) -> ProposalOut:
    """Plan the therapy a hospital's FHIR MedicationRequest for this patient asks for (or,
    given a Bundle, its current MedicationRequest: `bundle_therapy`): the same checks and
    Finish screen as any change (docs/interop.md); what cannot be mapped is refused naming
    the element, storing nothing. Decimals are read exactly."""
    order = read_fhir_json(await raw.body())
    patient = await run_in_threadpool(get_patient, clinic.db, actor, patient_id)
    reader = bundle_therapy if isinstance(order, dict) and \
        order.get("resourceType") == "Bundle" else therapy_request
    request = replace(reader(order, version, clinic.library, patient.id, patient.identifier),
                      override_reason=override_reason, opioid_tolerant=opioid_tolerant)
    return finish_screen(await plan_therapy_change(clinic, actor, patient_id, implant_id,
                                                   request))


@router.post("/programs/proposals/{proposal_id}/confirm", response_model=SentProgramOut,
             status_code=201)
async def confirm(clinic: ClinicDep, proposal_id: str, given: ConfirmProgramIn,
                  actor: Annotated[Actor, Depends(permitted(Action.CHANGE_THERAPY))]
                  ) -> SentProgramOut:
    """Send a proposed therapy (only its author, within 15 minutes of planning it, with the
    password entered in the last 5 minutes): sent to the pump, read back, recorded."""
    row, status = await confirm_therapy_change(clinic, actor, proposal_id,
                                               given.override_confirmed, given.reason)
    return SentProgramOut(program=program_out(row), read_back=status.therapy_text)
