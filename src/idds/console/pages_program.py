"""The programming workflow, as the programmers run it (ref. Medtronic A810, Prometra):
enter a change (mode, dose or flex steps, patient-bolus settings) -> the pump is interrogated
and the drug library's checks run (a hard limit blocks, shown beside its field; a soft limit
needs a reason) -> the Finish screen, every setting old beside new -> the password again
(re-authentication) and confirm -> sent over the secure link, read back and compared
(`idds.api.planning`). Nothing changes before the confirm step."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from idds.api.clinic import clinic_of
from idds.api.linked import implant_of
from idds.api.planning import confirm_therapy_change, plan_therapy_change
from idds.console.estimate import clinical_input, stored_log
from idds.console.forms import FieldErrors, errors_of
from idds.console.render import page, refusal_page, whole
from idds.console.session import PageSession, page_session, posted, text
from idds.drugs.overrides import REASON_CODES
from idds.errors import IddsError
from idds.programmer import TherapyPlan, TherapyRequest
from idds.programmer.advisory.whatif import WhatIf, what_if
from idds.programmer.entry import EntryError, TherapyFields, fields_of, therapy_of
from idds.store import Action, authorize
from idds.store.canonical import parse_json
from idds.store.decisions import RecommendationDecision, decide
from idds.store.model import RecommendationRecord, TherapyProgram
from idds.store.patients import patient_row
from idds.store.quantities import concentration_of
from idds.store.sessions import actor_of, reauthenticate
from idds.store.therapy import latest_program, program_therapy
from idds.units import Quantity

router = APIRouter()

#: The therapy form's fields, in order.
FIELDS = ("mode", "dose", "flex", "bolus", "bolus_duration", "lockout", "max_boluses",
          "override_reason", "reason")


def _values(form: FormData | dict[str, object]) -> dict[str, str]:
    values = {f: str(form.get(f) or "").strip() for f in FIELDS}
    values["opioid_tolerant"] = "on" if form.get("opioid_tolerant") == "on" else ""
    return values


def _recommendation(request: Request, session: PageSession, patient_id: int,
                    raw: str | None) -> RecommendationRecord | None:
    """The recommendation a change accepts (None: none): refused unless it is this
    patient's and not decided yet."""
    if not raw:
        return None
    number = whole(raw)
    if number is None:
        raise EntryError("recommendation_id", f"recommendation {raw[:20]!r} is not an id")
    row = patient_row(clinic_of(request).db, session.actor, RecommendationRecord, number)
    if row.patient_id != patient_id:
        raise EntryError("recommendation_id", f"recommendation {number} is another "
                         "patient's")
    if row.decision is not None:
        raise EntryError("recommendation_id", f"recommendation {number} was already "
                         f"{row.decision} by {row.decided_by}")
    return row


async def _form_page(request: Request, session: PageSession, patient_id: int,
                     implant_id: int, values: dict[str, str], errors: FieldErrors,
                     status: int = 200, recommendation_id: str = "") -> Response:
    clinic = clinic_of(request)
    implant = await implant_of(clinic, session.actor, patient_id, implant_id)
    current = await run_in_threadpool(latest_program, clinic.db, session.actor, patient_id,
                                      implant_id)
    return page(request, "program.html", session, status, implant=implant, current=current,
                patient_id=patient_id, values=values, errors=errors,
                recommendation_id=recommendation_id, reason_codes=REASON_CODES)


@router.get("/patients/{patient_id}/implants/{implant_id}/program")
async def program_form(request: Request, patient_id: int, implant_id: int) -> Response:
    """The change form; `?recommendation=ID` fills it from a controller's recommendation."""
    session = page_session(request)
    clinic = clinic_of(request)
    authorize(session.actor, Action.PROPOSE_THERAPY, clinic.db.now())
    current = await run_in_threadpool(latest_program, clinic.db, session.actor, patient_id,
                                      implant_id)
    values = _values(_filled(current))
    rec = request.query_params.get("recommendation")
    row = await run_in_threadpool(_recommendation, request, session, patient_id, rec)
    if row is not None:
        recommended = parse_json(row.recommended)
        if isinstance(recommended, dict):
            values.update({k: str(v) for k, v in recommended.items() if k in FIELDS and v})
        values["reason"] = f"accepted recommendation {row.id} ({row.controller})"
    return await _form_page(request, session, patient_id, implant_id, values, FieldErrors(),
                            recommendation_id=rec or "")


def _filled(current: TherapyProgram | None) -> dict[str, object]:
    """The form filled with the program in force (a weekly flex schedule: left empty)."""
    if current is None:
        return {"mode": "continuous"}
    try:
        return dict(fields_of(program_therapy(current)))
    except EntryError:
        return {"mode": "flex"}


def _therapy_request(drug: str, concentration: Quantity, v: dict[str, str],
                     opioid_tolerant: bool) -> TherapyRequest:
    """The change as typed, for the drug and concentration the pump holds now."""
    try:
        max_boluses = int(v["max_boluses"]) if v["max_boluses"] else None
    except ValueError:
        raise EntryError("max_boluses", "max_boluses: a whole number of boluses per 24 h"
                         ) from None
    therapy = therapy_of(TherapyFields(v["mode"] or "continuous", v["dose"] or None,
                                       v["flex"] or None, v["bolus"] or None,
                                       v["bolus_duration"] or None, v["lockout"] or None,
                                       max_boluses))
    return TherapyRequest(drug, concentration, therapy, v["override_reason"] or None,
                          opioid_tolerant)


@router.post("/patients/{patient_id}/implants/{implant_id}/program")
async def propose(request: Request, patient_id: int, implant_id: int) -> Response:
    """Check the change and show its Finish screen (or the form again, the refusals beside
    their fields)."""
    session, form = await posted(request, Action.PROPOSE_THERAPY)
    clinic = clinic_of(request)
    v = _values(form)
    rec = text(form, "recommendation_id")
    try:
        await run_in_threadpool(_recommendation, request, session, patient_id, rec)
        current = await run_in_threadpool(latest_program, clinic.db, session.actor,
                                          patient_id, implant_id)
        if current is None:
            raise EntryError("", "the pump has no program recorded: refill and program it "
                             "with the programmer first")
        request_ = _therapy_request(
            current.drug, concentration_of(current.concentration_num,
                                           current.concentration_den),
            v, form.get("opioid_tolerant") == "on")
        if not v["reason"]:
            raise EntryError("reason", "reason: say why the therapy is changed")
        proposal = await plan_therapy_change(clinic, session.actor, patient_id, implant_id,
                                             request_)
    except IddsError as exc:
        return await _form_page(request, session, patient_id, implant_id, v,
                                errors_of(exc, v["mode"]), 422, rec)
    plan = proposal.plan
    assert isinstance(plan, TherapyPlan)
    outlook, no_outlook = await run_in_threadpool(_outlook, request, session, patient_id,
                                                  implant_id, plan)
    due = plan.status.refill_due_in_days
    return page(request, "finish.html", session, proposal=proposal, plan=plan,
                patient_id=patient_id, reason=v["reason"], recommendation_id=rec,
                errors=FieldErrors(), outlook=outlook, no_outlook=no_outlook,
                refill_now=None if due is None else clinic.today() + timedelta(days=due))


def _outlook(request: Request, session: PageSession, patient_id: int, implant_id: int,
             plan: TherapyPlan) -> tuple[WhatIf | None, str]:
    """The what-if of the plan from the patient's own estimate, or why there is none."""
    clinic = clinic_of(request)
    try:
        return what_if(plan.status, stored_log(clinic.db, session.actor, patient_id, implant_id),
                       clinical_input(clinic.db, session.actor, patient_id), clinic.library,
                       clinic.db.now(), plan.request.therapy), ""
    except IddsError as exc:
        return None, str(exc)


@router.post("/programs/{proposal_id}/confirm")
async def confirm(request: Request, proposal_id: str) -> Response:
    """The password again, then send, read back and record."""
    session, form = await posted(request, Action.PROPOSE_THERAPY)
    clinic = clinic_of(request)
    password = form.get("password")
    try:
        await run_in_threadpool(reauthenticate, clinic.db, session.token,
                                password if isinstance(password, str) else "")
    except IddsError as exc:
        return page(request, "error.html", session, 403, status_code=403,
                    message=f"password: {exc}; nothing was sent (go back and enter it again)")
    actor = await run_in_threadpool(actor_of, clinic.db, session.token)
    fresh = replace(session, actor=actor)
    reason = text(form, "reason")
    try:  # everything refused before the pump is touched
        pending = clinic.proposals.peek(proposal_id)
        accepted = await run_in_threadpool(_recommendation, request, fresh,
                                           pending.patient_id, text(form, "recommendation_id"))
        row, status = await confirm_therapy_change(
            clinic, actor, proposal_id, form.get("override_confirmed") == "on", reason)
    except IddsError as exc:
        return refusal_page(request, fresh, exc)
    warning = ""
    if accepted is not None:  # the pump runs it now: a refusal here is a warning, not undone
        try:
            await run_in_threadpool(decide, clinic.db, actor, accepted.id, accepted.version,
                                    RecommendationDecision.ACCEPTED, reason, row.id)
        except IddsError as exc:
            warning = (f"the change was sent and recorded, but recommendation {accepted.id} "
                       f"was not marked accepted: {exc}")
    return page(request, "sent.html", fresh, program=row, read_back=status.therapy_text,
                patient_id=row.patient_id, warning=warning)
