"""Per-pump random draws of the trial's pump twin, from the trial's counter-based streams.

The twin itself (`idds.pump.twin`) draws nothing: the pump package does not import the
physiology layer's streams, so the draw lives here, on the trial side.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from idds.physiology.streams import normal
from idds.pump.hardware import SYSTEMATIC_SD
from idds.pump.rules import LABELLED_ACCURACY

#: Random stream of the per-pump systematic error (physiology streams use < 1000).
PUMP_STREAM = 2001


def systematic_errors(keys: NDArray[np.uint64]) -> NDArray[np.float64]:
    """One systematic flow error per pump, distributed as the firmware draws it
    (`idds.pump.hardware.draw_systematic_error`: normal(0, 5%) redrawn until within the
    labelled +/-14.5%, ref, devices), from the trial's counter-based streams. Moved from
    trial/pump_twin.py unchanged."""
    error = SYSTEMATIC_SD * normal(keys, PUMP_STREAM, 0)
    counter = 1
    while np.any(outside := np.abs(error) > LABELLED_ACCURACY):
        error[outside] = SYSTEMATIC_SD * normal(keys[outside], PUMP_STREAM, counter)
        counter += 1
    out: NDArray[np.float64] = error
    return out
