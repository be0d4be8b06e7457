"""The supervisor's checks: one flag per limit that can make the delivered therapy differ from
the recommendation, with the text that explains it.

A patient's checks are a `Check` bit mask (an int64 per patient in arrays). `describe` turns a
mask into readable texts; `NEEDS_CLINICIAN` are the flags only a clinician can clear.
"""

from __future__ import annotations

from enum import IntFlag


class Check(IntFlag):
    """The limits that made the delivered therapy differ from the recommendation."""

    NONE = 0
    INVALID = 1
    HARD_LIMIT = 2
    SOFT_LIMIT = 4
    CLINICIAN_BOUND = 8
    MAX_INCREASE_DAY = 16
    MAX_INCREASE_WEEK = 32
    MAX_DECREASE_DAY = 64
    MONITORING_WINDOW = 128
    STALE_DIARY = 256
    INTERLOCK_WARNING = 512
    ALARM_NEW = 1024
    ALARM_LATCHED = 2048
    FLEX_BOUND = 4096
    RESTART = 8192


_CHECK_TEXT = {
    Check.INVALID: "recommendation invalid (negative, not finite, flex not averaging 1, or a "
    "bolus with no boluses allowed): refused",
    Check.HARD_LIMIT: "drug library hard limit",
    Check.SOFT_LIMIT: "drug library soft limit not allowed by the clinician: held",
    Check.CLINICIAN_BOUND: "outside the clinician's bounds: held for a clinician",
    Check.MAX_INCREASE_DAY: "increase above the per-change step: reduced to the step",
    Check.MAX_INCREASE_WEEK: "increase above the per-week limit: reduced to it",
    Check.MAX_DECREASE_DAY: "decrease above the per-day limit: reduced to it",
    Check.MONITORING_WINDOW: "inside the monitoring window after the last increase: no increase",
    Check.STALE_DIARY: "diary missing or stale: no increase",
    Check.INTERLOCK_WARNING: "interlock warning (sedation, breathing or missing reading): "
    "no increase",
    Check.ALARM_NEW: "interlock alarm: delivery reduced or stopped, boluses off, latched",
    Check.ALARM_LATCHED: "interlock alarm latched until a clinician resets it: no increase",
    Check.FLEX_BOUND: "flex multipliers outside the clinician's range: shape refused",
    Check.RESTART: "pump stopped: restarting is a clinician's decision",
}

#: Checks that need a clinician to act.
NEEDS_CLINICIAN = (
    Check.SOFT_LIMIT | Check.CLINICIAN_BOUND | Check.RESTART | Check.ALARM_NEW | Check.ALARM_LATCHED
)


def describe(checks: int) -> list[str]:
    """Readable texts of the flags set in a `Check` mask."""
    return [text for flag, text in _CHECK_TEXT.items() if checks & flag]
