"""The patient page (`idds.console.patientview`) and syncing the patient's pump from it."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from idds.api.clinic import clinic_of
from idds.api.linked import implant_of
from idds.api.sync import sync_implant
from idds.console import charts
from idds.console.patientview import TYPICAL_DAY_TITLE, patient_page
from idds.console.render import page
from idds.console.session import page_session, posted
from idds.store import PERMISSIONS, Action

router = APIRouter()

HOURS = tuple(f"{h:02d}" for h in range(24))


@router.get("/patients/{patient_id}")
async def patient(request: Request, patient_id: int) -> Response:
    session = page_session(request)
    clinic = clinic_of(request)
    view = await run_in_threadpool(patient_page, clinic.db, session.actor, patient_id,
                                   clinic.db.now())
    bolus_charts = [charts.counts_svg(
        [("given", "given", p.use.given), ("refused", "refused", p.use.refused)], HOURS,
        f"Patient boluses by hour of the pump's clock, pump {p.implant.pump_serial}",
        "boluses") for p in view.pumps]
    role = session.actor.role
    return page(request, "patient.html", session, view=view, bolus_charts=bolus_charts,
                day_chart=charts.bands_svg(view.diary_day, TYPICAL_DAY_TITLE),
                week_chart=charts.bands_svg(view.diary_weeks, "Pain by week"),
                may_program=role in PERMISSIONS[Action.PROPOSE_THERAPY],
                may_sync=role in PERMISSIONS[Action.IMPORT_PUMP_LOG],
                may_refill=role in PERMISSIONS[Action.RECORD_REFILL],
                may_acknowledge=role in PERMISSIONS[Action.ACKNOWLEDGE_ALARM],
                may_decide=role in PERMISSIONS[Action.DECIDE_RECOMMENDATION],
                may_review=role in PERMISSIONS[Action.REVIEW_PATIENT])


@router.post("/patients/{patient_id}/implants/{implant_id}/sync")
async def sync(request: Request, patient_id: int, implant_id: int) -> Response:
    """Interrogate the pump and store its log, reading and alarms now."""
    session, _form = await posted(request, Action.IMPORT_PUMP_LOG)
    clinic = clinic_of(request)
    await sync_implant(clinic, session.actor,
                       await implant_of(clinic, session.actor, patient_id, implant_id))
    return RedirectResponse(f"/patients/{patient_id}", status_code=303)
