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
from dataclasses import dataclass, replace
from typing import Any

from idds.control.advice import Advice, advise
from idds.control.bounds import ClinicianBounds, LibraryLimits
from idds.control.intelligent import IntelligentController, IntelligentState
from idds.control.interlock import assess
from idds.control.interlock import describe as describe_signals
from idds.control.observations import Observations
from idds.control.recommendation import Recommendation
from idds.control.rules import PRACTICE, RuleBasedController
from idds.control.supervisor import Check, describe, supervise
from idds.drugs import DrugLibrary
from idds.programmer.advisory.clinical import ClinicalInput
from idds.programmer.advisory.common import DAY_S, DRUG, AdvisoryError
from idds.programmer.advisory.history import pump_history
from idds.programmer.advisory.inputs import build_observations, supervisor_state
from idds.programmer.advisory.state import catch_up, state_record
from idds.programmer.api import LogDownload
from idds.programmer.status import PumpStatus
from idds.programmer.therapyform import to_prescription, to_pump_therapy
from idds.pump import LIMITS, Therapy
from idds.pump.convert import conc_ng_per_nl, dose_rate_q

CONTROLLERS = ("intelligent", "rule-based")

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

    @property
    def changes(self) -> bool:
        """Whether acceptance would change the pump's program."""
        return self.proposed != self.current


def _controller(name: str, bounds: ClinicianBounds, library: LibraryLimits
                ) -> IntelligentController | RuleBasedController:
    step = bounds.max_increase_per_day
    if library.max_increase_fraction is not None and not bounds.allows(
            library.max_increase_fraction):
        step = min(step, library.max_increase_fraction.value)
    if name == "intelligent":
        return IntelligentController(max_step=step, max_bolus_mg=bounds.max_bolus_mg,
                                     max_boluses_per_day=bounds.max_boluses_per_day,
                                     min_daily_mg=bounds.min_daily_mg,
                                     min_rate_mg_per_day=bounds.min_rate_mg_per_day)
    if name == "rule-based":
        return RuleBasedController(titration=replace(PRACTICE, increase=step),
                                   min_daily_mg=bounds.min_daily_mg)
    raise AdvisoryError(f"unknown controller {name!r}; use intelligent or rule-based")


def pump_day(status: PumpStatus) -> int:
    """The pump's day number (pump time // 1 day), the controllers' day index."""
    time_s = status.raw.get("time_s")
    if isinstance(time_s, bool) or not isinstance(time_s, int | float):
        raise AdvisoryError("the pump's answer has no time")
    return int(float(time_s) // DAY_S)


def check_controller(name: str) -> None:
    if name not in CONTROLLERS:
        raise AdvisoryError(f"unknown controller {name!r}; use intelligent or rule-based")


def prepare(status: PumpStatus, log: LogDownload, clinical: ClinicalInput, controller: str,
            library: DrugLibrary, now: dt.datetime, carried: Any | None) -> AdvisoryRun:
    """Observations -> controller -> supervisor -> advice (pure; nothing is sent)."""
    check_controller(controller)
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
    limits = LibraryLimits.from_drug(library.drug(DRUG))
    current = to_prescription(status.therapy, clinical.oral_mg_per_day, clinical.oral_rescue_mg)
    pump_day(status)
    history = pump_history(log.entries, float(status.raw["time_s"]),
                           float(current.it_mg_per_day[0]))
    obs, notes = build_observations(clinical, history, now)
    ctl = _controller(controller, bounds, limits)
    raw: Any = carried if carried is not None else ctl.initial(current)
    if isinstance(raw, IntelligentState) != isinstance(ctl, IntelligentController):
        raise AdvisoryError("the carried state is not the chosen controller's")
    saved_day = int(getattr(getattr(raw, "daily", raw), "day", obs.day - 1))
    model = ctl.model if isinstance(ctl, IntelligentController) else None
    start = catch_up(raw, obs.day - saved_day, model)
    rec: Recommendation
    rec, after = ctl.recommend(start, obs, current)
    decision, _ = supervise(supervisor_state(history, current), obs, current, rec, bounds,
                            limits)
    advice = advise(rec, decision, current, 0, obs.day)
    mask = int(decision.checks[0])
    checks = tuple((CHECK_LABELS.get(flag, str(flag.name)), bool(mask & flag), _check_text(flag))
                   for flag in Check if flag is not Check.NONE)
    reading = assess(obs, bounds.interlock)
    return AdvisoryRun(
        status=status, controller=controller, advice=advice, observations=obs,
        data_notes=notes, interlock=tuple(describe_signals(int(reading.signals[0]))),
        checks=checks, current=status.therapy,
        proposed=to_pump_therapy(advice.allowed, status.therapy),
        state=state_record(status.pump_id, controller, obs.day, now.isoformat(), raw, after),
        resumed=carried is not None,
    )


#: What each supervisor check looks at, for the "checks applied" list.
CHECK_LABELS = {
    Check.INVALID: "recommendation well formed",
    Check.HARD_LIMIT: "drug library hard limits",
    Check.SOFT_LIMIT: "drug library soft limits",
    Check.CLINICIAN_BOUND: "clinician's bounds",
    Check.MAX_INCREASE_DAY: "increase per change",
    Check.MAX_INCREASE_WEEK: "increase over the week's lowest dose",
    Check.MAX_DECREASE_DAY: "decrease per day",
    Check.MONITORING_WINDOW: "monitoring window after the last increase (pump log)",
    Check.STALE_DIARY: "diary recent and complete",
    Check.INTERLOCK_WARNING: "interlock: sedation and breathing",
    Check.ALARM_NEW: "interlock alarm",
    Check.ALARM_LATCHED: "latched alarm",
    Check.FLEX_BOUND: "flex multipliers within the clinician's range",
    Check.RESTART: "pump running (a restart is the clinician's)",
}


def _check_text(flag: Check) -> str:
    texts = describe(int(flag))
    return texts[0] if texts else ""


