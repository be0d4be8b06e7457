"""Running a whole trial: seeded batches of patients behind an executor seam, then merged.

A patient's result depends only on (seed, archetype, patient index) and the arm, never on the
batch it ran in, so the same seed gives the same numbers with 1 worker, a process pool or a
Dask cluster (docs/design.md principle 7). Each batch comes back as per-arm summaries
(`idds.trial.summary`), merged in patient order: memory grows with the patients' outcomes,
not with their days, so a cohort of millions fits.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from idds.control.intelligent import LADDER_ORAL_PER_IT_MG
from idds.control.registry import oral_to_it_ratio
from idds.drugs import load_library
from idds.errors import IddsError
from idds.physiology import ARCHETYPES, sample_cohort
from idds.selection import load_criteria
from idds.selection.screening_rules import ScreeningMethod
from idds.trial.batch import simulate_batch
from idds.trial.engine import TrialSettings
from idds.trial.intake import IntakeSettings
from idds.trial.precision import Precision, PrecisionResult, Tally, conclude
from idds.trial.registry import ARMS, arm
from idds.trial.scenario import Scenario, resolve_scenario
from idds.trial.screened import SCREENED_SUFFIX, ScreenedArm
from idds.trial.summary import ArmResult, ArmSummary, merge, summarize


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
    #: Patients (the cohort's first) whose daily histories are kept for the report's daily
    #: figures, the day-by-day patient and the CSV; metrics use every patient.
    histories: int = 10_000
    #: Run batches until this rare outcome's interval is narrow enough (`patients`: the
    #: budget), or None: run every patient.
    precision: Precision | None = None
    #: Days by the compiled loop where it applies (`TrialSettings.compiled`); False: the
    #: readable loop throughout (the same numbers to round-off, about 1.5x slower).
    compiled: bool = True

    def __post_init__(self) -> None:
        if self.patients < 1:
            raise TrialError(f"--patients must be at least 1, not {self.patients}")
        if self.days < 1:
            raise TrialError(f"--days must be at least 1, not {self.days}")
        if self.seed < 0:
            raise TrialError(f"--seed must be a whole number >= 0, not {self.seed}")
        if self.batch_size < 1:
            raise TrialError("batch size must be at least 1")
        if self.histories < 1:
            raise TrialError(f"--histories must be at least 1 (the report shows one patient "
                             f"day by day), not {self.histories}")
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


def run_batch(task: BatchTask) -> list[ArmSummary]:
    """One batch, every arm, each reduced to its summary (runs in a worker: it loads what it
    needs itself); the daily histories travel back for the cohort's first
    `config.histories` patients only."""
    config = task.config
    cohort = sample_cohort(indices=range(task.start, task.stop), seed=config.seed,
                           archetype_name=config.archetype)
    arms = [arm(name) for name in config.arms]
    settings = TrialSettings(days=config.days, dt_min=config.dt_min,
                             scenario=config.loaded_scenario(), compiled=config.compiled)
    intake = config.intake_settings() if config.screened_arms() else None
    library = load_library(config.library)
    it_to_oral = oral_to_it_ratio(library.drug("morphine"))
    kept = min(task.stop, config.histories) - task.start
    return [summarize(run, it_to_oral, kept)
            for run in simulate_batch(cohort, arms, library, settings, intake)]


class Executor(Protocol):
    """Runs batch tasks; yields (task position, result) as each one finishes. `parallel`:
    batches it runs at once (a trial to a precision runs waves of that many)."""

    @property
    def parallel(self) -> int: ...

    def run(self, tasks: Sequence[BatchTask]) -> Iterator[tuple[int, list[ArmSummary]]]: ...


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

    @property
    def parallel(self) -> int:
        return self.workers

    def run(self, tasks: Sequence[BatchTask]) -> Iterator[tuple[int, list[ArmSummary]]]:
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
    """On a Dask distributed cluster at `address` (e.g. tcp://127.0.0.1:8786). `workers`:
    the batches of a wave when a trial runs to a precision; 0 (the default): the cluster's
    worker threads, asked of the scheduler."""

    address: str
    workers: int = 0

    def __post_init__(self) -> None:
        """Refuse an address without a host and a port 1-65535 before anything runs."""
        _, _, rest = self.address.rpartition("://")
        host, _, port = rest.rpartition(":")
        if not host or not port.isascii() or not port.isdigit() or not 0 < int(port) < 65536:
            raise TrialError(f"--scheduler {self.address!r} is not a Dask scheduler address "
                             "like tcp://127.0.0.1:8786 (a host and a port 1-65535)")
        if self.workers < 0:
            raise TrialError(f"Dask workers per wave must be 0 (ask the cluster) or more, not "
                             f"{self.workers}")

    def _client(self) -> Any:
        from distributed import Client

        try:
            return Client(self.address, timeout="10s")  # type: ignore[no-untyped-call]
        except (OSError, TimeoutError, ValueError) as exc:
            raise TrialError(f"cannot reach the Dask scheduler at {self.address}: {exc}") from exc

    @property
    def parallel(self) -> int:
        if self.workers:
            return self.workers
        with self._client() as client:
            threads: dict[str, int] = client.nthreads()
        return max(1, sum(threads.values()))

    def run(self, tasks: Sequence[BatchTask]) -> Iterator[tuple[int, list[ArmSummary]]]:
        from distributed import as_completed as dask_completed

        with self._client() as client:
            futures = client.map(run_batch, list(tasks), pure=False)
            positions = {future.key: i for i, future in enumerate(futures)}
            for future in dask_completed(futures):  # type: ignore[no-untyped-call]
                yield positions[future.key], future.result()


@dataclass(frozen=True)
class TrialResult:
    """A whole trial: its config (`patients`: those that ran), each arm, the oral morphine mg
    per mg IT that OME figures use (from the drug library; 300 for the classic ladder), and
    where a precision was asked for, whether it was reached (`idds.trial.precision`)."""

    config: TrialConfig
    arms: dict[str, ArmResult] = field(default_factory=dict)
    it_to_oral: float = LADDER_ORAL_PER_IT_MG
    precision: PrecisionResult | None = None

    @property
    def histories_kept(self) -> int:
        """Patients (the cohort's first) whose daily histories every arm holds."""
        return min(arm.histories_kept for arm in self.arms.values())


def _run_batches(config: TrialConfig, executor: Executor,
                 progress: Callable[[int, int], None] | None,
                 ) -> tuple[list[list[ArmSummary]], dict[str, Tally]]:
    """The batches' summaries in patient order (all of them, or up to the first at which the
    precision is reached) and each arm's tally of the precision's events."""
    tasks = [BatchTask(config, start, stop) for start, stop in config.batches()]
    precision = config.precision
    wave = len(tasks) if precision is None else executor.parallel
    tallies = {name: Tally() for name in config.arms}
    done: list[list[ArmSummary]] = []
    for first in range(0, len(tasks), wave):
        group = tasks[first:first + wave]
        results: list[list[ArmSummary]] = [[] for _ in group]
        for finished, (position, summaries) in enumerate(executor.run(group), 1):
            results[position] = summaries
            if progress is not None:
                progress(first + finished, len(tasks))
        for summaries in results:
            done.append(summaries)
            if precision is None:
                continue
            for name, part in zip(config.arms, summaries, strict=True):
                tallies[name].add(part.outcomes, precision)
            if all(precision.reached(t.events, t.patient_days) for t in tallies.values()):
                return done, tallies
    return done, tallies


def run_trial(
    config: TrialConfig,
    executor: Executor | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> TrialResult:
    """Run the batches, merge each arm's summaries in patient order and compute the metrics.

    With `config.precision`, batches run in waves of `executor.parallel` and the trial stops
    after the first batch (in patient order) at which the precision is reached in every arm
    (`idds.trial.precision`); `config.patients` is then the budget and the result's config
    says how many ran."""
    done, tallies = _run_batches(config, executor or LocalExecutor(), progress)
    ran = config.batches()[len(done) - 1][1]
    library = load_library(config.library)
    it_to_oral = oral_to_it_ratio(library.drug("morphine"))
    merged = {name: merge([batch[a] for batch in done], config.seed)
              for a, name in enumerate(config.arms)}
    outcome = (None if config.precision is None
               else conclude(config.precision, tallies, ran, config.patients))
    ran_config = config if ran == config.patients else replace(config, patients=ran)
    return TrialResult(ran_config, merged, it_to_oral, outcome)
