"""The clinic dashboard: every patient in one table, triaged (`idds.console.triage`), with a
search over name and identifier and a filter by concern; the table refreshes itself when an
alarm is raised or acknowledged (server-sent events, `idds.console.events`). A patient who
logs in sees their own page instead."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from idds.api.clinic import clinic_of
from idds.console.render import page
from idds.console.session import page_session, posted, text
from idds.console.triage import (
    CONTROLLED_NRS,
    REFILL_SOON,
    STALE_AFTER,
    Concern,
    Triaged,
    triage,
)
from idds.store import PERMISSIONS, Action
from idds.store.overview import PAIN_WINDOW, clinic_overview, record_review

router = APIRouter()

#: The filter's choices: its value in the address, and the concern it keeps.
FILTERS = {"alarm": Concern.ALARM, "refill": Concern.REFILL_DUE,
           "pain": Concern.PAIN_UNCONTROLLED, "stale": Concern.STALE_DATA}


def _rows(request: Request) -> tuple[list[Triaged], str, str]:
    clinic = clinic_of(request)
    session = page_session(request)
    now = clinic.db.now()
    rows = triage(clinic_overview(clinic.db, session.actor, now - PAIN_WINDOW), now)
    q = request.query_params.get("q", "").strip()
    concern = request.query_params.get("concern", "")
    if q:
        rows = [r for r in rows if q.casefold() in r.overview.patient.name.casefold()
                or q.casefold() in r.overview.patient.identifier.casefold()]
    if concern in FILTERS:
        rows = [r for r in rows if any(f.concern is FILTERS[concern] for f in r.flags)]
    return rows, q, concern


@router.get("/")
async def dashboard(request: Request) -> Response:
    session = page_session(request)
    if session.actor.patient_id is not None:
        return RedirectResponse(f"/patients/{session.actor.patient_id}", status_code=303)
    if session.actor.role not in PERMISSIONS[Action.READ_RECORD]:  # admins, researchers
        return page(request, "role.html", session)
    rows, q, concern = await run_in_threadpool(_rows, request)
    return page(request, "dashboard.html", session, rows=rows, q=q, concern=concern,
                filters=FILTERS, now=clinic_of(request).db.now(),
                soon_days=REFILL_SOON.days, controlled=CONTROLLED_NRS,
                window_days=PAIN_WINDOW.days, stale_hours=int(STALE_AFTER.total_seconds()
                                                             // 3600))


@router.get("/dashboard/rows")
async def dashboard_rows(request: Request) -> Response:
    """The table's body alone (htmx swaps it in on search, filter and alarm events)."""
    session = page_session(request)
    rows, _q, _concern = await run_in_threadpool(_rows, request)
    return page(request, "dashboard_rows.html", session, rows=rows)


@router.post("/patients/{patient_id}/review")
async def review(request: Request, patient_id: int) -> Response:
    """Mark the patient reviewed now (audited), with an optional note."""
    session, form = await posted(request, Action.REVIEW_PATIENT)
    await run_in_threadpool(record_review, clinic_of(request).db, session.actor, patient_id,
                            text(form, "note"))
    return RedirectResponse(f"/patients/{patient_id}", status_code=303)
