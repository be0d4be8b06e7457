"""One advice: observations -> controller -> safety supervisor -> advice (pure; nothing sent).

`prepare` builds the one-patient `Observations` from the clinician's entries and the pump's log,
runs the chosen controller (from the control layer's registry, with the drug library's
conversion policy) and the supervisor, and returns an `AdvisoryRun`: the `Advice`, the therapy
acceptance would program (the supervisor's, never more), the data used and what was missing,
and the controller state to carry to the next visit.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any

from idds.control.advice import Advice, advise
from idds.control.beliefs import Explanation
from idds.control.bounds import ClinicianBounds
from idds.control.intelligent import IntelligentController, IntelligentState
from idds.control.interlock import assess
from idds.control.interlock import describe as describe_signals
from idds.control.observations import Observations
from idds.control.prescription import Prescription
from idds.control.recommendation import Recommendation
from idds.control.registry import (
    ControllerSettings,
    UnknownController,
    build_controller,
    require,
    settings_for,
)
from idds.control.supervisor import Check, supervise
from idds.drugs import DrugLibrary
from idds.programmer.advisory.clinical import ClinicalInput
from idds.programmer.advisory.common import DAY_S, DRUG, AdvisoryError
from idds.programmer.advisory.history import PumpHistory, pump_history
from idds.programmer.advisory.inputs import build_observations, supervisor_state
from idds.programmer.advisory.state import catch_up, state_record
from idds.programmer.api import LogDownload
from idds.programmer.status import PumpStatus
from idds.programmer.therapyform import to_prescription, to_pump_therapy
from idds.pump import LIMITS, Therapy
from idds.pump.convert import conc_ng_per_nl, dose_rate_q


@dataclass(frozen=True)
class AdvisoryRun:
    """One advice for the pump's patient, and everything needed to show, accept or log it."""

    status: PumpStatus
    controller: str
    advice: Advice
    observations: Observations
    data_notes: tuple[str, ...]
    interlock: tuple[str, ...]
    checks: tuple[tuple[str, bool, str], ...]
    current: Therapy
    proposed: Therapy
    state: dict[str, Any]
    resumed: bool
    #: What the controller believes and predicts (None: a controller without an estimate).
    explanation: Explanation | None = None

    @property
    def changes(self) -> bool:
        """Whether acceptance would change the pump's program."""
        return self.proposed != self.current


def pump_day(status: PumpStatus) -> int:
    """The pump's day number (pump time // 1 day), the controllers' day index."""
    time_s = status.raw.get("time_s")
    if isinstance(time_s, bool) or not isinstance(time_s, int | float):
        raise AdvisoryError("the pump's answer has no time")
    return int(float(time_s) // DAY_S)


def check_controller(name: str) -> None:
    """Refuse (`AdvisoryError`, naming the choices) a controller the registry does not know."""
    try:
        require(name)
    except UnknownController as exc:
        raise AdvisoryError(str(exc)) from None


@dataclass(frozen=True)
class Setup:
    """What every use of the controller on one pump starts from: the settings and bounds,
    the program in force as a prescription, the log's history and today's observations."""

    settings: ControllerSettings
    bounds: ClinicianBounds
    current: Prescription
    history: PumpHistory
    observations: Observations
    notes: tuple[str, ...]


def setup(status: PumpStatus, log: LogDownload, clinical: ClinicalInput, library: DrugLibrary,
          now: dt.datetime) -> Setup:
    """Check the pump and its log, and build the controller's inputs (pure)."""
    if not log.verified:
        raise AdvisoryError(f"the pump's log does not verify ({log.reason}): no advice from it")
    if status.drug != DRUG or status.concentration is None:
        raise AdvisoryError(f"advisory mode is for intrathecal morphine; the pump holds "
                            f"{status.drug_text}")
    if status.therapy_drug not in (None, DRUG):
        raise AdvisoryError("the pump's therapy is not confirmed for the drug in it: program "
                            "it first")
    min_rate = dose_rate_q(LIMITS.min_flow * conc_ng_per_nl(status.concentration))
    bounds = dataclasses.replace(clinical.bounds,
                                 min_rate_mg_per_day=float(min_rate.value_in("mg/day")))
    settings = settings_for(library.drug(DRUG), bounds)
    current = to_prescription(status.therapy, clinical.oral_mg_per_day, clinical.oral_rescue_mg)
    pump_day(status)
    history = pump_history(log.entries, float(status.raw["time_s"]),
                           float(current.it_mg_per_day[0]))
    obs, notes = build_observations(clinical, history, now)
    return Setup(settings, bounds, current, history, obs, tuple(notes))


def prepare(status: PumpStatus, log: LogDownload, clinical: ClinicalInput, controller: str,
            library: DrugLibrary, now: dt.datetime, carried: Any | None) -> AdvisoryRun:
    """Observations -> controller -> supervisor -> advice (pure; nothing is sent)."""
    check_controller(controller)
    s = setup(status, log, clinical, library, now)
    settings, bounds, current, history, obs, notes = (s.settings, s.bounds, s.current,
                                                      s.history, s.observations, s.notes)
    ctl = build_controller(controller, settings)
    raw: Any = carried if carried is not None else ctl.initial(current)
    if isinstance(raw, IntelligentState) != isinstance(ctl, IntelligentController):
        raise AdvisoryError("the carried state is not the chosen controller's")
    saved_day = int(getattr(getattr(raw, "daily", raw), "day", obs.day - 1))
    start = catch_up(raw, obs.day - saved_day, ctl)
    rec: Recommendation
    rec, after = ctl.recommend(start, obs, current)
    decision, _ = supervise(supervisor_state(history, current), obs, current, rec, bounds,
                            settings.library)
    advice = advise(rec, decision, current, 0, obs.day)
    explanation = (ctl.explain(after, obs, current, decision.therapy)[0]
                   if isinstance(ctl, IntelligentController) else None)
    mask = int(decision.checks[0])
    checks = tuple((flag.label, bool(mask & flag), flag.text) for flag in Check)
    reading = assess(obs, bounds.interlock)
    return AdvisoryRun(
        status=status, controller=controller, advice=advice, observations=obs,
        data_notes=notes, interlock=tuple(describe_signals(int(reading.signals[0]))),
        checks=checks, current=status.therapy,
        proposed=to_pump_therapy(advice.allowed, status.therapy),
        state=state_record(status.pump_id, controller, obs.day, now.isoformat(), raw, after),
        resumed=carried is not None, explanation=explanation,
    )
