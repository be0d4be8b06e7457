"""What a controller returns: a recommended therapy with one reason per patient.

A recommendation is a whole `Prescription` (the intrathecal part is what controllers change: daily
dose, 24-hour flex shape, patient bolus dose, lockout, boluses per day), a `Reason` per
patient and the controller's predicted diary pain at that therapy (NaN when it makes no
prediction). It is only a proposal: the safety supervisor decides what is delivered.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from idds.control.prescription import Prescription
from idds.control.reasons import Reason

Array = NDArray[np.float64]
IntArray = NDArray[np.int64]




@dataclass(frozen=True)
class Recommendation:
    """A controller's proposal for n patients.

    therapy: the recommended therapy (oral fields are passed through unchanged).
    reasons: `Reason` per patient (one of `CONTROLLER_REASONS`), (n,). predicted_nrs: diary
    pain the controller expects at the recommended therapy (NaN: no prediction), (n,).
    """

    therapy: Prescription
    reasons: IntArray
    predicted_nrs: Array

    def text(self, i: int) -> str:
        """Readable reason for patient i."""
        return Reason(int(self.reasons[i])).text

    @staticmethod
    def hold(therapy: Prescription, reason: Reason) -> Recommendation:
        """Keep the therapy as it is, with one reason for everyone."""
        n = therapy.n
        return Recommendation(therapy, np.full(n, reason, dtype=np.int64), np.full(n, np.nan))
