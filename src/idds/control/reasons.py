"""One vocabulary of reasons: why a therapy is left as it is or changed, with one text each.

Controllers and titration rules (`idds.control`) give one `Reason` per patient with each
recommendation (`CONTROLLER_REASONS`); the trial's arms (`idds.trial.arms`) give one per patient
per day, adding their own (no visit, the systemic taper, a hold for a clinician, an alarm, an
opioid rotation, a rescue kept).

The codes are stored in arrays and counted per code by the trial, and the counts reach
metrics.json by name in code order: existing codes are never renumbered, new reasons are added
at the end.
"""

from __future__ import annotations

from enum import IntEnum


class Reason(IntEnum):
    """Why a controller, a titration rule or a trial arm decided what it did (per patient)."""

    NO_VISIT = 0
    HOLD_CONTROLLED = 1
    INCREASE_UNCONTROLLED = 2
    HOLD_SIDE_EFFECTS = 3
    DECREASE_SIDE_EFFECTS = 4
    TAPER_SYSTEMIC = 5
    HOLD_NO_DATA = 6
    HELD_FOR_CLINICIAN = 7
    ALARM_STOP = 8
    HOLD_LITTLE_BENEFIT = 9
    DECREASE_LITTLE_BENEFIT = 10
    DECREASE_OVERCONTROLLED = 11
    ROTATE_SIDE_EFFECTS = 12
    RESCUE_KEPT = 13
    RESHAPE_FLEX = 14
    ADJUST_BOLUS = 15
    HOLD_LEARNING = 16
    HOLD_PREDICTED_WORSE = 17
    HOLD_INTERVAL = 18
    HOLD_NO_RESPONSE = 19
    CALL_NO_DIARY = 20
    INCREASE_TIME_IN_TARGET = 21

    @property
    def text(self) -> str:
        """The reason in words (one table, `TEXT`)."""
        return TEXT[self]


#: Every reason's text: true whichever controller, rule or arm gives it.
TEXT: dict[Reason, str] = {
    Reason.NO_VISIT: "no clinic visit today",
    Reason.HOLD_CONTROLLED: "pain controlled: dose held",
    Reason.INCREASE_UNCONTROLLED: "pain above target without limiting side effects: daily dose "
    "increased",
    Reason.HOLD_SIDE_EFFECTS: "pain above target but breathing or side effects limit the dose: "
    "held",
    Reason.DECREASE_SIDE_EFFECTS: "sedation, slow breathing or intolerable side effects: reduced",
    Reason.TAPER_SYSTEMIC: "systemic opioid tapered after the implant",
    Reason.HOLD_NO_DATA: "no recent diary: dose held",
    Reason.HELD_FOR_CLINICIAN: "recommendation outside the clinician's bounds: held for review",
    Reason.ALARM_STOP: "physiological alarm: delivery stopped or reduced, latched until reset",
    Reason.HOLD_LITTLE_BENEFIT: "pain above target but more drug is predicted to buy little "
    "relief (flat top of the dose-response): held",
    Reason.DECREASE_LITTLE_BENEFIT: "the last part of the dose is predicted to buy little "
    "relief: reduced",
    Reason.DECREASE_OVERCONTROLLED: "pain controlled with room to spare: reduced toward the "
    "smallest effective dose",
    Reason.ROTATE_SIDE_EFFECTS: "side effects limit the oral opioid: rotated to another opioid "
    "at an equianalgesic dose",
    Reason.RESCUE_KEPT: "pain not yet controlled on the pump: oral rescue kept after the taper",
    Reason.RESHAPE_FLEX: "breakthrough pain at regular hours: same daily dose moved before them "
    "(flex)",
    Reason.ADJUST_BOLUS: "refused remote presses (unmet need): patient bolus settings changed",
    Reason.HOLD_LEARNING: "too little data to estimate the response yet: dose held",
    Reason.HOLD_PREDICTED_WORSE: "the change is predicted to leave pain worse than the current "
    "program, with no side-effect or safety gain: held",
    Reason.HOLD_INTERVAL: "pain above target but the last increase is within the drug library's "
    "minimum interval between increases: held",
    Reason.HOLD_NO_RESPONSE: "pain risen well above the week's best without a matching dose "
    "cut (no response: catheter or pump failure, or progression): no increase, the dose of "
    "the week's best day restored, clinician called",
    Reason.CALL_NO_DIARY: "no diary for days: dose held, clinician called",
    Reason.INCREASE_TIME_IN_TARGET: "pain at target on average but above it for part of the "
    "waking day, and more drug is predicted to be worth it: daily dose increased",
}

#: The reasons a controller or a titration rule gives with a recommendation.
CONTROLLER_REASONS: frozenset[Reason] = frozenset({
    Reason.HOLD_CONTROLLED,
    Reason.INCREASE_UNCONTROLLED,
    Reason.DECREASE_OVERCONTROLLED,
    Reason.DECREASE_SIDE_EFFECTS,
    Reason.HOLD_SIDE_EFFECTS,
    Reason.HOLD_NO_DATA,
    Reason.RESHAPE_FLEX,
    Reason.ADJUST_BOLUS,
    Reason.HOLD_LEARNING,
    Reason.HOLD_LITTLE_BENEFIT,
    Reason.DECREASE_LITTLE_BENEFIT,
    Reason.HOLD_PREDICTED_WORSE,
    Reason.HOLD_INTERVAL,
    Reason.INCREASE_TIME_IN_TARGET,
})
