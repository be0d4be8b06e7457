"""Per-patient-day data as CSV, for analysis in R, pandas or a spreadsheet.

One row per arm, patient and trial day: `arm`, `patient` (0-based index in the cohort),
`day` (1-based trial day), `alive` (1, or 0 after death, when every value is empty), then every
daily field of `idds.trial.history.DAILY_FIELDS` (units in their names' documentation,
docs/trial.md). Values are written with up to 6 significant figures.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from idds.trial.history import DAILY_FIELDS
from idds.trial.runner import TrialResult

COLUMNS = ("arm", "patient", "day", "alive", *DAILY_FIELDS)


def _cell(value: float) -> str:
    return "" if not np.isfinite(value) else f"{value:.6g}"


def write_patient_days(result: TrialResult, path: Path) -> Path:
    """Write the CSV; returns its path."""
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for name, arm in result.arms.items():
            fields = [arm.history[f].astype(np.float64) for f in DAILY_FIELDS]
            days, patients = fields[0].shape
            alive = np.isfinite(fields[0])
            for patient in range(patients):
                for day in range(days):
                    writer.writerow([name, patient, day + 1, int(alive[day, patient]),
                                     *(_cell(v[day, patient]) for v in fields)])
    return path
