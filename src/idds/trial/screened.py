"""Arms that start from referral: `it-screened` and `ARM+screened` (intention to treat).

A screened arm takes every patient through the intake (`idds.trial.intake`: candidacy, the
screening trial, the decision); those who receive intrathecal therapy then follow its inner
IT arm (`it-standard` for `it-screened`), the others continue `cmm`. Each patient's course is
the inner arm's or cmm's course of that same virtual patient (a patient's result depends only
on the seed, the archetype, the patient's index and the arm: docs/design.md principle 7), so
the screened arm runs each patient once, on the arm they receive.

For the predictive value of the screen, every screened patient who was not implanted is also
run on the inner arm to day 28 (a counterfactual only a simulation can give): whether the
pump would have succeeded at 4 weeks is then known for screen-positive and screen-negative
patients alike (`SUCCESS_DAY`, `success_at`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import NDArray

from idds.drugs import DrugLibrary
from idds.physiology import Cohort
from idds.physiology.symptoms import Symptom
from idds.selection.screening_rules import ScreeningRule
from idds.trial.arms import Arm, ComprehensiveMedicalManagement
from idds.trial.calibration import Calibration
from idds.trial.engine import ArmRun, Baseline, TrialSettings, run_arm, run_in
from idds.trial.intake import NOT_EVALUABLE, Intake, Selection

SCREENED_SUFFIX = "+screened"
#: The day (1-based, end of week 4) at which success on intrathecal therapy is judged.
SUCCESS_DAY = 28


@dataclass(frozen=True)
class ScreenedArm:
    """An IT arm preceded by the intake; patients not given IT therapy continue `fallback`."""

    name: str
    inner: Arm
    fallback: Arm = field(default_factory=ComprehensiveMedicalManagement)

    @property
    def uses_pump(self) -> bool:
        return True


def screened(inner: Arm, name: str | None = None) -> ScreenedArm:
    """`inner` from referral (the name: `inner.name + "+screened"` unless given)."""
    return ScreenedArm(name or inner.name + SCREENED_SUFFIX, inner)


def success_at(run: ArmRun, rule: ScreeningRule, day: int = SUCCESS_DAY) -> NDArray[np.int8]:
    """Success of each patient of `run` in the week ending on `day` (1-based), by the
    screening's own rule: mean pain that week fallen by >= the rule's relief threshold from
    the run-in day, and no acute side effect of the rule's list at its intolerable grade above
    the patient's run-in grade on any day of it. -1 where the patient did not live to `day`
    or the run is shorter."""
    days = run.history["pain_mean"].shape[0]
    n = run.indices.shape[0]
    if days < day:
        return np.full(n, NOT_EVALUABLE, dtype=np.int8)
    week = slice(day - 7, day)
    pain = run.history["pain_mean"][week].astype(np.float64)
    alive = np.isfinite(pain).all(axis=0)
    base = run.baseline.row["pain_mean"]
    with np.errstate(invalid="ignore", divide="ignore"):
        relief = np.where(base > 0, (base - pain.mean(axis=0)) / base * 100.0, 0.0)
    acute = [int(Symptom[name.upper()]) for name in rule.intolerable_side_effects]
    graded = run.grades[week][:, acute, :].max(axis=0)
    own = run.baseline.grades[acute, :]
    intolerable = ((graded >= rule.intolerable_grade) & (graded > own)).any(axis=0)
    success = (relief >= rule.relief_threshold_percent) & ~intolerable
    return np.where(alive, success.astype(np.int8), NOT_EVALUABLE).astype(np.int8)


def _part(cohort: Cohort, positions: NDArray[np.intp], arm: Arm, library: DrugLibrary,
          settings: TrialSettings) -> ArmRun | None:
    if positions.size == 0:
        return None
    sub = cohort.take(positions)
    start, baseline = run_in(sub, settings)
    return run_arm(sub, start, baseline, arm, library, settings)


def combine(name: str, parts: list[tuple[NDArray[np.intp], ArmRun]],
            baseline: Baseline) -> ArmRun:
    """One run of the cohort from runs of its parts, each given with the cohort positions of
    its patients (together every position once), in cohort order."""
    at = np.argsort(np.concatenate([positions for positions, _ in parts]))
    runs = [run for _, run in parts]
    return ArmRun(
        arm=name,
        indices=np.concatenate([r.indices for r in runs])[at],
        history={k: np.concatenate([r.history[k] for r in runs], axis=1)[:, at]
                 for k in runs[0].history},
        grades=np.concatenate([r.grades for r in runs], axis=2)[:, :, at],
        inventory=np.concatenate([r.inventory for r in runs], axis=2)[:, :, at],
        baseline=baseline,
        death_day=np.concatenate([r.death_day for r in runs])[at],
        prior_oral_mg_per_day=np.concatenate([r.prior_oral_mg_per_day for r in runs])[at],
        visits=np.concatenate([r.visits for r in runs])[at],
        refills=np.concatenate([r.refills for r in runs])[at],
        reasons=np.sum([r.reasons for r in runs], axis=0),
        pain_by_hour_sum=np.sum([r.pain_by_hour_sum for r in runs], axis=0),
        pain_by_hour_count=np.sum([r.pain_by_hour_count for r in runs], axis=0),
        presses_by_hour=np.sum([r.presses_by_hour for r in runs], axis=0),
        refused_by_hour=np.sum([r.refused_by_hour for r in runs], axis=0),
        calibration=Calibration.total([r.calibration for r in runs]).take(at),
    )


def run_screened(cohort: Cohort, baseline: Baseline, arm: ScreenedArm, library: DrugLibrary,
                 settings: TrialSettings, intake: Intake, rule: ScreeningRule) -> ArmRun:
    """Run a screened arm on `cohort` (whose intake is `intake`, in the same order; baseline:
    the whole cohort's run-in day)."""
    it = intake.intrathecal
    parts = []
    for positions, chosen in ((np.flatnonzero(it), arm.inner), (np.flatnonzero(~it), arm.fallback)):
        part = _part(cohort, positions, chosen, library, settings)
        if part is not None:
            parts.append((positions, part))
    run = combine(arm.name, parts, baseline)
    success = np.full(cohort.n, NOT_EVALUABLE, dtype=np.int8)
    screened_it = intake.screened & it
    success[screened_it] = success_at(run, rule)[screened_it]
    missed = np.flatnonzero(intake.screened & ~it)
    if missed.size and settings.days >= SUCCESS_DAY:
        counterfactual = _part(cohort, missed, arm.inner, library,
                               replace(settings, days=SUCCESS_DAY))
        assert counterfactual is not None
        success[missed] = success_at(counterfactual, rule)
    return replace(run, selection=Selection(intake, success))
