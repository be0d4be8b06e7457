"""One batch of a trial: the shared run-in, the intake when a screened arm asks for it, then
every arm from the same state (common random numbers across arms)."""

from __future__ import annotations

from collections.abc import Sequence

from idds.drugs import DrugLibrary
from idds.physiology import Cohort
from idds.selection import load_criteria
from idds.trial.arms import Arm
from idds.trial.engine import ArmRun, TrialSettings, run_arm, run_in, scenario_cohort
from idds.trial.intake import Intake, IntakeSettings, refer
from idds.trial.screened import ScreenedArm, run_screened

TrialArm = Arm | ScreenedArm


def simulate_batch(cohort: Cohort, arms: Sequence[TrialArm], library: DrugLibrary,
             settings: TrialSettings, intake: IntakeSettings | None = None) -> list[ArmRun]:
    """Every arm on one batch of patients; the intake (`idds.trial.intake.refer`) runs once,
    shared by every screened arm, with `intake` (None: the defaults)."""
    cohort = scenario_cohort(cohort, settings)
    start, baseline = run_in(cohort, settings)
    chosen = intake or IntakeSettings()
    found: Intake | None = None
    runs = []
    for arm in arms:
        if isinstance(arm, ScreenedArm):
            if found is None:
                found = refer(cohort, baseline.row["pain_mean"], baseline.grades, library,
                              load_criteria(chosen.criteria), chosen)
            runs.append(run_screened(cohort, baseline, arm, library, settings, found,
                                     chosen.rule))
        else:
            runs.append(run_arm(cohort, start, baseline, arm, library, settings))
    return runs
