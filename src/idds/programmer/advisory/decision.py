"""The clinician's decision on an advice: accept (program what the supervisor allowed through
the normal path: library checks, finish screen, confirm, send) or reject with a reason (nothing
is sent). Either way the decision is appended to the programmer's device log and annotated in
the pump's own log.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from idds.control.advice import ClinicianDecision, accept, reject
from idds.errors import IddsError
from idds.programmer.advisory.common import DRUG
from idds.programmer.advisory.rows import advice_summary
from idds.programmer.advisory.run import AdvisoryRun
from idds.programmer.api import LogDownload, Programmer
from idds.programmer.plans import TherapyPlan, TherapyRequest
from idds.programmer.status import PumpStatus


def log_decision(prog: Programmer, run: AdvisoryRun, decision: ClinicianDecision | None,
                 device: str, **extra: Any) -> dict[str, Any]:
    """Append the "advice" entry (outcome shown / accepted / rejected) to the device log."""
    summary = advice_summary(run)
    return prog.log.append(
        "advice",
        outcome=decision.outcome.value if decision else "shown",
        clinician=decision.clinician if decision else None,
        device=device,
        decided_at=decision.at if decision else None,
        reason=(decision.note or None) if decision else None,
        pump=run.status.pump_id,
        controller=run.controller,
        recommendation=summary["recommended"],
        allowed=summary["allowed"],
        advice_reason=run.advice.reason_text,
        verdict=summary["verdict"],
        limits=summary["limits"],
        predicted_nrs=summary["predicted_nrs"],
        explanation=summary["explanation"],
        program=summary["program"],
        **extra,
    )


@dataclass(frozen=True)
class AcceptOutcome:
    """What acceptance did: the finish plan and the pump's answer (None: nothing to send)."""

    decision: ClinicianDecision
    plan: TherapyPlan | None
    result: dict[str, Any] | None


async def gather(prog: Programmer) -> tuple[PumpStatus, LogDownload]:
    """Interrogate and read the whole log (reads only)."""
    status = await prog.interrogate()
    return status, await prog.read_log()


async def accept_advice(prog: Programmer, run: AdvisoryRun, clinician: str, at: str,
                        device: str, finish: Callable[[TherapyPlan], None]) -> AcceptOutcome:
    """Accept: program what the supervisor allowed through the normal path (library checks,
    finish screen, `finish` shows it and confirms or raises). Logged either way."""
    decision = accept(run.advice, clinician, at)
    if not run.changes:
        log_decision(prog, run, decision, device, programmed=False,
                     note="the advice keeps the current program: nothing to send")
        await record_on_pump(prog, run, decision, device)
        return AcceptOutcome(decision, None, None)
    conc = run.status.concentration
    assert conc is not None  # checked in prepare
    request = TherapyRequest(DRUG, conc, run.proposed)
    try:
        plan = await prog.plan_therapy(request)
        finish(plan)
        result = await prog.send_therapy(plan)
    except IddsError as exc:
        log_decision(prog, run, decision, device, programmed=False, refused=str(exc))
        raise
    log_decision(prog, run, decision, device, programmed=True, pump_result=dict(result))
    await record_on_pump(prog, run, decision, device)
    return AcceptOutcome(decision, plan, dict(result))


async def reject_advice(prog: Programmer, run: AdvisoryRun, clinician: str, at: str,
                        device: str, reason: str) -> ClinicianDecision:
    """Reject with a reason: no therapy is sent; the rejection is logged on both sides."""
    decision = reject(run.advice, clinician, at, reason)
    log_decision(prog, run, decision, device, programmed=False)
    await record_on_pump(prog, run, decision, device)
    return decision


async def record_on_pump(prog: Programmer, run: AdvisoryRun, decision: ClinicianDecision,
                         device: str) -> None:
    """The decision in the pump's own log too (an annotation: it changes nothing there)."""
    summary = advice_summary(run)
    advice = (f"{run.controller}: {summary['reason']}; verdict {summary['verdict']}; "
              f"program {summary['program']}")
    await prog.record_advice(decision.outcome.value, decision.clinician, device, advice,
                             decision.note or None)
