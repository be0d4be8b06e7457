"""The supervisor's checks: one flag per limit that can make the delivered therapy differ from
the recommendation, with its words from one table, `CHECKS`: a label (what the check looks at)
and a text (what it did when it applied).

A patient's checks are a `Check` bit mask (an int64 per patient in arrays). `describe` turns a
mask into readable texts; `NEEDS_CLINICIAN` are the flags only a clinician can clear.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntFlag


class Check(IntFlag):
    """The limits that made the delivered therapy differ from the recommendation. Each flag
    has a `label` (what the check looks at, for a "checks applied" list) and a `text` (what
    it did when it applied), from one table, `CHECKS`."""

    NONE = 0
    INVALID = 1
    HARD_LIMIT = 2
    SOFT_LIMIT = 4
    CLINICIAN_BOUND = 8
    MAX_INCREASE_PER_DAY = 16
    MAX_INCREASE_WEEK = 32
    MAX_DECREASE_DAY = 64
    MONITORING_WINDOW = 128
    STALE_DIARY = 256
    INTERLOCK_WARNING = 512
    ALARM_NEW = 1024
    ALARM_LATCHED = 2048
    FLEX_BOUND = 4096
    RESTART = 8192
    LOSS_OF_EFFECT = 16384
    NO_DIARY_CALL = 32768

    @property
    def label(self) -> str:
        """What the check looks at ("; " between the flags of a mask, "" for NONE)."""
        return "; ".join(info.label for flag, info in CHECKS.items() if self & flag)

    @property
    def text(self) -> str:
        """What the check did when it applied ("; " between flags, "" for NONE)."""
        return "; ".join(describe(int(self)))


@dataclass(frozen=True)
class CheckInfo:
    """One check's words: `label`, what it looks at; `text`, what it did when applied."""

    label: str
    text: str


#: Every check's label and text, in flag order (the one table of the supervisor's checks).
CHECKS: dict[Check, CheckInfo] = {
    Check.INVALID: CheckInfo(
        "recommendation well formed",
        "recommendation invalid (negative, not finite, flex not averaging 1, or a bolus with "
        "no boluses allowed): refused"),
    Check.HARD_LIMIT: CheckInfo("drug library hard limits", "drug library hard limit"),
    Check.SOFT_LIMIT: CheckInfo(
        "drug library soft limits",
        "drug library soft limit not allowed by the clinician: held"),
    Check.CLINICIAN_BOUND: CheckInfo(
        "clinician's bounds", "outside the clinician's bounds: held for a clinician"),
    Check.MAX_INCREASE_PER_DAY: CheckInfo(
        "increase per change", "increase above the per-change step: reduced to the step"),
    Check.MAX_INCREASE_WEEK: CheckInfo(
        "increase over the week's lowest dose",
        "increase above the per-week limit: reduced to it"),
    Check.MAX_DECREASE_DAY: CheckInfo(
        "decrease per day", "decrease above the per-day limit: reduced to it"),
    Check.MONITORING_WINDOW: CheckInfo(
        "monitoring window after the last increase (pump log)",
        "inside the monitoring window after the last increase: no increase"),
    Check.STALE_DIARY: CheckInfo(
        "diary recent and complete", "diary missing or stale: no increase"),
    Check.INTERLOCK_WARNING: CheckInfo(
        "interlock: sedation and breathing",
        "interlock warning (sedation, breathing or missing reading): no increase"),
    Check.ALARM_NEW: CheckInfo(
        "interlock alarm",
        "interlock alarm: delivery reduced or stopped, boluses off, latched"),
    Check.ALARM_LATCHED: CheckInfo(
        "latched alarm",
        "interlock alarm latched until a clinician resets it: no increase"),
    Check.FLEX_BOUND: CheckInfo(
        "flex multipliers within the clinician's range",
        "flex multipliers outside the clinician's range: shape refused"),
    Check.RESTART: CheckInfo(
        "pump running (a restart is the clinician's)",
        "pump stopped: restarting is a clinician's decision"),
    Check.LOSS_OF_EFFECT: CheckInfo(
        "pain response to the dose (diary over the week)",
        "pain risen well above the week's best without a matching dose cut (no response: a "
        "catheter or pump failure, or progression): no increase, the dose of the week's best "
        "day restored, clinician called"),
    Check.NO_DIARY_CALL: CheckInfo(
        "diary kept at all",
        "no diary for days: dose held, clinician called"),
}

#: Checks that need a clinician to act.
NEEDS_CLINICIAN = (
    Check.SOFT_LIMIT | Check.CLINICIAN_BOUND | Check.RESTART | Check.ALARM_NEW | Check.ALARM_LATCHED
    | Check.LOSS_OF_EFFECT | Check.NO_DIARY_CALL
)
#: Checks that hold a recommendation for a clinician (the verdict `HELD_FOR_CLINICIAN`).
HOLDS_FOR_CLINICIAN = (
    Check.SOFT_LIMIT | Check.CLINICIAN_BOUND | Check.RESTART | Check.LOSS_OF_EFFECT
    | Check.NO_DIARY_CALL
)


def describe(checks: int) -> list[str]:
    """Readable texts of the flags set in a `Check` mask."""
    return [info.text for flag, info in CHECKS.items() if checks & flag]
