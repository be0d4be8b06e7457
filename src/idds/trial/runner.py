"""Running a whole trial: seeded batches of patients behind an executor seam, then merged.

A patient's result depends only on (seed, archetype, patient index) and the arm, never on the
batch it ran in, so the same seed gives the same numbers with 1 worker, a process pool or a
Dask cluster (docs/design.md principle 7). Batches are merged in patient order.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from idds.control.intelligent import LADDER_ORAL_PER_IT_MG
from idds.control.registry import oral_to_it_ratio
from idds.drugs import load_library
from idds.errors import IddsError
from idds.physiology import ARCHETYPES, sample_cohort
from idds.selection import load_criteria
from idds.selection.screening_rules import ScreeningMethod
from idds.trial.arms import Reason
from idds.trial.batch import simulate_batch
from idds.trial.calibration import Calibration
from idds.trial.engine import ArmRun, Baseline, TrialSettings
from idds.trial.flow import Flow, PredictiveValue, as_treated, flow, predictive_value
from idds.trial.intake import IntakeSettings, Selection
from idds.trial.metrics import Estimate, PatientOutcomes, arm_metrics, patient_outcomes
from idds.trial.registry import ARMS, arm
from idds.trial.scenario import Scenario, resolve_scenario
from idds.trial.screened import SCREENED_SUFFIX, ScreenedArm
from idds.trial.survival import SurvivalCurve, trial_survival
from idds.trial.weekly import weekly_series

Array = NDArray[np.float64]


class TrialError(IddsError):
    """A trial that cannot run as asked (unknown arm, bad size, unreachable scheduler)."""


@dataclass(frozen=True)
class TrialConfig:
    """What to run. Sizes are patients and days; dt_min is the step in minutes."""

    patients: int
    days: int
    arms: tuple[str, ...]
    seed: int = 0
    archetype: str = "typical-tolerant"
    dt_min: float = 5.0
    batch_size: int = 500
    library: Path | None = None
    #: A scenario file or a built-in scenario's name (`idds.trial.scenario`).
    scenario: Path | None = None
    #: For screened arms (`idds.trial.intake`): the screening method, its length in days, the
    #: candidacy criteria file (None: the reference criteria).
    screening: str = "infusion"
    screening_days: int = 1
    criteria: Path | None = None

    def __post_init__(self) -> None:
        if self.patients < 1:
            raise TrialError(f"--patients must be at least 1, not {self.patients}")
        if self.days < 1:
            raise TrialError(f"--days must be at least 1, not {self.days}")
        if self.seed < 0:
            raise TrialError(f"--seed must be a whole number >= 0, not {self.seed}")
        if self.batch_size < 1:
            raise TrialError("batch size must be at least 1")
        unknown: list[str] = []
        refused: Exception | None = None
        for name in self.arms:  # a plug-in is loaded and checked now, before any patient runs
            try:
                arm(name)
            except KeyError:
                unknown.append(name)
            except (ValueError, IddsError) as exc:
                refused = refused or exc
        if unknown or not self.arms:
            raise TrialError(
                f"unknown arm(s) {', '.join(unknown) or '(none given)'}; arms: "
                f"{', '.join(ARMS)}, controller:SPEC for a plug-in controller, or an IT arm "
                f"with {SCREENED_SUFFIX} (from referral)"
            )
        if isinstance(refused, ValueError):
            raise TrialError(str(refused)) from None
        if refused is not None:
            raise refused
        if len(set(self.arms)) != len(self.arms):
            raise TrialError("each arm may be given once")
        if self.archetype not in ARCHETYPES:
            raise TrialError(f"unknown archetype {self.archetype!r}; known: "
                             f"{', '.join(ARCHETYPES)}")
        try:
            TrialSettings(days=self.days, dt_min=self.dt_min)
        except ValueError as exc:
            raise TrialError(str(exc)) from exc
        self.loaded_scenario()  # refuse a bad scenario file now, not in a worker
        if self.screened_arms():
            self.intake_settings()  # refuse a bad method or length now
            try:
                load_criteria(self.criteria)  # and a bad criteria file (workers load it again)
            except IddsError as exc:
                raise TrialError(f"--criteria: {exc}") from None

    def screened_arms(self) -> tuple[str, ...]:
        return tuple(a for a in self.arms if isinstance(arm(a), ScreenedArm))

    def intake_settings(self) -> IntakeSettings:
        """The intake of the screened arms; TrialError names a bad method or length (the
        criteria file is checked once, in `__post_init__`; each batch loads it)."""
        try:
            method = ScreeningMethod(self.screening)
        except ValueError:
            raise TrialError(f"--screening {self.screening!r} is not a method: "
                             f"{', '.join(m.value for m in ScreeningMethod)}") from None
        if not 1 <= self.screening_days <= 3:
            raise TrialError(f"--screening-days must be 1-3, not {self.screening_days}")
        if method is ScreeningMethod.BOLUS and self.screening_days != 1:
            raise TrialError("--screening-days is for an infusion; a test bolus is one dose")
        return IntakeSettings(method, self.screening_days, self.criteria)

    def loaded_scenario(self) -> Scenario | None:
        return None if self.scenario is None else resolve_scenario(self.scenario)

    def batches(self) -> list[tuple[int, int]]:
        return [(start, min(start + self.batch_size, self.patients))
                for start in range(0, self.patients, self.batch_size)]


@dataclass(frozen=True)
class BatchTask:
    config: TrialConfig
    start: int
    stop: int


def run_batch(task: BatchTask) -> list[ArmRun]:
    """One batch, every arm (runs in a worker: it loads what it needs itself)."""
    config = task.config
    cohort = sample_cohort(indices=range(task.start, task.stop), seed=config.seed,
                           archetype_name=config.archetype)
    arms = [arm(name) for name in config.arms]
    settings = TrialSettings(days=config.days, dt_min=config.dt_min,
                             scenario=config.loaded_scenario())
    intake = config.intake_settings() if config.screened_arms() else None
    return simulate_batch(cohort, arms, load_library(config.library), settings, intake)


class Executor(Protocol):
    """Runs batch tasks; yields (task position, result) as each one finishes."""

    def run(self, tasks: Sequence[BatchTask]) -> Iterator[tuple[int, list[ArmRun]]]: ...


#: Local worker processes allowed per CPU core.
WORKERS_PER_CORE = 4


@dataclass(frozen=True)
class LocalExecutor:
    """In this process (workers=1) or a local process pool of 1 to `WORKERS_PER_CORE` x the
    CPU cores workers (more only wait for each other and use memory)."""

    workers: int = 1

    def __post_init__(self) -> None:
        most = WORKERS_PER_CORE * (os.cpu_count() or 1)
        if not 1 <= self.workers <= most:
            raise TrialError(f"--workers {self.workers} outside 1 to {most} ({WORKERS_PER_CORE} "
                             "per CPU core of this machine)")

    def run(self, tasks: Sequence[BatchTask]) -> Iterator[tuple[int, list[ArmRun]]]:
        if self.workers <= 1 or len(tasks) == 1:
            for position, task in enumerate(tasks):
                yield position, run_batch(task)
            return
        with ProcessPoolExecutor(max_workers=self.workers) as pool:
            futures = {pool.submit(run_batch, task): i for i, task in enumerate(tasks)}
            for future in as_completed(futures):
                yield futures[future], future.result()


@dataclass(frozen=True)
class DaskExecutor:
    """On a Dask distributed cluster at `address` (e.g. tcp://127.0.0.1:8786)."""

    address: str

    def __post_init__(self) -> None:
        """Refuse an address without a host and a port 1-65535 before anything runs."""
        _, _, rest = self.address.rpartition("://")
        host, _, port = rest.rpartition(":")
        if not host or not port.isascii() or not port.isdigit() or not 0 < int(port) < 65536:
            raise TrialError(f"--scheduler {self.address!r} is not a Dask scheduler address "
                             "like tcp://127.0.0.1:8786 (a host and a port 1-65535)")

    def run(self, tasks: Sequence[BatchTask]) -> Iterator[tuple[int, list[ArmRun]]]:
        from distributed import Client
        from distributed import as_completed as dask_completed

        try:
            client = Client(self.address, timeout="10s")  # type: ignore[no-untyped-call]
        except (OSError, TimeoutError, ValueError) as exc:
            raise TrialError(f"cannot reach the Dask scheduler at {self.address}: {exc}") from exc
        with client:
            futures = client.map(run_batch, list(tasks), pure=False)
            positions = {future.key: i for i, future in enumerate(futures)}
            for future in dask_completed(futures):  # type: ignore[no-untyped-call]
                yield positions[future.key], future.result()


@dataclass(frozen=True)
class ArmResult:
    """One arm over the whole cohort (patients in index order): daily records (NaN after
    death), grades and inventory per day, the baseline, outcomes and metrics, the weekly
    series (`idds.trial.weekly`) and the Kaplan-Meier survival."""

    name: str
    history: dict[str, NDArray[np.float32]]
    grades: NDArray[np.int8]
    inventory: NDArray[np.float32]
    baseline: Baseline
    death_day: Array
    outcomes: PatientOutcomes
    metrics: dict[str, Estimate]
    reasons: dict[str, int]
    pain_by_hour: Array
    presses_by_hour: Array
    refused_by_hour: Array
    weekly: dict[str, Any]
    survival: SurvivalCurve
    #: A screened arm's intake and its analyses (`idds.trial.flow`); None for other arms.
    selection: Selection | None = None
    flow: Flow | None = None
    as_treated: dict[str, dict[str, Estimate]] | None = None
    predictive: PredictiveValue | None = None
    #: An estimating controller's forecasts against the next days' diaries (empty: none).
    calibration: Calibration = field(default_factory=Calibration)


@dataclass(frozen=True)
class TrialResult:
    """A whole trial: its config, each arm, and the oral morphine mg per mg IT that OME
    figures use (from the drug library; 300 for the classic ladder)."""

    config: TrialConfig
    arms: dict[str, ArmResult] = field(default_factory=dict)
    it_to_oral: float = LADDER_ORAL_PER_IT_MG


def _merge(name: str, runs: list[ArmRun], it_to_oral: float, seed: int) -> ArmResult:
    history = {key: np.concatenate([r.history[key] for r in runs], axis=1)
               for key in runs[0].history}
    grades = np.concatenate([r.grades for r in runs], axis=2)
    inventory = np.concatenate([r.inventory for r in runs], axis=2)
    base = [r.baseline for r in runs]
    baseline = Baseline(
        row={key: np.concatenate([b.row[key] for b in base]) for key in base[0].row},
        grades=np.concatenate([b.grades for b in base], axis=1),
        inventory=np.concatenate([b.inventory for b in base], axis=1),
    )
    death_day = np.concatenate([r.death_day for r in runs])
    prior = np.concatenate([r.prior_oral_mg_per_day for r in runs])
    visits = np.concatenate([r.visits for r in runs])
    refills = np.concatenate([r.refills for r in runs])
    outcomes = patient_outcomes(history, baseline.row, visits, refills, it_to_oral, prior)
    selected = [r.selection for r in runs if r.selection is not None]
    selection = Selection.concatenate(selected) if selected else None
    reasons = np.sum([r.reasons for r in runs], axis=0)
    pain_sum = np.sum([r.pain_by_hour_sum for r in runs], axis=0)
    pain_count = np.sum([r.pain_by_hour_count for r in runs], axis=0)
    return ArmResult(
        name=name,
        history=history,
        grades=grades,
        inventory=inventory,
        baseline=baseline,
        death_day=death_day,
        outcomes=outcomes,
        metrics=arm_metrics(outcomes, seed),
        reasons={Reason(i).name.lower(): int(c) for i, c in enumerate(reasons) if c},
        pain_by_hour=pain_sum / np.maximum(pain_count, 1),
        presses_by_hour=np.sum([r.presses_by_hour for r in runs], axis=0),
        refused_by_hour=np.sum([r.refused_by_hour for r in runs], axis=0),
        weekly=weekly_series(history, grades, inventory, baseline, it_to_oral),
        survival=trial_survival(death_day, outcomes.days),
        selection=selection,
        flow=None if selection is None else flow(selection, death_day, outcomes.days, outcomes),
        as_treated=None if selection is None else as_treated(selection, outcomes, seed),
        predictive=None if selection is None else predictive_value(selection),
        calibration=Calibration.total([r.calibration for r in runs]),
    )


def run_trial(
    config: TrialConfig,
    executor: Executor | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> TrialResult:
    """Run every batch, then merge per arm in patient order and compute the metrics."""
    tasks = [BatchTask(config, start, stop) for start, stop in config.batches()]
    results: list[list[ArmRun] | None] = [None] * len(tasks)
    for done, (position, runs) in enumerate((executor or LocalExecutor()).run(tasks), 1):
        results[position] = runs
        if progress is not None:
            progress(done, len(tasks))
    library = load_library(config.library)
    it_to_oral = oral_to_it_ratio(library.drug("morphine"))
    merged = {}
    for a, name in enumerate(config.arms):
        runs = [batch[a] for batch in results if batch is not None]
        merged[name] = _merge(name, runs, it_to_oral, config.seed)
    return TrialResult(config, merged, it_to_oral)
