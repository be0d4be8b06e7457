"""Opioid-tolerant patients on their stable prior regimen breathe normally.

Calibration target (an assumption of this model; no figure in shared/reference): on the
default refractory cohort's own stable oral regimen, respiratory depression (rate below
8/min) stays under 1 event per 100 patient-days and the 5th percentile of the day's lowest
respiratory rate stays at or above 10/min. Tolerance to respiratory depression develops further
than tolerance to analgesia (`PDParams.respiratory_tolerance_exponent`).
"""

from __future__ import annotations

import numpy as np

from idds.physiology import sample_cohort
from idds.trial.engine import TrialSettings, run_in


def test_stable_regimen_rarely_depresses_breathing() -> None:
    cohort = sample_cohort(1000, seed=11)
    _, baseline = run_in(cohort, TrialSettings(days=1))
    day = baseline.row
    events_per_100_patient_days = 100 * day["respiratory_events"].sum() / cohort.n
    assert events_per_100_patient_days < 1.0
    assert np.percentile(day["respiratory_rate_min"], 5) >= 10.0
    assert day["pain_mean"].mean() > 6.5  # still refractory pain on that regimen
