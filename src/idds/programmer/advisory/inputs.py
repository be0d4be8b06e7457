"""The controllers' and the supervisor's inputs for one patient (n = 1), from the clinician's
entries and the pump's log. Stale or absent entries are NaN (the supervisor treats them as
missing); every input gets a line saying what was used or what was missing.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from idds.control.observations import Observations
from idds.control.prescription import Prescription
from idds.control.supervisor import WEEK, SupervisorState
from idds.programmer.advisory.clinical import ClinicalInput, TimedEntry
from idds.programmer.advisory.common import READING_HOURS, WINDOW_DAYS, AdvisoryError
from idds.programmer.advisory.history import PumpHistory

Array = NDArray[np.float64]

def build_observations(clinical: ClinicalInput, history: PumpHistory, now: dt.datetime
                       ) -> tuple[Observations, tuple[str, ...]]:
    """`Observations` for one patient and a line per input saying what was used or missing.
    Stale or absent entries are NaN (the supervisor treats them as missing)."""
    for name in ("diary", "sedation", "respiratory", "side_effects"):
        for r in getattr(clinical, name):
            if r.time > now:
                raise AdvisoryError(f"{name} entry at {r.time.isoformat()} is after the visit "
                                    f"time {now.isoformat()}")
    window = now - dt.timedelta(days=WINDOW_DAYS)
    recent = now - dt.timedelta(hours=READING_HOURS)
    diary = [r.value for r in clinical.diary if r.time > window]
    notes = []
    if clinical.diary:
        last = clinical.diary[-1].time
        since_days = float(math.floor((now - last) / dt.timedelta(days=1)))
        age = f"last {(now - last) / dt.timedelta(hours=1):.1f} h ago"
    else:
        since_days, age = math.inf, "none entered"
    if diary:
        notes.append(f"Pain diary: mean NRS {np.mean(diary):.1f} from {len(diary)} entries in "
                     f"{WINDOW_DAYS} days ({age})")
    else:
        notes.append(f"Pain diary: MISSING (no entry in the last {WINDOW_DAYS} days; {age})")

    def latest(readings: tuple[TimedEntry, ...], pick: Callable[[list[float]], float],
               what: str, unit: str) -> float:
        values = [r.value for r in readings if r.time > recent]
        if not values:
            stale = " (older readings are stale)" if readings else ""
            notes.append(f"{what}: MISSING (none in the last {READING_HOURS:.0f} h){stale}")
            return math.nan
        value = pick(values)
        notes.append(f"{what}: {value:g}{unit} ({len(values)} readings in "
                     f"{READING_HOURS:.0f} h)")
        return value

    sedation = latest(clinical.sedation, max, "Sedation (highest POSS)", "")
    rate = latest(clinical.respiratory, min, "Respiratory rate (lowest)", "/min")
    burden_values = [r.value for r in clinical.side_effects if r.time > window]
    burden = float(np.mean(burden_values)) if burden_values else math.nan
    notes.append(f"Side-effect burden: {burden:.1f}/10" if burden_values else
                 f"Side-effect burden: MISSING (none in the last {WINDOW_DAYS} days)")
    events = sum(1 for r in clinical.respiratory if r.time > window and r.value < 8)
    k = min(history.day + 1, WINDOW_DAYS)
    notes.append(f"Remote presses (pump log): {history.presses_window} in {WINDOW_DAYS} days "
                 f"({history.refused_window} refused); {int(history.presses_by_hour.sum())} "
                 "in 7 days")

    def one(x: float) -> Array:
        return np.array([x], dtype=np.float64)

    obs = Observations(
        day=history.day,
        window_days=WINDOW_DAYS,
        diary_mean_nrs=one(float(np.mean(diary)) if diary else math.nan),
        diary_entries=one(len(diary)),
        days_since_diary=one(since_days),
        presses_per_day=one(history.presses_window / k),
        refused_per_day=one(history.refused_window / k),
        presses_by_hour=history.presses_by_hour[None, :].astype(np.float64),
        refused_by_hour=history.refused_by_hour[None, :].astype(np.float64),
        sedation_max=one(sedation),
        respiratory_rate_min=one(rate),
        side_effect_burden=one(burden),
        side_effect_reports=one(len(burden_values)),
        respiratory_events=one(events),
    )
    return obs, tuple(notes)


def supervisor_state(history: PumpHistory, therapy: Prescription) -> SupervisorState:
    """The supervisor's memory rebuilt from the pump's log: the last increase and the week's
    lowest basal dose. No alarm is latched between visits (the clinician present decides)."""
    day = history.day
    since = history.hours_since_increase
    last = -math.inf if since is None else day - since / 24.0
    return SupervisorState(
        day=day - 1,
        last_increase_day=np.array([last]),
        recent_daily_mg=np.full((WEEK, 1), min(history.lowest_daily_mg,
                                               float(therapy.it_mg_per_day[0]))),
        latched=np.zeros(1, dtype=np.int64),
        alarm_cap_mg=np.array([math.inf]),
        pre_alarm_mg=np.zeros(1),
    )


