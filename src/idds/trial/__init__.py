"""In-silico trials: cohorts of virtual patients under dosing strategies (arms), vectorised.

`run_trial(TrialConfig(...))` runs every arm on the same patients; `write_report` writes
metrics.json, report.html, report.pdf and patient_days.csv. See docs/trial.md.
"""

from idds.control.prescription import Prescription
from idds.trial.arms import Arm, ArmContext, Decision, Reason
from idds.trial.batch import simulate_batch
from idds.trial.engine import ArmRun, TrialSettings
from idds.trial.registry import ARMS
from idds.trial.runner import (
    DaskExecutor,
    LocalExecutor,
    TrialConfig,
    TrialError,
    TrialResult,
    run_trial,
)

__all__ = [
    "ARMS",
    "Arm",
    "ArmContext",
    "ArmRun",
    "DaskExecutor",
    "Decision",
    "LocalExecutor",
    "Prescription",
    "Reason",
    "TrialConfig",
    "TrialError",
    "TrialResult",
    "TrialSettings",
    "run_trial",
    "simulate_batch",
]
