"""The advise workflow of one clinic visit, for the CLI and the console alike.

`open_visit` interrogates the pump and reads its whole log (reads only), loads the carried
controller state, prepares the advice and saves the updated state; `close_visit` records the
clinician's choice: SHOW (logged as shown, nothing sent), REJECT with a reason (nothing sent) or
ACCEPT (the allowed therapy through the normal programming path; `finish` shows the finish
screen and confirms, or raises to send nothing). `VisitReport.as_json` is the outcome as data.
The caller passes the visit time: nothing here reads a clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from idds.control.advice import ClinicianDecision
from idds.drugs import DrugLibrary
from idds.programmer.advisory.clinical import ClinicalInput
from idds.programmer.advisory.common import AdvisoryError
from idds.programmer.advisory.decision import (
    AcceptOutcome,
    accept_advice,
    gather,
    log_decision,
    reject_advice,
)
from idds.programmer.advisory.rows import advice_summary
from idds.programmer.advisory.run import AdvisoryRun, check_controller, prepare, pump_day
from idds.programmer.advisory.state import load_state, save_state, state_path
from idds.programmer.api import Programmer
from idds.programmer.plans import TherapyPlan


class Choice(Enum):
    """What the clinician does with the advice."""

    SHOW = "shown"
    ACCEPT = "accepted"
    REJECT = "rejected"


@dataclass(frozen=True)
class VisitRequest:
    """One visit's inputs: the clinician's entries, the controller, who decides and when.

    device_path: the programmer directory (carried states live under it); device_id: this
    programmer's id (logged with the decision); now: the visit time (aware).
    """

    clinical: ClinicalInput
    controller: str
    clinician: str
    now: dt.datetime
    device_path: Path
    device_id: str

    @property
    def at(self) -> str:
        return self.now.isoformat(timespec="seconds")


@dataclass(frozen=True)
class OpenVisit:
    """The prepared advice and where its controller state came from and went."""

    request: VisitRequest
    run: AdvisoryRun
    state_source: Path
    state_saved: Path

    @property
    def state_note(self) -> str:
        origin = f"resumed from {self.state_source}" if self.run.resumed else "new"
        return f"Controller state: {origin}; updated state saved to {self.state_saved}"


@dataclass(frozen=True)
class VisitReport:
    """What the visit did: the advice, the decision (None: shown only) and what was sent."""

    visit: OpenVisit
    choice: Choice
    decision: ClinicianDecision | None
    accepted: AcceptOutcome | None = None

    @property
    def sent(self) -> bool:
        return self.accepted is not None and self.accepted.result is not None

    def as_json(self) -> dict[str, Any]:
        run = self.visit.run
        out: dict[str, Any] = {
            "advice": advice_summary(run),
            "state_file": str(self.visit.state_saved),
            "checks": [{"check": n, "applied": h, "text": t} for n, h, t in run.checks],
            "decision": None,
        }
        if self.decision is None:
            return out
        out["decision"] = {"outcome": self.choice.value, "clinician": self.decision.clinician,
                           "at": self.decision.at}
        if self.choice is Choice.REJECT:
            out["decision"]["reason"] = self.decision.note
        out["decision"]["sent"] = self.sent
        if self.accepted is not None and self.accepted.plan is not None:
            out["finish"] = self.accepted.plan.as_json()
            out["result"] = self.accepted.result
        return out


async def open_visit(prog: Programmer, request: VisitRequest,
                     library: DrugLibrary) -> OpenVisit:
    """Read the pump, load the carried state, prepare the advice, save the new state."""
    check_controller(request.controller)
    status, log = await gather(prog)
    saved = state_path(request.device_path, status.pump_id, request.controller)
    source = request.clinical.state_file or saved
    carried = load_state(source, status.pump_id, request.controller, pump_day(status))
    run = prepare(status, log, request.clinical, request.controller, library, request.now,
                  carried)
    save_state(saved, run.state)
    return OpenVisit(request, run, source, saved)


async def close_visit(prog: Programmer, visit: OpenVisit, choice: Choice,
                      reason: str | None = None,
                      finish: Callable[[TherapyPlan], None] | None = None) -> VisitReport:
    """Record the clinician's choice (and, on ACCEPT, program through the normal path)."""
    request, run = visit.request, visit.run
    if choice is Choice.SHOW:
        log_decision(prog, run, None, request.device_id)
        return VisitReport(visit, choice, None)
    if choice is Choice.REJECT:
        if reason is None or not reason.strip():
            raise AdvisoryError("a rejection needs a reason")
        decision = await reject_advice(prog, run, request.clinician, request.at,
                                       request.device_id, reason.strip())
        return VisitReport(visit, choice, decision)
    outcome = await accept_advice(prog, run, request.clinician, request.at, request.device_id,
                                  finish or (lambda plan: None))
    return VisitReport(visit, choice, outcome.decision, outcome)
