"""The refill workflow (ref. the refill form of the MiniMed 3160 manual, the closest published
form, and the Prometra programmer): the volume withdrawn against the volume expected (a
mismatch is warned about: a leaking septum, or drug injected into the pocket), the new drug,
concentration, volume and lot, the pocket-fill and access-port cautions, the new refill date;
confirm -> sent, read back, recorded (`idds.api.planning`); a printable refill record."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from idds.api.clinic import clinic_of
from idds.api.linked import implant_of
from idds.api.planning import confirm_refill_change, plan_refill_change
from idds.console.forms import FieldErrors, errors_of
from idds.console.render import page, refusal_page
from idds.console.session import PageSession, page_session, posted, text
from idds.errors import IddsError
from idds.programmer import RefillChange, RefillRequest
from idds.programmer.entry import EntryError, quantity_of
from idds.store import Action, StoreError, authorize
from idds.store.model import Refill
from idds.store.patients import get_patient, patient_row
from idds.store.refills import lot_of
from idds.units import Kind

router = APIRouter()

FIELDS = ("withdrawn", "volume", "concentration", "drug", "lot")

#: What the refill screen always says (ref. workflow: pocket fill about 1 in 10,000 refills,
#: 8 deaths in 351 reports 1996-2010; injection into the catheter access port instead of the
#: reservoir caused fatal overdoses, ISMP 2004).
CAUTIONS = (
    "Pocket fill: confirm the needle is in the reservoir (the template's centre septum) "
    "before injecting; drug injected into the pocket can be fatal.",
    "Never inject into the catheter access port: that is a direct intrathecal dose.",
)


async def _form(request: Request, session: PageSession, patient_id: int, implant_id: int,
                values: dict[str, str], errors: FieldErrors, status: int = 200) -> Response:
    clinic = clinic_of(request)
    implant = await implant_of(clinic, session.actor, patient_id, implant_id)
    return page(request, "refill.html", session, status, implant=implant,
                patient_id=patient_id, values=values, errors=errors, cautions=CAUTIONS)


@router.get("/patients/{patient_id}/implants/{implant_id}/refill")
async def refill_form(request: Request, patient_id: int, implant_id: int) -> Response:
    session = page_session(request)
    authorize(session.actor, Action.RECORD_REFILL, clinic_of(request).db.now())
    return await _form(request, session, patient_id, implant_id,
                       {"drug": "morphine", "withdrawn": "", "volume": "",
                        "concentration": "", "lot": ""}, FieldErrors())


@router.post("/patients/{patient_id}/implants/{implant_id}/refill")
async def plan(request: Request, patient_id: int, implant_id: int) -> Response:
    """Check the refill: its Finish screen with the expected-against-withdrawn warning."""
    session, form = await posted(request, Action.RECORD_REFILL)
    v = {f: text(form, f) for f in FIELDS}
    try:
        try:
            lot_of(v["lot"])
        except StoreError as exc:
            raise EntryError("lot", str(exc)) from None
        change_request = RefillRequest(
            quantity_of(v["withdrawn"], Kind.VOLUME, "withdrawn"),
            quantity_of(v["volume"], Kind.VOLUME, "volume"),
            quantity_of(v["concentration"], Kind.CONCENTRATION, "concentration"),
            v["drug"] or None, keep_dose=True, bridge=True)
        proposal = await plan_refill_change(clinic_of(request), session.actor, patient_id,
                                            implant_id, change_request)
    except IddsError as exc:
        return await _form(request, session, patient_id, implant_id, v, errors_of(exc), 422)
    change = proposal.plan
    assert isinstance(change, RefillChange)
    return page(request, "refill_finish.html", session, proposal=proposal, change=change,
                patient_id=patient_id, lot=v["lot"], cautions=CAUTIONS)


@router.post("/refills/{proposal_id}/confirm")
async def confirm(request: Request, proposal_id: str) -> Response:
    session, form = await posted(request, Action.RECORD_REFILL)
    try:
        row = await confirm_refill_change(clinic_of(request), session.actor, proposal_id,
                                          form.get("accept_mismatch") == "on",
                                          text(form, "lot"))
    except IddsError as exc:
        return refusal_page(request, session, exc)
    return await _record(request, session, row)


async def _record(request: Request, session: PageSession, row: Refill) -> Response:
    patient = await run_in_threadpool(get_patient, clinic_of(request).db, session.actor,
                                      row.patient_id)
    return page(request, "refill_record.html", session, refill=row, patient=patient)


@router.get("/refills/{refill_id}")
async def refill_record(request: Request, refill_id: int) -> Response:
    """The printable refill record."""
    session = page_session(request)
    row = await run_in_threadpool(patient_row, clinic_of(request).db, session.actor, Refill,
                                  refill_id)
    return await _record(request, session, row)
