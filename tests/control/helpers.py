"""Builders for control tests: observations and therapies for n patients from plain values."""

from __future__ import annotations

from typing import Any

import numpy as np

from idds.control.observations import Observations
from idds.control.prescription import HOURS, Prescription

_FIELDS = {
    "diary_mean_nrs": 3.0,
    "diary_entries": 9.0,
    "days_since_diary": 0.0,
    "presses_per_day": 0.0,
    "refused_per_day": 0.0,
    "sedation_max": 1.0,
    "respiratory_rate_min": 15.0,
    "side_effect_burden": 1.0,
    "respiratory_events": 0.0,
}


def observations(n: int = 1, day: int = 10, window_days: int = 3, **values: Any) -> Observations:
    """Observations with calm defaults; each field a number (all patients) or a list."""
    arrays = {}
    for name, default in _FIELDS.items():
        v = values.get(name, default)
        arrays[name] = np.broadcast_to(np.asarray(
            np.nan if v is None else v, dtype=np.float64), (n,)).copy()
    if "side_effect_reports" not in values:  # one report a day of the window, as in trials
        arrays["side_effect_reports"] = np.where(np.isfinite(arrays["side_effect_burden"]),
                                                 float(min(day + 1, window_days)), 0.0)
    else:
        arrays["side_effect_reports"] = np.broadcast_to(np.asarray(
            values["side_effect_reports"], dtype=np.float64), (n,)).copy()
    hours = {}
    for name in ("presses_by_hour", "refused_by_hour"):
        v = values.get(name, [0.0] * HOURS)
        hours[name] = np.broadcast_to(np.asarray(v, dtype=np.float64), (n, HOURS)).copy()
    return Observations(day=day, window_days=window_days, **arrays, **hours)


def therapy(n: int = 1, it_mg: float | list[float] = 4.0, oral_mg: float = 0.0,
            bolus_mg: float | None = None, max_boluses: int = 4,
            lockout_min: float = 120.0) -> Prescription:
    it = np.broadcast_to(np.asarray(it_mg, dtype=np.float64), (n,)).copy()
    return Prescription(
        oral_mg_per_day=np.full(n, oral_mg),
        oral_rescue_mg=np.zeros(n),
        it_mg_per_day=it,
        flex=np.ones((n, HOURS)),
        bolus_mg=np.minimum(it * 0.1, 0.5) if bolus_mg is None else np.full(n, bolus_mg),
        lockout_min=np.full(n, lockout_min),
        max_boluses_per_day=np.full(n, max_boluses, dtype=np.int64),
    )
