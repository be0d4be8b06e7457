"""The intelligent controller's advice for a patient: the pump is interrogated and its log
read, the controller (behind the unchanged safety supervisor) runs on the record's diary and
respiratory rates (`idds.console.estimate`), and its recommendation is recorded with its
reasons, what it believes about the patient and what it predicts. The clinician then accepts
it (the programming workflow opens filled with it: the drug library's checks, the Finish
screen and the password again, like any change) or rejects it with a reason; both are
audited (`idds.store.decisions`)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from idds.api.clinic import clinic_of
from idds.api.linked import implant_of, same_pump, talking_to
from idds.console.estimate import clinical_input
from idds.console.session import posted
from idds.programmer.advisory.run import AdvisoryRun, prepare
from idds.programmer.entry import fields_of
from idds.store import Action
from idds.store.decisions import record_recommendation

router = APIRouter()
#: The controller the console asks (`idds.control.registry`).
CONTROLLER = "intelligent"


def reasons_of(run: AdvisoryRun) -> list[str]:
    """What the recommendation says for itself: the controller's reason, the supervisor's
    verdict and limits, the beliefs and forecasts, and what data was missing."""
    a = run.advice
    lines = [a.reason_text, f"Safety supervisor: {a.verdict.name.lower().replace('_', ' ')}"]
    lines += [f"Limit applied: {limit}" for limit in a.limits]
    if run.explanation is not None:
        lines += run.explanation.lines()
    lines += [f"Data: {note}" for note in run.data_notes]
    if not run.changes:
        lines.append("No change to the program in force is recommended.")
    return lines


@router.post("/patients/{patient_id}/implants/{implant_id}/advice")
async def ask(request: Request, patient_id: int, implant_id: int) -> Response:
    """Ask the controller now (reads the pump; changes nothing on it)."""
    session, _form = await posted(request, Action.RECORD_RECOMMENDATION)
    clinic = clinic_of(request)
    implant = await implant_of(clinic, session.actor, patient_id, implant_id)
    clinical = await run_in_threadpool(clinical_input, clinic.db, session.actor, patient_id)
    async with talking_to(clinic, implant) as programmer:
        status = same_pump(implant, await programmer.interrogate())
        log = await programmer.read_log()
    run = await run_in_threadpool(prepare, status, log, clinical, CONTROLLER, clinic.library,
                                  clinic.db.now(), None)  # numpy work: off the event loop
    await run_in_threadpool(record_recommendation, clinic.db, session.actor, patient_id,
                            CONTROLLER, fields_of(run.proposed), reasons_of(run))
    return RedirectResponse(f"/patients/{patient_id}#advice", status_code=303)
