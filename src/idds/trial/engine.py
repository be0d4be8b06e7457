"""The trial engine: one cohort under one or more arms, stepped together, vectorised.

A batch of patients first runs one day on their prior oral regimen (the run-in, the baseline
of every arm: same patients, same random streams), then each arm runs `days` days from that
state. Each step: the oral schedule and the pump twin give the deliveries, the physiology
steps, the pump twin decides the remote presses, the day's sums are updated. Each midnight the
day is recorded, pumps due are refilled, and the arm decides tomorrow's therapy from what can
be observed. No Python object per patient in the hot loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import NDArray

from idds.control.therapy import HOURS, Therapy
from idds.drugs import DrugLibrary
from idds.errors import IddsError
from idds.physiology import Cohort, CohortState, Delivery, initial_state, step
from idds.physiology.parameters import PD
from idds.trial import pump_twin
from idds.trial.arms import Arm, ArmContext, Reason
from idds.trial.history import DayAccumulator, History, observe
from idds.trial.pump_twin import PumpArrays, Refusal

Array = NDArray[np.float64]

DAY_MIN = 1440
#: Around-the-clock oral doses (sustained release q12h), minutes after midnight.
ORAL_TIMES_MIN = (480, 1200)


@dataclass(frozen=True)
class Adjuvants:
    """The usual adjuvants, represented simply (assumption, no curve in the reference):
    prophylactic laxative and antiemetic for every patient on opioids remove these shares of
    the constipation and nausea contributions to the composite toxicity score."""

    laxative: float = 0.3
    antiemetic: float = 0.3


@dataclass(frozen=True)
class PumpSetup:
    """Implant and refill settings of the intrathecal arms (devices.md): 20 mL reservoir,
    low-reservoir alarm at 2 mL, patient bolus over 10 min; concentrations from the usual
    strengths, never above the library's hard maximum; a refill lasts at least 28 days."""

    reservoir_ml: float = 20.0
    alarm_ml: float = 2.0
    bolus_duration_min: float = 10.0
    strengths_mg_per_ml: tuple[float, ...] = (0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 20.0)
    min_days_per_fill: float = 28.0

    def concentration(self, therapy: Therapy, max_mg_per_ml: float) -> Array:
        """Per patient, the weakest usual strength (never above the library's hard maximum)
        that the device can deliver (basal flow and bolus volume in range) and that lasts
        `min_days_per_fill` with every bolus used; else the strongest deliverable one."""
        usable = self.reservoir_ml - self.alarm_ml
        lowest_basal = therapy.it_mg_per_day * therapy.flex.min(axis=1)
        strengths = [s for s in self.strengths_mg_per_ml if s <= max_mg_per_ml]
        chosen = np.full(therapy.n, np.nan)
        fallback = np.full(therapy.n, strengths[0])
        for strength in strengths:
            deliverable = (
                ((therapy.it_mg_per_day <= 0)
                 | (lowest_basal / strength >= pump_twin.MIN_FLOW_ML_PER_DAY))
                & ((therapy.bolus_mg <= 0)
                   | (therapy.bolus_mg / strength >= pump_twin.MIN_BOLUS_ML))
            )
            lasts = therapy.daily_it_mg() / strength * self.min_days_per_fill <= usable
            chosen = np.where(np.isnan(chosen) & deliverable & lasts, strength, chosen)
            fallback = np.where(deliverable, strength, fallback)
        out: Array = np.where(np.isnan(chosen), fallback, chosen)
        return out


@dataclass(frozen=True)
class TrialSettings:
    days: int
    dt_min: float = 5.0
    adjuvants: Adjuvants = field(default_factory=Adjuvants)
    pump: PumpSetup = field(default_factory=PumpSetup)

    def __post_init__(self) -> None:
        if self.days < 1:
            raise ValueError("a trial needs at least one day")
        if self.dt_min <= 0 or DAY_MIN % self.dt_min or 60 % self.dt_min:
            raise ValueError("the step must divide an hour evenly (1, 2, 5, 10, 15, 30 min...)")


@dataclass(frozen=True)
class ArmRun:
    """One arm on one batch of patients: everything the metrics and report need.

    history: daily fields (days, n); baseline: the run-in day's fields (n,);
    visits, refills: per patient counts; reasons: count per `Reason`;
    pain_by_hour: mean perceived pain per hour of day over the trial (sum and count, (24,));
    presses_by_hour, refused_by_hour: totals per hour of day (24,).
    """

    arm: str
    indices: NDArray[np.int64]
    history: dict[str, NDArray[np.float32]]
    baseline: dict[str, Array]
    visits: Array
    refills: Array
    reasons: NDArray[np.int64]
    pain_by_hour_sum: Array
    pain_by_hour_count: Array
    presses_by_hour: Array
    refused_by_hour: Array


@dataclass
class _Run:
    """Mutable per-arm working state of one batch (engine-internal)."""

    cohort: Cohort
    state: CohortState
    therapy: Therapy
    pumps: PumpArrays | None
    acc: DayAccumulator
    history: History
    previous_event: NDArray[np.bool_]
    visits: Array
    refills: Array
    reasons: NDArray[np.int64]
    pain_by_hour_sum: Array = field(default_factory=lambda: np.zeros(HOURS))
    pain_by_hour_count: Array = field(default_factory=lambda: np.zeros(HOURS))
    presses_by_hour: Array = field(default_factory=lambda: np.zeros(HOURS))
    refused_by_hour: Array = field(default_factory=lambda: np.zeros(HOURS))
    bolus_duration_min: Array = field(default_factory=lambda: np.zeros(0))


class DeviceLimitError(IddsError):
    """An arm asked for a pump program the firmware would refuse."""


def _program(run: _Run, settings: TrialSettings, arm: str, max_conc: float) -> None:
    """Check the arm's program against the device limits, as the firmware would, and set the
    shortest bolus duration (from `PumpSetup.bolus_duration_min`) the device allows.

    A program the pump cannot deliver at its present strength (a dose cut below the minimum
    flow, say) is what a clinician meets at the programmer: the pump is emptied and refilled
    with a strength that can deliver it (counted as a refill). Only a program no usual
    strength can deliver stops the trial."""
    assert run.pumps is not None
    problems = _problems(run, settings)
    if problems.any():
        fix = problems > 0
        setup = settings.pump
        run.pumps.fill(fix, setup.reservoir_ml, setup.concentration(run.therapy, max_conc))
        run.refills += fix
        problems = _problems(run, settings)
    if problems.any():
        worst = pump_twin.ProgramProblem(int(problems[problems > 0][0]))
        raise DeviceLimitError(
            f"arm {arm} programmed {int((problems > 0).sum())} pump(s) outside the device "
            f"limits ({worst.name.lower().replace('_', ' ')})"
        )


def _problems(run: _Run, settings: TrialSettings) -> NDArray[np.int64]:
    assert run.pumps is not None
    conc = run.pumps.concentration_mg_per_ml
    run.bolus_duration_min = pump_twin.shortest_bolus_duration(
        run.therapy, conc, settings.pump.bolus_duration_min)
    return pump_twin.program_problems(run.therapy, conc, run.bolus_duration_min)


def _with_rescue(cohort: Cohort, rescue_mg: Array) -> Cohort:
    """The cohort with another oral rescue dose, keeping its cached propagators (they do not
    depend on rescue)."""
    if np.array_equal(cohort.oral_rescue_mg, rescue_mg):
        return cohort
    return replace(cohort, oral_rescue_mg=rescue_mg.astype(np.float64))


def _step_day(run: _Run, settings: TrialSettings, uses_pump: bool) -> dict[str, Array]:
    """Simulate one day for one arm; return the closed day row."""
    dt = settings.dt_min
    steps = int(DAY_MIN // dt)
    oral_steps = {int(t // dt): t for t in ORAL_TIMES_MIN}
    adj = settings.adjuvants
    w_const = 10.0 * PD.tox_weight_constipation * adj.laxative
    w_naus = 10.0 * PD.tox_weight_nausea * adj.antiemetic
    values = run.acc.values
    presses_by_hour = np.zeros((HOURS, run.cohort.n))  # hour-major: contiguous row updates
    refused_by_hour = np.zeros((HOURS, run.cohort.n))
    dose_per_intake = run.therapy.oral_mg_per_day / len(ORAL_TIMES_MIN)
    for s in range(steps):
        hour = int((s * dt) // 60)
        gut = dose_per_intake if s in oral_steps else 0.0
        csf: Array | float = 0.0
        if uses_pump and run.pumps is not None:
            csf = pump_twin.deliver(run.pumps, run.therapy, hour, dt)
            values["it_mg"] += csf
        values["oral_mg"] += gut
        run.state, out = step(run.state, run.cohort, [Delivery("morphine", gut_mg=gut,
                                                               csf_mg=csf)], dt)
        eff = out.effects
        pain = out.pain_nrs
        values["oral_mg"] += out.oral_rescue_mg
        values["pain_mean"] += pain
        values["controlled_fraction"] += pain <= 3.0
        values["severe_fraction"] += pain >= 7.0
        values["toxicity_mean"] += eff.toxicity - w_const * eff.constipation - w_naus * eff.nausea
        event = out.respiratory_event
        values["respiratory_events"] += event & ~run.previous_event
        run.previous_event = event
        diary = out.diary_nrs
        if not np.isnan(diary).all():
            has = ~np.isnan(diary)
            values["diary_sum"] += np.where(has, diary, 0.0)
            values["diary_count"] += has
        np.maximum(values["sedation_max"], eff.sedation_poss, out=values["sedation_max"])
        np.minimum(values["respiratory_rate_min"], eff.respiratory_rate_per_min,
                   out=values["respiratory_rate_min"])
        np.maximum(values["withdrawal_max"], eff.withdrawal, out=values["withdrawal_max"])
        run.pain_by_hour_sum[hour] += pain.sum()
        run.pain_by_hour_count[hour] += pain.size
        if uses_pump and run.pumps is not None:
            press = out.wants_bolus
            codes = pump_twin.demand(run.pumps, press, out.t_min, run.therapy,
                                     run.bolus_duration_min)
            pressed = codes >= 0
            refused = pressed & (codes != Refusal.GIVEN)
            values["presses"] += pressed
            values["refused"] += refused
            values["given"] += codes == Refusal.GIVEN
            presses_by_hour[hour] += pressed
            refused_by_hour[hour] += refused
            run.presses_by_hour[hour] += pressed.sum()
            run.refused_by_hour[hour] += refused.sum()
        run.acc.steps += 1
    row = run.acc.close()
    row["it_programmed_mg_per_day"] = run.therapy.it_mg_per_day.copy()
    row["oral_programmed_mg_per_day"] = run.therapy.oral_mg_per_day.copy()
    run.history.append(row, presses_by_hour.T, refused_by_hour.T)
    return row


def _refill_due(run: _Run, settings: TrialSettings, max_conc: float) -> None:
    """Refill the pumps that would pass the low-reservoir alarm within a day (worst case)."""
    assert run.pumps is not None
    setup = settings.pump
    due = run.pumps.implanted & (
        pump_twin.days_to_alarm(run.pumps, run.therapy, setup.alarm_ml) < 1.0
    )
    if due.any():
        strength = setup.concentration(run.therapy, max_conc)
        run.pumps.fill(due, setup.reservoir_ml, strength)
        run.refills += due


def run_in(cohort: Cohort, settings: TrialSettings) -> tuple[CohortState, dict[str, Array]]:
    """One day on the prior oral regimen from steady state: the shared baseline."""
    state = initial_state(cohort, 0.0, on_prior_regimen=True)
    prior = cohort.prior_oral_morphine_mg_per_day
    therapy = Therapy.oral(prior, cohort.oral_rescue_mg)
    run = _new_run(cohort, state, therapy, None, 1)
    row = _step_day(run, settings, uses_pump=False)
    return run.state, row


def _new_run(cohort: Cohort, state: CohortState, therapy: Therapy, pumps: PumpArrays | None,
             days: int) -> _Run:
    n = cohort.n
    return _Run(
        cohort=_with_rescue(cohort, therapy.oral_rescue_mg),
        state=state,
        therapy=therapy,
        pumps=pumps,
        acc=DayAccumulator(n),
        history=History(n, days),
        previous_event=np.zeros(n, dtype=bool),
        visits=np.zeros(n),
        refills=np.zeros(n),
        reasons=np.zeros(len(Reason), dtype=np.int64),
    )


def run_arm(
    cohort: Cohort,
    start: CohortState,
    baseline: dict[str, Array],
    arm: Arm,
    library: DrugLibrary,
    settings: TrialSettings,
) -> ArmRun:
    """Run one arm for `settings.days` days from the run-in state."""
    context = ArmContext(
        prior_oral_mg_per_day=cohort.prior_oral_morphine_mg_per_day.copy(),
        policy=library.conversion,
        morphine=library.drug("morphine"),
        hidden_cohort=cohort,
    )
    therapy = arm.start(context)
    therapy.check()
    max_conc = float(context.morphine.concentration_max.value.value_in("mg/mL"))
    pumps = None
    if arm.uses_pump:
        pumps = PumpArrays.empty(cohort.n, pump_twin.systematic_errors(cohort.keys))
        strength = settings.pump.concentration(therapy, max_conc)
        pumps.fill(np.ones(cohort.n, dtype=bool), settings.pump.reservoir_ml, strength)
    run = _new_run(cohort, start, therapy, pumps, settings.days)
    if arm.uses_pump:
        _program(run, settings, arm.name, max_conc)
    memory: object = None
    for _ in range(settings.days):
        _step_day(run, settings, arm.uses_pump)
        decision = arm.decide(observe(run.history), run.therapy, context, memory)
        memory = decision.memory
        decision.therapy.check()
        run.therapy = decision.therapy
        run.cohort = _with_rescue(run.cohort, run.therapy.oral_rescue_mg)
        run.visits += decision.visit
        run.reasons += np.bincount(decision.reasons, minlength=len(Reason))
        if arm.uses_pump:
            _refill_due(run, settings, max_conc)
            _program(run, settings, arm.name, max_conc)
    return ArmRun(
        arm=arm.name,
        indices=cohort.indices.copy(),
        history=run.history.rows,
        baseline=baseline,
        visits=run.visits,
        refills=run.refills,
        reasons=run.reasons,
        pain_by_hour_sum=run.pain_by_hour_sum,
        pain_by_hour_count=run.pain_by_hour_count,
        presses_by_hour=run.presses_by_hour,
        refused_by_hour=run.refused_by_hour,
    )


def simulate_batch(
    cohort: Cohort, arms: list[Arm], library: DrugLibrary, settings: TrialSettings
) -> list[ArmRun]:
    """Run-in once, then every arm from the same state: common random numbers across arms."""
    start, baseline = run_in(cohort, settings)
    return [run_arm(cohort, start, baseline, arm, library, settings) for arm in arms]
