"""The trial engine: one cohort under one or more arms, stepped together, vectorised.

A batch of patients first runs one day on their prior oral regimen (the run-in, the baseline
of every arm: same patients, same random streams), then each arm runs `days` days from that
state. Each step: the oral schedule and the pump twin give the deliveries, the physiology
steps, the pump twin decides the remote presses, the day's sums are updated
(`idds.trial.daysteps`; compiled by `idds.trial.dayloop` where it applies). Each midnight the
day's symptoms are evaluated and graded (`idds.physiology.symptoms`), side effects at grade 2
are treated from the next day (`SupportiveCare`), the day is recorded, pumps due are
refilled, and the arm decides tomorrow's therapy from what can be observed. Days after a
patient's death (`Cohort.death_day`) are recorded as missing (NaN, grade -1): every metric
treats death as censoring. No Python object per patient in the hot loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import NDArray

from idds.control.prescription import Prescription
from idds.control.sideeffects import DOSE_LIMITING
from idds.drugs import DrugLibrary
from idds.physiology import Cohort, CohortState, initial_state
from idds.physiology import symptoms as sx
from idds.physiology.exposure import site_exposure
from idds.physiology.symptoms import Care, SymptomState
from idds.pump.twin import PumpArrays
from idds.trial.arms import Arm, ArmContext, Reason
from idds.trial.calibration import Calibration
from idds.trial.care import SupportiveCare
from idds.trial.daysteps import DAY_MIN, ArmState, day_of_steps
from idds.trial.history import DayAccumulator, History, grade_day, observe
from idds.trial.intake import Selection
from idds.trial.pump_draws import systematic_errors
from idds.trial.pumping import PumpSetup, program_pumps, refill_due
from idds.trial.scenario import DayEvents, Scenario

Array = NDArray[np.float64]


@dataclass(frozen=True)
class TrialSettings:
    days: int
    dt_min: float = 5.0
    care: SupportiveCare = field(default_factory=SupportiveCare)
    pump: PumpSetup = field(default_factory=PumpSetup)
    #: Scheduled breakthrough episodes and missing diaries (`idds.trial.scenario`), or None.
    scenario: Scenario | None = None
    #: Days the compiled loop can compute are run by it (`idds.trial.dayloop`); False: every
    #: day by the readable loop (`daysteps.readable_steps`), as the differential tests compare.
    compiled: bool = True

    def __post_init__(self) -> None:
        if self.days < 1:
            raise ValueError("a trial needs at least one day")
        if self.dt_min <= 0 or DAY_MIN % self.dt_min or 60 % self.dt_min:
            raise ValueError("the step must divide an hour evenly (1, 2, 5, 10, 15, 30 min...)")


@dataclass(frozen=True)
class ArmRun:
    """One arm on one batch of patients: everything the metrics and report need.

    history: daily fields (days, n), NaN after death; grades: (days, N_SYMPTOMS, n), -1 after
    death; inventory: (days, N_ITEMS, n), NaN after death; baseline: the run-in day's fields
    (n,) with its grades (N_SYMPTOMS, n) and inventory (N_ITEMS, n); death_day: days from day
    0 (+inf: alive throughout); prior_oral_mg_per_day: each patient's oral dose before day 0;
    visits, refills: per patient counts while alive; reasons: count per `Reason`;
    pain_by_hour: mean perceived pain per hour of day over the trial (sum and count, (24,));
    presses_by_hour, refused_by_hour: totals per hour of day (24,); selection: a screened
    arm's intake and 4-week outcomes (`idds.trial.intake.Selection`; None for other arms);
    calibration: an estimating controller's forecasts against the next days' diaries.
    """

    arm: str
    indices: NDArray[np.int64]
    history: dict[str, NDArray[np.float32]]
    grades: NDArray[np.int8]
    inventory: NDArray[np.float32]
    baseline: Baseline
    death_day: Array
    prior_oral_mg_per_day: Array
    visits: Array
    refills: Array
    reasons: NDArray[np.int64]
    pain_by_hour_sum: Array
    pain_by_hour_count: Array
    presses_by_hour: Array
    refused_by_hour: Array
    selection: Selection | None = None
    calibration: Calibration = field(default_factory=Calibration)


@dataclass(frozen=True)
class Baseline:
    """The run-in day (on the prior oral regimen) shared by every arm: its daily fields (n,),
    grades (N_SYMPTOMS, n) and inventory (N_ITEMS, n)."""

    row: dict[str, Array]
    grades: NDArray[np.int8]
    inventory: Array


@dataclass(frozen=True)
class Start:
    """Where every arm starts: the patient model's state, the symptoms' adaptation, supportive
    care and body weight after the run-in."""

    state: CohortState
    symptoms: SymptomState
    care: Care
    weight_kg: Array


def _program(run: ArmState, settings: TrialSettings, arm: str, max_conc: float) -> None:
    """Check the arm's program against the device limits (`pumping.program_pumps`); pumps
    refilled with a deliverable strength count as refills."""
    assert run.pumps is not None
    run.bolus_duration_min, refilled = program_pumps(run.pumps, run.therapy, settings.pump,
                                                     arm, max_conc)
    run.refills += refilled & run.alive


def _with_rescue(cohort: Cohort, rescue_mg: Array) -> Cohort:
    """The cohort with another oral rescue dose, keeping its cached propagators (they do not
    depend on rescue)."""
    if np.array_equal(cohort.oral_rescue_mg, rescue_mg):
        return cohort
    return replace(cohort, oral_rescue_mg=rescue_mg.astype(np.float64))


def _scenario_day(settings: TrialSettings, day: int, cohort: Cohort) -> DayEvents | None:
    """What the scenario changes on trial `day` (None: no scenario, nothing per step)."""
    scenario = settings.scenario
    return None if scenario is None else scenario.day(day, settings.dt_min, cohort.indices,
                                                      cohort.keys)


def _step_day(run: ArmState, settings: TrialSettings, uses_pump: bool) -> dict[str, Array]:
    """Simulate one day for one arm; return the closed day row."""
    day = run.history.filled + 1  # the trial day being simulated, 1-based
    events = _scenario_day(settings, day, run.cohort)
    presses_by_hour, refused_by_hour = day_of_steps(run, settings.dt_min, uses_pump, events,
                                                    settings.compiled)
    row, means = run.acc.close()
    row["it_programmed_mg_per_day"] = run.therapy.it_mg_per_day.copy()
    row["oral_programmed_mg_per_day"] = run.therapy.oral_mg_per_day.copy()
    row["rescue_prescribed_mg"] = run.therapy.oral_rescue_mg.copy()
    grades, inventory = _symptoms_of_day(run, row, means, settings)
    grade_day(row, grades)
    run.history.append(row, presses_by_hour.T, refused_by_hour.T, grades, inventory)
    return row


def _day_exposure(row: dict[str, Array], means: dict[str, Array]) -> sx.IntervalExposure:
    return sx.IntervalExposure(
        supraspinal=means["supraspinal"], spinal=means["spinal"], plasma=row["plasma_mean"],
        gut_mg=means["gut_mg"], sedation=means["sedation"],
        respiratory_rate_min=row["respiratory_rate_min"], woken_night=row["woken_night"],
    )


def _symptoms_of_day(run: ArmState, row: dict[str, Array], means: dict[str, Array],
                     settings: TrialSettings) -> tuple[NDArray[np.int8], Array]:
    """The day's symptoms: graded, written into the row (composite, burden, intake, weight),
    and the adaptation, supportive care and weight carried to tomorrow."""
    run.symptoms, day = sx.advance(run.symptoms, _day_exposure(row, means),
                                   run.cohort.sensitivity, run.cohort.symptoms, run.care,
                                   float(DAY_MIN))
    grades = sx.grades(day, row["respiratory_rate_min"])
    row["toxicity_composite"] = sx.composite(grades)
    row["side_effect_burden"] = day.intensity[list(DOSE_LIMITING)].max(axis=0)
    row["intake"] = day.intake
    run.weight_kg = sx.weight_after(run.weight_kg, day.intake, float(DAY_MIN))
    row["weight_kg"] = run.weight_kg.copy()
    run.care = settings.care.update(run.care, grades)
    return grades, sx.inventory(day, row["pain_mean"])


def _refill_due(run: ArmState, settings: TrialSettings, max_conc: float) -> None:
    assert run.pumps is not None
    run.refills += refill_due(run.pumps, run.therapy, settings.pump, max_conc) & run.alive


def run_in(cohort: Cohort, settings: TrialSettings) -> tuple[Start, Baseline]:
    """One day on the prior oral regimen from steady state (symptoms adapted to it): the
    shared baseline, and where every arm starts."""
    state = initial_state(cohort, 0.0, on_prior_regimen=True)
    prior = cohort.prior_oral_morphine_mg_per_day
    steady = site_exposure(state.pk, cohort.drug_params, cohort.pk)  # the regimen's steady state
    start = Start(state, SymptomState.adapted_to(steady.supraspinal, steady.spinal),
                  Care.usual(cohort.n), cohort.weight_kg.copy())
    therapy = Prescription.oral(prior, cohort.oral_rescue_mg)
    run = _new_run(cohort, start, therapy, None, 1)
    row = _step_day(run, settings, uses_pump=False)
    after = Start(run.state, run.symptoms, run.care, run.weight_kg)
    return after, Baseline(row, run.history.grades[0].copy(),
                           run.history.inventory[0].astype(np.float64))


def _new_run(cohort: Cohort, start: Start, therapy: Prescription, pumps: PumpArrays | None,
             days: int) -> ArmState:
    n = cohort.n
    return ArmState(
        cohort=_with_rescue(cohort, therapy.oral_rescue_mg),
        state=start.state,
        symptoms=start.symptoms,
        care=start.care,
        weight_kg=start.weight_kg.copy(),
        therapy=therapy,
        pumps=pumps,
        acc=DayAccumulator(n),
        history=History(n, days),
        previous_event=np.zeros(n, dtype=bool),
        visits=np.zeros(n),
        refills=np.zeros(n),
        reasons=np.zeros(len(Reason), dtype=np.int64),
        alive=np.ones(n, dtype=bool),
    )


def _censor(history: History, death_day: Array) -> None:
    """Mark the days on and after each patient's death as missing (NaN; grades -1)."""
    dead = np.arange(history.days)[:, None] >= np.floor(death_day)[None, :]
    if not dead.any():
        return
    for values in history.rows.values():
        values[dead] = np.nan
    history.grades[np.broadcast_to(dead[:, None, :], history.grades.shape)] = -1
    history.inventory[np.broadcast_to(dead[:, None, :], history.inventory.shape)] = np.nan


def run_arm(
    cohort: Cohort,
    start: Start,
    baseline: Baseline,
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
        errors = systematic_errors(cohort.keys)
        if settings.scenario is not None:  # a scenario's flow error replaces the drawn one
            errors = settings.scenario.flow_errors(errors, cohort.indices)
        pumps = PumpArrays.empty(cohort.n, errors)
        strength = settings.pump.concentration(therapy, max_conc)
        pumps.fill(np.ones(cohort.n, dtype=bool), settings.pump.reservoir_ml, strength)
    run = _new_run(cohort, start, therapy, pumps, settings.days)
    if arm.uses_pump:
        _program(run, settings, arm.name, max_conc)
    memory: object = None
    calibration, check = Calibration.start(cohort.n), None
    for day in range(settings.days):
        run.alive = day < np.floor(cohort.death_day)
        row = _step_day(run, settings, arm.uses_pump)
        calibration = calibration.add(check, row, run.alive)
        obs = observe(run.history)
        decision = arm.decide(obs, run.therapy, context, memory)
        memory, check = decision.memory, decision.check
        decision.therapy.check()
        run.therapy = decision.therapy
        run.cohort = _with_rescue(run.cohort, run.therapy.oral_rescue_mg)
        if decision.rotate is not None:
            run.care = replace(run.care, rotated=run.care.rotated | decision.rotate)
        run.state = settings.care.coanalgesics(run.state, obs)
        run.visits += decision.visit & run.alive
        run.reasons += np.bincount(decision.reasons[run.alive], minlength=len(Reason))
        if arm.uses_pump:
            _refill_due(run, settings, max_conc)
            _program(run, settings, arm.name, max_conc)
    _censor(run.history, cohort.death_day)
    return ArmRun(
        arm=arm.name,
        indices=cohort.indices.copy(),
        history=run.history.rows,
        grades=run.history.grades,
        inventory=run.history.inventory,
        baseline=baseline,
        death_day=cohort.death_day.copy(),
        prior_oral_mg_per_day=cohort.prior_oral_morphine_mg_per_day.copy(),
        visits=run.visits,
        refills=run.refills,
        reasons=run.reasons,
        pain_by_hour_sum=run.pain_by_hour_sum,
        pain_by_hour_count=run.pain_by_hour_count,
        presses_by_hour=run.presses_by_hour,
        refused_by_hour=run.refused_by_hour,
        calibration=calibration,
    )


def scenario_cohort(cohort: Cohort, settings: TrialSettings) -> Cohort:
    """The batch's cohort with the scenario's changes of the model (disease progression)."""
    return cohort if settings.scenario is None else settings.scenario.cohort(cohort)

