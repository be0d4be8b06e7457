"""Refills and the pump's own record: propose a refill (the pump is interrogated, expected
against withdrawn volume is checked; nothing changes) -> confirm (sent over the secure link,
read back, recorded with its lot and the next refill date); sync (interrogate, download the
log, store new entries after verifying the hash chain, record the pump's active alarms); and
the stored log."""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.concurrency import run_in_threadpool

from idds.api.auth import ClinicDep, Reader, permitted
from idds.api.clinic import Clinic
from idds.api.errors import RESPONSES, ApiError, RefusalCode
from idds.api.linked import implant_of, same_pump, talking_to
from idds.api.proposals import PendingChange, Proposals
from idds.api.records import LogEntryOut, SyncOut
from idds.api.schemas import (
    ConfirmRefillIn,
    ImplantId,
    PatientId,
    ProposalOut,
    RefillOut,
    RefillProposalIn,
    RowOut,
)
from idds.api.views import log_entry_out, refill_out
from idds.programmer import PumpStatus, RefillChange, RefillRequest
from idds.programmer.entry import quantity_of
from idds.pump import ALARM_SPECS, AlarmKind
from idds.store import Action, Actor
from idds.store.alarms import alarms_of, record_alarm
from idds.store.model import Implant
from idds.store.pumplogs import import_log, log_of
from idds.store.refills import record_refill, refills_of
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
    implant = await implant_of(clinic, actor, patient_id, implant_id)
    async with talking_to(clinic, implant) as programmer:
        change = await programmer.plan_refill(request)
    same_pump(implant, change.status)
    proposal = clinic.proposals.add(PendingChange(
        Proposals.new_id(), patient_id, implant_id, implant.pump_serial, actor.username,
        clinic.db.now(), change))
    return ProposalOut(proposal_id=proposal.id, expires_at=proposal.expires_at,
                       rows=[RowOut(setting=r.setting, old=r.old, new=r.new)
                             for r in change.rows],
                       notes=[], warnings=list(change.warnings),
                       needs_override_confirmation=change.mismatch)


def _next_refill(clinic: Clinic, status: PumpStatus) -> date | None:
    days = status.refill_due_in_days
    return None if days is None else clinic.today() + timedelta(days=math.floor(days))


@router.post("/refills/proposals/{proposal_id}/confirm", response_model=RefillOut,
             status_code=201)
async def confirm_refill(clinic: ClinicDep, proposal_id: str, given: ConfirmRefillIn,
                         actor: Annotated[Actor, Depends(permitted(Action.RECORD_REFILL))]
                         ) -> RefillOut:
    """Send a proposed refill (a mismatch needs `accept_mismatch`), read the pump back, and
    record it with the lot and the next refill date the pump now gives."""
    proposal = clinic.proposals.take(proposal_id, RefillChange, actor.username,
                                     clinic.db.now())
    change = proposal.plan
    assert isinstance(change, RefillChange)
    if change.mismatch and not given.accept_mismatch:
        clinic.proposals.put_back(proposal)
        raise ApiError(422, RefusalCode.INVALID, "expected and withdrawn volumes do not match: "
                       "fill anyway only with accept_mismatch", "accept_mismatch")
    implant = await implant_of(clinic, actor, proposal.patient_id, proposal.implant_id)
    async with talking_to(clinic, implant) as programmer:
        await programmer.send_refill(change)
        status = same_pump(implant, await programmer.interrogate())
    row = await run_in_threadpool(record_refill, clinic.db, actor, implant.id, change,
                                  given.lot, _next_refill(clinic, status))
    return refill_out(row)


async def sync_implant(clinic: Clinic, actor: Actor, implant: Implant) -> SyncOut:
    """Interrogate the implant's pump, download its log, store what is new, and record each
    alarm the pump shows that the record has no open alarm of the same kind for."""
    async with talking_to(clinic, implant) as programmer:
        status = same_pump(implant, await programmer.interrogate())
        download = await programmer.read_log()
    if not download.verified:
        raise ApiError(502, RefusalCode.PUMP_UNREACHABLE, f"the pump's log fails verification: "
                       f"{download.reason}; nothing was stored")
    done = await run_in_threadpool(import_log, clinic.db, actor, implant.id, download.entries,
                                   download.head)
    open_kinds = {a.kind for a in await run_in_threadpool(alarms_of, clinic.db, actor,
                                                          implant.patient_id)
                  if a.implant_id == implant.id and a.acknowledged_at is None}
    recorded = 0
    for kind in _alarm_kinds(status):
        if kind.value not in open_kinds:
            await run_in_threadpool(record_alarm, clinic.db, actor, implant.id, kind,
                                    clinic.db.now())
            recorded += 1
    return SyncOut(pump_id=status.pump_id, therapy=status.therapy_text,
                   reservoir=str(status.reservoir_estimate), battery=status.battery,
                   alarms=list(status.alarms), log_verified=download.verified,
                   log_problem=download.reason, stored=done.stored,
                   duplicates=done.duplicates, gaps=list(done.gaps),
                   held_back=done.held_back, alarms_recorded=recorded)


def _alarm_kinds(status: PumpStatus) -> list[AlarmKind]:
    """The kinds of the pump's active alarms (the interrogation's `alarms` records)."""
    names = {kind.value: kind for kind in ALARM_SPECS}
    raw = status.raw.get("alarms")
    kinds = [a.get("kind") for a in raw if isinstance(a, dict)] if isinstance(raw, list) else []
    return [names[k] for k in kinds if isinstance(k, str) and k in names]


@router.post("/patients/{patient_id}/implants/{implant_id}/sync", response_model=SyncOut)
async def sync(clinic: ClinicDep, patient_id: PatientId, implant_id: ImplantId,
               actor: Annotated[Actor, Depends(permitted(Action.IMPORT_PUMP_LOG))]) -> SyncOut:
    """Interrogate the pump and store its new log entries and alarms."""
    return await sync_implant(clinic, actor,
                              await implant_of(clinic, actor, patient_id, implant_id))


@router.get("/patients/{patient_id}/implants/{implant_id}/log",
            response_model=list[LogEntryOut])
def log(clinic: ClinicDep, patient_id: PatientId, implant_id: ImplantId,
        actor: Reader) -> list[LogEntryOut]:
    """The pump log entries stored, by sequence."""
    return [log_entry_out(e) for e in log_of(clinic.db, actor, patient_id, implant_id)]
