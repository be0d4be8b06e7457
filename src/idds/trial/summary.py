"""What a batch hands back: per-patient outcomes and sums that add up, not whole histories.

A million-patient trial cannot hold every patient's every day (10^6 patients x 100 days x 30
daily fields is 12 GB per arm in float32). So each batch reduces its `ArmRun`, in the worker,
to an `ArmSummary`: the per-patient outcomes (`PatientOutcomes`, a few numbers per patient),
the run-in baseline and death days (per patient), and sums that add across batches (the
weekly series, the hours of day, the reasons, the forecast calibration). The daily histories
travel back only for the first `TrialConfig.histories` patients of the cohort: the report's
daily figures, the day-by-day patient and the per-patient-day CSV use those. Every metric
uses every patient. Merging is in patient order, so the numbers do not depend on the workers.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from idds.trial.arms import Reason
from idds.trial.calibration import Calibration
from idds.trial.engine import ArmRun, Baseline
from idds.trial.flow import Flow, PredictiveValue, as_treated, flow, predictive_value
from idds.trial.intake import Selection
from idds.trial.metrics import Estimate, PatientOutcomes, arm_metrics, patient_outcomes
from idds.trial.survival import SurvivalCurve, trial_survival
from idds.trial.weekly import WeeklySums, weekly_sums

Array = NDArray[np.float64]


@dataclass(frozen=True)
class ArmSummary:
    """One arm on one batch, reduced: per-patient outcomes, baseline and death days; sums of
    the weekly series, of pain, presses and refusals by hour of day (24,) and of the
    reasons; the forecast calibration (its per-patient beliefs for the first `kept` patients
    only); a screened arm's intake; the daily histories of the batch's first `kept`
    patients (history (days, kept), grades (days, N_SYMPTOMS, kept), inventory (days,
    N_ITEMS, kept))."""

    name: str
    outcomes: PatientOutcomes
    baseline: Baseline
    death_day: Array
    weekly: WeeklySums
    reasons: NDArray[np.int64]
    pain_by_hour_sum: Array
    pain_by_hour_count: Array
    presses_by_hour: Array
    refused_by_hour: Array
    calibration: Calibration
    selection: Selection | None
    history: dict[str, NDArray[np.float32]]
    grades: NDArray[np.int8]
    inventory: NDArray[np.float32]


def summarize(run: ArmRun, it_to_oral: float, kept: int) -> ArmSummary:
    """The summary of one arm's batch, keeping the daily histories of its first `kept`
    patients (0 to the batch size); `it_to_oral`: oral mg per IT mg for the OME."""
    keep = slice(0, max(0, kept))
    return ArmSummary(
        name=run.arm,
        outcomes=patient_outcomes(run.history, run.baseline.row, run.visits, run.refills,
                                  it_to_oral, run.prior_oral_mg_per_day),
        baseline=run.baseline,
        death_day=run.death_day,
        weekly=weekly_sums(run.history, run.grades, run.inventory, run.baseline, it_to_oral),
        reasons=run.reasons,
        pain_by_hour_sum=run.pain_by_hour_sum,
        pain_by_hour_count=run.pain_by_hour_count,
        presses_by_hour=run.presses_by_hour,
        refused_by_hour=run.refused_by_hour,
        # the beliefs per patient serve the day-by-day patient only: kept like the histories
        calibration=replace(run.calibration, believed=run.calibration.believed[keep]),
        selection=run.selection,
        history={k: v[:, keep].copy() for k, v in run.history.items()},
        grades=run.grades[:, :, keep].copy(),
        inventory=run.inventory[:, :, keep].copy(),
    )


@dataclass(frozen=True)
class ArmResult:
    """One arm over the whole cohort (patients in index order): the daily records (NaN after
    death), grades and inventory per day of the first `histories_kept` patients; the
    baseline, death days, outcomes and metrics of every patient; the weekly series
    (`idds.trial.weekly`) and the Kaplan-Meier survival."""

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

    @property
    def histories_kept(self) -> int:
        """Patients (the first of the cohort) whose daily histories this result holds."""
        return int(self.history["pain_mean"].shape[1])


def merge(parts: list[ArmSummary], seed: int) -> ArmResult:
    """One arm's batch summaries (in patient order) as the whole cohort's result."""
    base = [p.baseline for p in parts]
    baseline = Baseline(
        row={key: np.concatenate([b.row[key] for b in base]) for key in base[0].row},
        grades=np.concatenate([b.grades for b in base], axis=1),
        inventory=np.concatenate([b.inventory for b in base], axis=1),
    )
    death_day = np.concatenate([p.death_day for p in parts])
    outcomes = PatientOutcomes.concatenate([p.outcomes for p in parts])
    selected = [p.selection for p in parts if p.selection is not None]
    selection = Selection.concatenate(selected) if selected else None
    reasons = np.sum([p.reasons for p in parts], axis=0)
    pain_sum = np.sum([p.pain_by_hour_sum for p in parts], axis=0)
    pain_count = np.sum([p.pain_by_hour_count for p in parts], axis=0)
    return ArmResult(
        name=parts[0].name,
        history={key: np.concatenate([p.history[key] for p in parts], axis=1)
                 for key in parts[0].history},
        grades=np.concatenate([p.grades for p in parts], axis=2),
        inventory=np.concatenate([p.inventory for p in parts], axis=2),
        baseline=baseline,
        death_day=death_day,
        outcomes=outcomes,
        metrics=arm_metrics(outcomes, seed),
        reasons={Reason(i).name.lower(): int(c) for i, c in enumerate(reasons) if c},
        pain_by_hour=pain_sum / np.maximum(pain_count, 1),
        presses_by_hour=np.sum([p.presses_by_hour for p in parts], axis=0),
        refused_by_hour=np.sum([p.refused_by_hour for p in parts], axis=0),
        weekly=WeeklySums.add(p.weekly for p in parts).series(),
        survival=trial_survival(death_day, outcomes.days),
        selection=selection,
        flow=None if selection is None else flow(selection, death_day, outcomes.days, outcomes),
        as_treated=None if selection is None else as_treated(selection, outcomes, seed),
        predictive=None if selection is None else predictive_value(selection),
        calibration=Calibration.total([p.calibration for p in parts]),
    )
