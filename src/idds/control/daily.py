"""Yesterday's own values from the windowed observations.

`Observations` give diary and press figures summed or averaged over the last `window_days`.
A controller that sees every day can recover the single last day exactly: the window sum today
minus the last (window - 1) days it already recovered. It carries those days in `DailyState`.
When a day was skipped (or on the first call of a programmer), it falls back to the window's
per-day average, and its means (diary, side-effect burden) are the window's. Pure and
vectorised.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from idds.control.observations import Observations

Array = NDArray[np.float64]

#: Recovered fields, in this order: diary NRS sum, diary entries, boluses given, side-effect
#: burden sum (ratings 0-10) and its reports.
FIELDS = ("diary_sum", "diary_entries", "given", "burden_sum", "burden_reports")


@dataclass(frozen=True)
class Day:
    """One recovered day, arrays (n,): diary mean (NaN: no entry), entries, boluses given,
    side-effect burden 0-10 (NaN: none reported in the window)."""

    diary_mean_nrs: Array
    diary_entries: Array
    boluses_given: Array
    side_effect_burden: Array


@dataclass(frozen=True)
class DailyState:
    """The last (window - 1) recovered days, (window - 1, len(FIELDS), n); `day` the last one
    (-1: none yet, a trial's first call, where the window holds day 0 only)."""

    day: int
    window: int
    recent: Array

    @staticmethod
    def start(n: int, window: int = 3) -> DailyState:
        recent = np.zeros((max(window - 1, 0), len(FIELDS), n))
        return DailyState(day=-1, window=window, recent=recent)


def _window_sums(obs: Observations) -> Array:
    k = min(obs.day + 1, obs.window_days)
    entries = obs.diary_entries
    diary_sum = np.where(entries > 0, np.nan_to_num(obs.diary_mean_nrs) * entries, 0.0)
    given = np.maximum(obs.presses_per_day - obs.refused_per_day, 0.0) * k
    reports = np.round(obs.side_effect_reports)
    burden_sum = np.where(reports > 0, np.nan_to_num(obs.side_effect_burden) * reports, 0.0)
    out: Array = np.stack([np.round(diary_sum), np.round(entries), np.round(given), burden_sum,
                           reports])
    return out


def recover(state: DailyState, obs: Observations) -> tuple[Day, DailyState]:
    """The last observed day's own values, and the new state."""
    sums = _window_sums(obs)
    exact = state.day == obs.day - 1 and state.window == obs.window_days
    if exact:
        today = np.maximum(sums - state.recent.sum(axis=0), 0.0)
    else:
        k = min(obs.day + 1, obs.window_days)
        today = sums / k
        today[1] = np.where(sums[1] > 0, np.maximum(today[1], 1.0), 0.0)
    size = max(obs.window_days - 1, 0)
    history = state.recent if exact else np.repeat(today[None], size, axis=0)
    recent = np.concatenate([history, today[None]], axis=0)[-size:] if size else history[:0]
    own = today if exact else sums  # means: the day's own, or the window's
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(own[1] > 0, own[0] / np.maximum(own[1], 1e-12), np.nan)
        burden = np.where(own[4] > 0, own[3] / np.maximum(own[4], 1e-12), np.nan)
    day = Day(diary_mean_nrs=mean, diary_entries=today[1], boluses_given=today[2],
              side_effect_burden=burden)
    return day, DailyState(day=obs.day, window=obs.window_days, recent=recent)
