"""The patient bolus a controller recommends: it follows the daily dose, in the dose's direction.

A controller sizes the patient bolus as a share of the daily dose (10% in IDDS's controllers
and in `it-standard`, an assumption from PTM practice, docs/trial.md). Recomputing that share
from scratch at every decision cut the bolus whenever the clinician had programmed a larger
one: on 0.6 mg/day with a 0.1 mg bolus, a +20% step (0.72 mg/day) came with a bolus of
0.072 mg, a cut of the patient's own rescue hidden inside an increase (issue 20). The
supervisor may refuse the increase and let the cut through (a decrease is never gated), so
what was left to program was a pure cut, predicted to leave pain worse, with no side-effect or
safety reason.

The rule, one home for every controller: the bolus moves only the way the daily dose moves.
When the dose goes up, the bolus is the larger of the current bolus and the share of the new
dose (capped at `max_bolus_mg`, never cut by the cap: a bolus above the clinician's bound is
the supervisor's to refuse, with its reason); when the dose goes down (a reduction with a
side-effect or safety reason), the smaller of the two; when the dose is held, the current
bolus. Arrays (n,), mg and mg/day.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]

#: Relative change of the daily dose below which it counts as held (float noise).
HELD = 1e-9


def follow_dose(current_bolus_mg: Array, current_daily_mg: Array, new_daily_mg: Array,
                fraction: float, max_bolus_mg: float = np.inf) -> Array:
    """The patient bolus (mg) for a daily dose moving from `current_daily_mg` to
    `new_daily_mg` (mg/day): the share `fraction` of the new dose, never against the dose's
    direction (see the module docstring)."""
    share = np.minimum(new_daily_mg * fraction, max_bolus_mg)
    up = new_daily_mg > current_daily_mg * (1 + HELD)
    down = new_daily_mg < current_daily_mg * (1 - HELD)
    out: Array = np.select(
        [up, down],
        [np.maximum(current_bolus_mg, share), np.minimum(current_bolus_mg, share)],
        default=current_bolus_mg,
    ).astype(np.float64)
    return out
