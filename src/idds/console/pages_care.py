"""Answering what the record raises: acknowledging an alarm (with a reason; the next sync
raises it again while the pump still has the condition, `idds.api.sync`), and deciding a
controller's recommendation (reject with a reason; accept opens the programming workflow
with the recommendation's settings, and is recorded when that change is sent)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from idds.api.clinic import clinic_of
from idds.console.forms import FieldErrors
from idds.console.render import page
from idds.console.session import posted, text
from idds.store import Action
from idds.store.alarms import acknowledge
from idds.store.decisions import RecommendationDecision, decide
from idds.store.model import Alarm, RecommendationRecord
from idds.store.patients import patient_row

router = APIRouter()


def _number(form_value: str, field: str, errors: FieldErrors) -> int:
    try:
        return int(form_value)
    except ValueError:
        errors.add(field, f"{field} must be a whole number")
        return 0


@router.post("/alarms/{alarm_id}/acknowledge")
async def acknowledge_alarm(request: Request, alarm_id: int) -> Response:
    session, form = await posted(request, Action.ACKNOWLEDGE_ALARM)
    db = clinic_of(request).db
    reason = text(form, "reason")
    errors = FieldErrors()
    version = _number(text(form, "expected_version"), "expected_version", errors)
    if not reason:
        errors.add("reason", "reason: say what was done about the alarm")
    alarm = await run_in_threadpool(patient_row, db, session.actor, Alarm, alarm_id)
    if errors:
        return page(request, "error.html", session, 422, status_code=422,
                    message=errors.summary(), back=f"/patients/{alarm.patient_id}#alarms")
    await run_in_threadpool(acknowledge, db, session.actor, alarm_id, version, reason)
    return RedirectResponse(f"/patients/{alarm.patient_id}#alarms", status_code=303)


@router.post("/recommendations/{recommendation_id}/reject")
async def reject(request: Request, recommendation_id: int) -> Response:
    session, form = await posted(request, Action.DECIDE_RECOMMENDATION)
    db = clinic_of(request).db
    row = await run_in_threadpool(patient_row, db, session.actor, RecommendationRecord,
                                  recommendation_id)
    reason = text(form, "reason")
    if not reason:
        return page(request, "error.html", session, 422, status_code=422,
                    message="reason: say why the recommendation is rejected",
                    back=f"/patients/{row.patient_id}#advice")
    await run_in_threadpool(decide, db, session.actor, recommendation_id, row.version,
                            RecommendationDecision.REJECTED, reason, None)
    return RedirectResponse(f"/patients/{row.patient_id}#advice", status_code=303)
