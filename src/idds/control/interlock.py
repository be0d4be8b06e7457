"""Physiological interlock after the OpenICE PCA interlock (ref, devices).

Each signal (sedation score, respiratory rate) has a warning and a critical limit
(`InterlockLimits`). A missing reading (NaN) counts as a warning. One warning: no increase;
two warnings: an alarm; any critical reading: a critical alarm. The supervisor latches alarms
until a clinician resets them (`idds.control.supervisor.reset_alarm`). Pure and vectorised.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, IntFlag

import numpy as np
from numpy.typing import NDArray

from idds.control.bounds import InterlockLimits
from idds.control.observations import Observations

IntArray = NDArray[np.int64]


class Level(IntEnum):
    """Interlock level per patient, ordered by severity."""

    CLEAR = 0
    WARNING = 1
    ALARM = 2
    CRITICAL = 3


class Signal(IntFlag):
    """Which readings were outside their limits (or missing)."""

    NONE = 0
    SEDATION_WARNING = 1
    SEDATION_CRITICAL = 2
    SEDATION_MISSING = 4
    RESPIRATORY_WARNING = 8
    RESPIRATORY_CRITICAL = 16
    RESPIRATORY_MISSING = 32


_SIGNAL_TEXT = {
    Signal.SEDATION_WARNING: "sedation at the warning limit",
    Signal.SEDATION_CRITICAL: "sedation at the critical limit",
    Signal.SEDATION_MISSING: "no sedation score (counts as a warning)",
    Signal.RESPIRATORY_WARNING: "respiratory rate below the warning limit",
    Signal.RESPIRATORY_CRITICAL: "respiratory rate below the critical limit",
    Signal.RESPIRATORY_MISSING: "no respiratory rate (counts as a warning)",
}


def describe(signals: int) -> list[str]:
    """Readable list of the signals set in a `Signal` bit mask."""
    return [text for flag, text in _SIGNAL_TEXT.items() if signals & flag]


@dataclass(frozen=True)
class Reading:
    """The interlock's assessment of yesterday's readings: level and signals per patient."""

    level: IntArray
    signals: IntArray


def assess(obs: Observations, limits: InterlockLimits) -> Reading:
    """Level and signals from the sedation score (POSS 1-4) and lowest respiratory rate."""
    sed, rr = obs.sedation_max, obs.respiratory_rate_min
    sed_missing, rr_missing = np.isnan(sed), np.isnan(rr)
    with np.errstate(invalid="ignore"):
        sed_crit = ~sed_missing & (sed >= limits.sedation_critical_poss)
        sed_warn = ~sed_missing & ~sed_crit & (sed >= limits.sedation_warning_poss)
        rr_crit = ~rr_missing & (rr < limits.respiratory_critical_per_min)
        rr_warn = ~rr_missing & ~rr_crit & (rr < limits.respiratory_warning_per_min)
    signals = (
        sed_warn * int(Signal.SEDATION_WARNING)
        + sed_crit * int(Signal.SEDATION_CRITICAL)
        + sed_missing * int(Signal.SEDATION_MISSING)
        + rr_warn * int(Signal.RESPIRATORY_WARNING)
        + rr_crit * int(Signal.RESPIRATORY_CRITICAL)
        + rr_missing * int(Signal.RESPIRATORY_MISSING)
    ).astype(np.int64)
    warnings = (
        sed_warn.astype(np.int64) + sed_missing + rr_warn + rr_missing
    )
    level = np.select(
        [sed_crit | rr_crit, warnings >= 2, warnings == 1],
        [Level.CRITICAL, Level.ALARM, Level.WARNING],
        default=Level.CLEAR,
    ).astype(np.int64)
    return Reading(level=level, signals=signals)
