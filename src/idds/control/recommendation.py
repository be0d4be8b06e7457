"""What a controller returns: a recommended therapy with one reason per patient.

A recommendation is a whole `Prescription` (the intrathecal part is what controllers change: daily
dose, 24-hour flex shape, patient bolus dose, lockout, boluses per day), a `ControlReason` per
patient and the controller's predicted diary pain at that therapy (NaN when it makes no
prediction). It is only a proposal: the safety supervisor decides what is delivered.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np
from numpy.typing import NDArray

from idds.control.prescription import Prescription

Array = NDArray[np.float64]
IntArray = NDArray[np.int64]


class ControlReason(IntEnum):
    """Why a controller recommends what it does (one per patient)."""

    HOLD_CONTROLLED = 0
    INCREASE_UNCONTROLLED = 1
    DECREASE_OVERCONTROLLED = 2
    DECREASE_SIDE_EFFECTS = 3
    HOLD_SIDE_EFFECTS = 4
    HOLD_NO_DATA = 5
    RESHAPE_FLEX = 6
    ADJUST_BOLUS = 7
    HOLD_LEARNING = 8
    HOLD_LITTLE_BENEFIT = 9
    DECREASE_LITTLE_BENEFIT = 10

    @property
    def text(self) -> str:
        return _TEXT[self]


_TEXT = {
    ControlReason.HOLD_CONTROLLED: "pain controlled at the smallest dose found: dose held",
    ControlReason.INCREASE_UNCONTROLLED: "pain predicted above target: daily dose increased",
    ControlReason.DECREASE_OVERCONTROLLED: "pain predicted controlled at a lower dose: reduced",
    ControlReason.DECREASE_SIDE_EFFECTS: "sedation, slow breathing or intolerable side effects: "
    "reduced",
    ControlReason.HOLD_SIDE_EFFECTS: "pain above target but breathing or side effects limit the "
    "dose: held",
    ControlReason.HOLD_NO_DATA: "no recent diary: dose held",
    ControlReason.RESHAPE_FLEX: "breakthrough pain at regular hours: same daily dose moved "
    "before them (flex)",
    ControlReason.ADJUST_BOLUS: "refused remote presses (unmet need): patient bolus settings "
    "changed",
    ControlReason.HOLD_LEARNING: "too little data to estimate the response yet: dose held",
    ControlReason.HOLD_LITTLE_BENEFIT: "pain above target but more drug is predicted to buy "
    "little relief (flat top of the dose-response): held",
    ControlReason.DECREASE_LITTLE_BENEFIT: "the last part of the dose is predicted to buy little "
    "relief: reduced",
}


@dataclass(frozen=True)
class Recommendation:
    """A controller's proposal for n patients.

    therapy: the recommended therapy (oral fields are passed through unchanged).
    reasons: `ControlReason` per patient, (n,). predicted_nrs: diary pain the controller
    expects at the recommended therapy (NaN: no prediction), (n,).
    """

    therapy: Prescription
    reasons: IntArray
    predicted_nrs: Array

    def text(self, i: int) -> str:
        """Readable reason for patient i."""
        return ControlReason(int(self.reasons[i])).text

    @staticmethod
    def hold(therapy: Prescription, reason: ControlReason) -> Recommendation:
        """Keep the therapy as it is, with one reason for everyone."""
        n = therapy.n
        return Recommendation(therapy, np.full(n, reason, dtype=np.int64), np.full(n, np.nan))
