"""Refills and the pump's own record: propose a refill (the pump is interrogated, expected
against withdrawn volume is checked; nothing changes) -> confirm (sent over the secure link,
read back, recorded with its lot and the next refill date); sync one pump or every pump
(`idds.api.sync`); the stored log and readings."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from idds.api.auth import ClinicDep, Reader, permitted
from idds.api.errors import RESPONSES
from idds.api.linked import implant_of
from idds.api.planning import confirm_refill_change, plan_refill_change
from idds.api.records import LogEntryOut, ReadingOut, SyncedOut, SyncOut
from idds.api.schemas import (
    ConfirmRefillIn,
    ImplantId,
    PatientId,
    ProposalOut,
    RefillOut,
    RefillProposalIn,
)
from idds.api.sync import sync_all, sync_implant
from idds.api.views import log_entry_out, reading_out, refill_out, rows_out
from idds.programmer import RefillChange, RefillRequest
from idds.programmer.entry import quantity_of
from idds.store import Action, Actor
from idds.store.pumplogs import log_of
from idds.store.readings import readings_of
from idds.store.refills import refills_of
from idds.units import Kind

router = APIRouter(tags=["pumps"], responses=RESPONSES)


@router.get("/patients/{patient_id}/refills", response_model=list[RefillOut])
def refills(clinic: ClinicDep, patient_id: PatientId, actor: Reader) -> list[RefillOut]:
    return [refill_out(r) for r in refills_of(clinic.db, actor, patient_id)]


@router.post("/patients/{patient_id}/implants/{implant_id}/refills/proposals",
             response_model=ProposalOut, status_code=201)
async def propose_refill(clinic: ClinicDep, patient_id: PatientId, implant_id: ImplantId,
                         given: RefillProposalIn,
                         actor: Annotated[Actor, Depends(permitted(Action.RECORD_REFILL))]
                         ) -> ProposalOut:
    """Plan a refill: expected against withdrawn volume (a mismatch is a warning: a leaking
    septum, or drug injected into the pocket), the new volume and concentration, a bridge
    bolus after a concentration change."""
    request = RefillRequest(quantity_of(given.withdrawn, Kind.VOLUME, "withdrawn"),
                            quantity_of(given.volume, Kind.VOLUME, "volume"),
                            quantity_of(given.concentration, Kind.CONCENTRATION,
                                        "concentration"),
                            given.drug, keep_dose=True, bridge=given.bridge)
    proposal = await plan_refill_change(clinic, actor, patient_id, implant_id, request)
    change = proposal.plan
    assert isinstance(change, RefillChange)
    return ProposalOut(proposal_id=proposal.id, expires_at=proposal.expires_at,
                       rows=rows_out(change.rows),
                       notes=[], warnings=list(change.warnings),
                       needs_mismatch_acceptance=change.mismatch)


@router.post("/refills/proposals/{proposal_id}/confirm", response_model=RefillOut,
             status_code=201)
async def confirm_refill(clinic: ClinicDep, proposal_id: str, given: ConfirmRefillIn,
                         actor: Annotated[Actor, Depends(permitted(Action.RECORD_REFILL))]
                         ) -> RefillOut:
    """Send a proposed refill (a mismatch needs `accept_mismatch`), read the pump back, and
    record it with the lot and the next refill date the pump now gives."""
    return refill_out(await confirm_refill_change(clinic, actor, proposal_id,
                                                  given.accept_mismatch, given.lot))


@router.post("/sync", response_model=list[SyncedOut])
async def sync_every_pump(clinic: ClinicDep,
                          actor: Annotated[Actor, Depends(permitted(Action.IMPORT_PUMP_LOG))]
                          ) -> list[SyncedOut]:
    """Sync every implanted pump of the clinic; a pump that cannot be reached is reported
    with the reason, and the others are still synced."""
    return await sync_all(clinic, actor)


@router.post("/patients/{patient_id}/implants/{implant_id}/sync", response_model=SyncOut)
async def sync(clinic: ClinicDep, patient_id: PatientId, implant_id: ImplantId,
               actor: Annotated[Actor, Depends(permitted(Action.IMPORT_PUMP_LOG))]) -> SyncOut:
    """Interrogate the pump and store its new log entries and alarms."""
    return await sync_implant(clinic, actor,
                              await implant_of(clinic, actor, patient_id, implant_id))


@router.get("/patients/{patient_id}/implants/{implant_id}/readings",
            response_model=list[ReadingOut])
def readings(clinic: ClinicDep, patient_id: PatientId, implant_id: ImplantId,
             actor: Reader) -> list[ReadingOut]:
    """What each sync's interrogation showed, oldest first."""
    return [reading_out(r) for r in readings_of(clinic.db, actor, patient_id, implant_id)]


@router.get("/patients/{patient_id}/implants/{implant_id}/log",
            response_model=list[LogEntryOut])
def log(clinic: ClinicDep, patient_id: PatientId, implant_id: ImplantId,
        actor: Reader) -> list[LogEntryOut]:
    """The pump log entries stored, by sequence."""
    return [log_entry_out(e) for e in log_of(clinic.db, actor, patient_id, implant_id)]
