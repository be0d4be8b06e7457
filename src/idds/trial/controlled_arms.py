"""Closed-loop arms: a controller behind the safety supervisor, deciding every day.

`it-intelligent` (the estimating controller of `idds.control.intelligent`), `oracle` (the
evaluation-only controller that reads the virtual patients' hidden parameters) and
`it-rule-based` (daily rule-based titration) and `it-daily-target` (treat-to-target with daily
steps, `idds.control.target`) share the implant, conversion, systemic taper and
refill conventions of `it-standard` (its `start` and taper schedule are reused). Each evening
the arm applies the taper, lets a simulated clinician act where one is needed, runs one
bounded closed-loop step (`idds.control.loop`) and returns the supervisor's therapy.

Clinic visits are counted only where a clinician is needed: resetting a latched alarm (once
yesterday's readings are clear again; a stopped pump is restarted at half the dose before the
alarm, assumption, and so is the systemic opioid still being tapered: after the days without
opioid the patient's tolerance has fallen, and resuming the taper's full oral dose beside the
pump caused respiratory depression on restart, issue 20) and reviewing a hold for
out-of-bounds recommendations (at most one review a week per patient; the simulated clinician
keeps the bounds).

Each run's loop state (controller estimates, latched alarms) travels as the arm's memory in
`Decision.memory` (`ClosedLoopMemory`), created at the first decision from the start therapy
and replaced, never changed, at each decision. The systemic taper is `it-standard`'s `Taper`
(`idds.trial.taper`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from idds.control import Observations
from idds.control.bounds import ClinicianBounds, LibraryLimits, per_change_step
from idds.control.controller import Controller
from idds.control.intelligent import IntelligentController
from idds.control.interlock import Level, assess
from idds.control.loop import LoopState, closed_loop_step, start_loop
from idds.control.oracle import OracleController
from idds.control.prescription import Prescription
from idds.control.reasons import Reason
from idds.control.registry import build_controller, settings_for
from idds.control.supervisor import Check, Verdict, reset_alarm
from idds.control.target import TREAT_TO_TARGET, DailyTargetController
from idds.pump.twin import MIN_FLOW_ML_PER_DAY
from idds.trial.arms import ArmContext, Decision, StandardIntrathecal, from_control
from idds.trial.calibration import ControllerCheck, checked_today

IntArray = NDArray[np.int64]
Array = NDArray[np.float64]

#: Days between two reviews of held recommendations for one patient.
HOLD_REVIEW_DAYS = 7
#: Share of the pre-alarm dose a clinician restarts a stopped pump at (assumption).
RESTART_FRACTION = 0.5
#: The supervisor's checks counted per run: no check at all (NONE), then every flag.
COUNTED_CHECKS = (Check.NONE, *Check)


@dataclass(frozen=True)
class ClosedLoopMemory:
    """A closed-loop arm's memory between decisions (`Decision.memory`), replaced whole at each
    decision: the run's context, bounds and controller; the loop state (controller estimates,
    supervisor memory); per patient the day of the last review of a held recommendation (days,
    -inf: none); who keeps an oral rescue after the taper; verdict and check counts so far."""

    context: ArmContext
    bounds: ClinicianBounds
    library: LibraryLimits
    controller: Controller[Any]
    loop: LoopState[Any]
    last_review_day: Array
    #: Who keeps an oral rescue after the systemic taper (`Taper`).
    taper_keep: NDArray[np.bool_]
    #: Share of the taper's systemic opioid each patient takes: `RESTART_FRACTION` per restart
    #: after an alarm stop (1: none).
    systemic_scale: Array
    verdicts: IntArray
    checks: IntArray


def _reasons(ctl: IntArray, verdict: IntArray, checks: IntArray, taper: IntArray) -> IntArray:
    """The arm's `Reason` per patient from the controller's reasons and the verdicts; `taper`
    is the taper review's reason per patient (`Reason.NO_VISIT` where it changed nothing)."""
    mapped = from_control(ctl, Reason.NO_VISIT)  # NO_VISIT: no trial reason of its own
    stale = (checks & int(Check.STALE_DIARY)) != 0
    blocked = (verdict == Verdict.REFUSED) | (verdict == Verdict.HELD_FOR_CLINICIAN)
    out = np.select(
        [
            verdict == Verdict.ALARM,
            (checks & int(Check.LOSS_OF_EFFECT)) != 0,
            (checks & int(Check.NO_DIARY_CALL)) != 0,
            verdict == Verdict.HELD_FOR_CLINICIAN,
            stale | (ctl == Reason.HOLD_NO_DATA),
            np.isin(ctl, [Reason.INCREASE_UNCONTROLLED, Reason.INCREASE_TIME_IN_TARGET])
            & blocked,
        ],
        [Reason.ALARM_STOP, Reason.HOLD_NO_RESPONSE, Reason.CALL_NO_DIARY,
         Reason.HELD_FOR_CLINICIAN, Reason.HOLD_NO_DATA,
         Reason.HOLD_SIDE_EFFECTS],
        default=np.where(mapped != Reason.NO_VISIT, mapped,
                         np.where(taper != Reason.NO_VISIT, taper, Reason.HOLD_CONTROLLED)),
    ).astype(np.int64)
    return out


@dataclass(frozen=True)
class _ClosedLoopArm:
    """Shared mechanics of the closed-loop arms (subclasses choose the controller)."""

    name: str = "closed-loop"
    uses_pump: bool = True
    standard: StandardIntrathecal = field(default_factory=StandardIntrathecal)
    bounds: ClinicianBounds = field(default_factory=ClinicianBounds)

    def controller(self, context: ArmContext, bounds: ClinicianBounds) -> Controller[Any]:
        """The arm's controller for a run (the real ones from `idds.control.registry`)."""
        raise NotImplementedError

    def run_bounds(self, context: ArmContext) -> ClinicianBounds:
        """The arm's bounds with the lowest deliverable rate: the device's minimum flow at the
        library's strongest concentration (so any strength in the pump can deliver it)."""
        strongest = float(context.morphine.concentration_max.value.value_in("mg/mL"))
        floor = MIN_FLOW_ML_PER_DAY * strongest
        return replace(self.bounds,
                       min_rate_mg_per_day=max(self.bounds.min_rate_mg_per_day, floor),
                       min_daily_mg=max(self.bounds.min_daily_mg, floor))

    def start(self, context: ArmContext) -> Prescription:
        return self.standard.start(context)

    def _new_run(self, context: ArmContext, therapy: Prescription) -> ClosedLoopMemory:
        bounds = self.run_bounds(context)
        controller = self.controller(context, bounds)
        return ClosedLoopMemory(
            context=context,
            bounds=bounds,
            library=LibraryLimits.from_drug(context.morphine),
            controller=controller,
            loop=start_loop(controller, therapy),
            last_review_day=np.full(therapy.n, -np.inf),
            taper_keep=self.standard.taper.start(therapy.n),
            systemic_scale=np.ones(therapy.n),
            verdicts=np.zeros(len(Verdict), dtype=np.int64),
            checks=np.zeros(len(COUNTED_CHECKS), dtype=np.int64),
        )

    def decide(self, obs: Observations, therapy: Prescription, context: ArmContext,
               memory: object = None) -> Decision:
        run = memory if isinstance(memory, ClosedLoopMemory) else self._new_run(context, therapy)
        therapy, taper_keep, taper_reasons = self.standard.taper.step(
            obs, therapy, context.prior_oral_mg_per_day, run.taper_keep)
        # A clinician resets a latched alarm once the readings are clear again.
        loop = run.loop
        sup = loop.supervisor
        bounds = run.bounds
        clear = assess(obs, bounds.interlock).level == Level.CLEAR
        reset = (sup.latched >= Level.ALARM) & clear
        visit = reset.copy()
        scale = run.systemic_scale
        if reset.any():
            restart = reset & (therapy.it_mg_per_day <= 0)
            again = np.maximum(sup.pre_alarm_mg * RESTART_FRACTION, bounds.min_daily_mg)
            it = np.where(restart, again, therapy.it_mg_per_day)
            therapy = therapy.with_(it_mg_per_day=it)
            scale = np.where(restart, scale * RESTART_FRACTION, scale)
            loop = LoopState(loop.controller, reset_alarm(sup, reset))
        therapy = therapy.with_(oral_mg_per_day=therapy.oral_mg_per_day * scale,
                                oral_rescue_mg=therapy.oral_rescue_mg * scale)
        step, loop = closed_loop_step(run.controller, loop, obs, therapy, bounds, run.library)
        decision = step.decision
        out = decision.therapy
        # While an alarm is latched every opioid is held, the systemic taper and rescue too
        # (Pasero 2009: stop the opioid at POSS 4 or respiratory depression); early alarms come
        # mostly from the systemic opioid still being tapered.
        alarmed = loop.supervisor.latched >= Level.ALARM
        if alarmed.any():
            out = out.with_(oral_mg_per_day=np.where(alarmed, 0.0, out.oral_mg_per_day),
                            oral_rescue_mg=np.where(alarmed, 0.0, out.oral_rescue_mg))
        held = decision.verdict == Verdict.HELD_FOR_CLINICIAN
        review = held & (obs.day - run.last_review_day >= HOLD_REVIEW_DAYS)
        visit |= review
        checked = np.array([np.count_nonzero(decision.checks & int(flag))
                            for flag in COUNTED_CHECKS], dtype=np.int64)
        reasons = _reasons(step.recommendation.reasons, decision.verdict, decision.checks,
                           taper_reasons)
        memory = replace(
            run,
            loop=loop,
            last_review_day=np.where(review, float(obs.day), run.last_review_day),
            taper_keep=taper_keep,
            systemic_scale=scale,
            verdicts=run.verdicts + np.bincount(decision.verdict, minlength=len(Verdict)),
            checks=run.checks + checked,
        )
        check = None
        if isinstance(run.controller, IntelligentController) and checked_today(obs.day):
            ctl, state = run.controller, loop.controller
            check = ControllerCheck(obs.day, ctl.forecast(state, obs, therapy, out, 1.0),
                                    tuple(ctl.beliefs(state)))
        return Decision(out, visit, reasons, memory=memory, check=check)

    @staticmethod
    def counts(memory: object) -> tuple[dict[str, int], dict[str, int]]:
        """Verdict and check counts of one run so far (from the arm's memory), for reports."""
        assert isinstance(memory, ClosedLoopMemory)
        run = memory
        verdicts = {v.name: int(run.verdicts[v]) for v in Verdict}
        checks = {str(flag.name): int(c)
                  for flag, c in zip(COUNTED_CHECKS, run.checks, strict=True)}
        return verdicts, checks


@dataclass(frozen=True)
class IntelligentArm(_ClosedLoopArm):
    """`it-intelligent`: the estimating controller behind the supervisor, daily."""

    name: str = "it-intelligent"

    def controller(self, context: ArmContext, bounds: ClinicianBounds) -> Controller[Any]:
        return build_controller("intelligent", settings_for(context.morphine, bounds),
                                prior_oral_mg_per_day=context.prior_oral_mg_per_day)


@dataclass(frozen=True)
class RuleBasedArm(_ClosedLoopArm):
    """`it-rule-based`: daily rule-based titration behind the same supervisor."""

    name: str = "it-rule-based"

    def controller(self, context: ArmContext, bounds: ClinicianBounds) -> Controller[Any]:
        return build_controller("rule-based", settings_for(context.morphine, bounds))


@dataclass(frozen=True)
class OracleArm(_ClosedLoopArm):
    """`oracle`, evaluation only: reads `ArmContext.hidden_cohort` to pick the smallest dose
    meeting the same pain target, behind the same supervisor."""

    name: str = "oracle"

    def controller(self, context: ArmContext, bounds: ClinicianBounds) -> Controller[Any]:
        step = per_change_step(bounds, LibraryLimits.from_drug(context.morphine))
        return OracleController(cohort=context.hidden_cohort, min_daily_mg=bounds.min_daily_mg,
                                min_rate_mg_per_day=bounds.min_rate_mg_per_day,
                                max_increase_per_day=step)


@dataclass(frozen=True)
class DailyTargetArm(_ClosedLoopArm):
    """`it-daily-target`: treat-to-target with daily steps (`idds.control.target`), as a
    careful clinician with a daily diary would dose, behind the same supervisor and bounds as
    the closed-loop arms; implant, conversion, systemic taper, refills and the start's patient
    bolus settings of `it-standard`. The step is the library's `max_increase_percent` and the
    interval the library's `min_interval_between_increases` (the clinician's bounds pass
    neither soft limit by default: `per_change_step`). Unlike the closed loop, every change of
    the pump program is a clinician's programming session: a day the delivered program changes
    counts as a clinic visit (the daily diary review itself does not)."""

    name: str = "it-daily-target"

    def controller(self, context: ArmContext, bounds: ClinicianBounds) -> Controller[Any]:
        library = LibraryLimits.from_drug(context.morphine)
        interval = library.min_hours_between_increases
        return DailyTargetController(
            titration=replace(TREAT_TO_TARGET, increase=per_change_step(bounds, library)),
            min_hours_between_increases=0.0 if interval is None else interval.value,
            bolus_fraction=self.standard.bolus_fraction,
            max_bolus_mg=bounds.max_bolus_mg,
            max_boluses_per_day=bounds.max_boluses_per_day,
            min_daily_mg=bounds.min_daily_mg,
        )

    def decide(self, obs: Observations, therapy: Prescription, context: ArmContext,
               memory: object = None) -> Decision:
        out = super().decide(obs, therapy, context, memory)
        new, old = out.therapy, therapy
        changed = (~np.isclose(new.it_mg_per_day, old.it_mg_per_day, rtol=1e-9, atol=0)
                   | ~np.isclose(new.bolus_mg, old.bolus_mg, rtol=1e-9, atol=0)
                   | (new.max_boluses_per_day != old.max_boluses_per_day)
                   | ~np.all(np.isclose(new.flex, old.flex), axis=1))
        return replace(out, visit=out.visit | changed)


#: Arm names of the form `controller:SPEC` run a plug-in controller (`idds.control.plugins`).
PLUGIN_PREFIX = "controller:"


@dataclass(frozen=True)
class PluginArm(_ClosedLoopArm):
    """`controller:SPEC`: a researcher's own controller (module:factory, file.py:factory or an
    installed entry point), daily, behind the same supervisor as it-intelligent."""

    name: str = PLUGIN_PREFIX

    @property
    def spec(self) -> str:
        return self.name.removeprefix(PLUGIN_PREFIX)

    def controller(self, context: ArmContext, bounds: ClinicianBounds) -> Controller[Any]:
        return build_controller(self.spec, settings_for(context.morphine, bounds),
                                prior_oral_mg_per_day=context.prior_oral_mg_per_day)
