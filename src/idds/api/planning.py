"""Planning a change and confirming it: the one home of those steps, for the API's routes
and the console's pages alike. A plan interrogates the pump, runs the drug library's checks
and keeps the proposal (nothing changes); a confirm takes the proposal back (only its author,
before it expires), checks what the Finish screen asked for (an override confirmed again, a
volume mismatch accepted) and sends it (`idds.api.changes`)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool

from idds.api.changes import send_refill, send_therapy
from idds.api.clinic import Clinic
from idds.api.errors import ApiError, RefusalCode
from idds.api.linked import implant_of, same_pump, talking_to
from idds.api.proposals import PendingChange, Proposals
from idds.programmer import PumpStatus, RefillChange, RefillRequest, TherapyPlan, TherapyRequest
from idds.store import Actor
from idds.store.model import Refill, TherapyProgram
from idds.store.refills import lot_of
from idds.store.therapy import change_reason, latest_program


async def plan_therapy_change(clinic: Clinic, actor: Actor, patient_id: int, implant_id: int,
                              request: TherapyRequest) -> PendingChange:
    """Plan a therapy change on the implant's pump: its Finish screen, kept for confirming."""
    implant = await implant_of(clinic, actor, patient_id, implant_id)
    current = await run_in_threadpool(latest_program, clinic.db, actor, patient_id, implant_id)
    async with talking_to(clinic, implant) as programmer:
        plan = await programmer.plan_therapy(request)
    same_pump(implant, plan.status)
    return clinic.proposals.add(PendingChange(
        Proposals.new_id(), patient_id, implant_id, implant.pump_serial, actor.username,
        clinic.db.now(), plan, None if current is None else current.id,
        clinic.library_version_id))


async def plan_refill_change(clinic: Clinic, actor: Actor, patient_id: int, implant_id: int,
                             request: RefillRequest) -> PendingChange:
    """Plan a refill: expected against withdrawn volume checked, kept for confirming."""
    implant = await implant_of(clinic, actor, patient_id, implant_id)
    async with talking_to(clinic, implant) as programmer:
        change = await programmer.plan_refill(request)
    same_pump(implant, change.status)
    return clinic.proposals.add(PendingChange(
        Proposals.new_id(), patient_id, implant_id, implant.pump_serial, actor.username,
        clinic.db.now(), change))


async def confirm_therapy_change(clinic: Clinic, actor: Actor, proposal_id: str,
                                 override_confirmed: bool, reason: str
                                 ) -> tuple[TherapyProgram, PumpStatus]:
    """Send a planned therapy and record it; a soft-limit override must be confirmed again
    (refused, the proposal kept, otherwise). What the record will check is checked before
    anything is sent."""
    reason = change_reason(reason)
    proposal = clinic.proposals.take(proposal_id, TherapyPlan, actor.username, clinic.db.now())
    plan = proposal.plan
    assert isinstance(plan, TherapyPlan)
    if plan.needs_override_confirmation:
        if not override_confirmed:
            clinic.proposals.put_back(proposal)
            raise ApiError(422, RefusalCode.INVALID, "the change overrides soft limits: confirm "
                           "the override again (override_confirmed)", "override_confirmed")
        plan = plan.with_override_confirmed()
    implant = await implant_of(clinic, actor, proposal.patient_id, proposal.implant_id)
    return await send_therapy(clinic, actor, implant, plan, proposal.replaces,
                              proposal.library_version_id or clinic.library_version_id, reason)


async def confirm_refill_change(clinic: Clinic, actor: Actor, proposal_id: str,
                                accept_mismatch: bool, lot: str) -> Refill:
    """Send a planned refill and record it with its lot; a volume mismatch must be accepted
    (refused, the proposal kept, otherwise). The lot is checked before anything is sent."""
    lot = lot_of(lot)
    proposal = clinic.proposals.take(proposal_id, RefillChange, actor.username,
                                     clinic.db.now())
    change = proposal.plan
    assert isinstance(change, RefillChange)
    if change.mismatch and not accept_mismatch:
        clinic.proposals.put_back(proposal)
        raise ApiError(422, RefusalCode.INVALID, "expected and withdrawn volumes do not match: "
                       "fill anyway only with accept_mismatch", "accept_mismatch")
    implant = await implant_of(clinic, actor, proposal.patient_id, proposal.implant_id)
    return await send_refill(clinic, actor, implant, change, lot, clinic.today())
