"""What a dose controller may see: observations a real system has, for n patients at once.

Never the virtual patient's hidden state. The trial engine builds these from its daily records
(`idds.trial.history.observe`); the programmer builds them for one patient (n = 1) from the
pump log, the diary and nurse or wearable readings.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]


@dataclass(frozen=True)
class Observations:
    """What a real system knows at the end of day `day` (0-based), arrays (n,).

    diary_mean_nrs: mean diary NRS over the last `window_days` (NaN: no entry).
    diary_entries: diary entries in that window.
    days_since_diary: whole days since the last day with a diary entry (inf: never).
    presses_per_day, refused_per_day: patient remote presses and refusals per day (window).
    presses_by_hour: (n, 24) remote presses (given or refused) per hour of day over the last
        7 days; refused_by_hour: (n, 24) the refused ones (unmet need).
    sedation_max: highest POSS (1-4) yesterday; respiratory_rate_min: lowest rate yesterday,
        breaths/min (nurse checks or a wearable).
    side_effect_burden: mean patient-reported side-effect burden (0-10) over the window's
        reports (NaN: none); side_effect_reports: how many reports that mean is over (a trial
        has one a day).
    respiratory_events: respiratory depression events in the window.
    """

    day: int
    window_days: int
    diary_mean_nrs: Array
    diary_entries: Array
    days_since_diary: Array
    presses_per_day: Array
    refused_per_day: Array
    presses_by_hour: Array
    refused_by_hour: Array
    sedation_max: Array
    respiratory_rate_min: Array
    side_effect_burden: Array
    side_effect_reports: Array
    respiratory_events: Array
