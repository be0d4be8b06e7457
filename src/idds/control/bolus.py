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

Refused remote presses are unmet need: `one_more_bolus` allows one more bolus a day where
they reach `refused_per_day` a day and the decision allows it (the intelligent controller's
rule, shared by the treat-to-target rule; IDDS assumption).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from idds.control.observations import Observations

Array = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.int64]

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


def one_more_bolus(obs: Observations, current_max_per_day: IntArray, allowed: BoolArray,
                   refused_per_day: float, max_per_day: int) -> tuple[IntArray, BoolArray]:
    """Boluses a day (n,) and who got one more: where `allowed`, refused presses of at least
    `refused_per_day` a day allow one more bolus a day, up to `max_per_day`."""
    more: BoolArray = allowed & (obs.refused_per_day >= refused_per_day) & (
        current_max_per_day < max_per_day)
    out: IntArray = np.where(more, current_max_per_day + 1, current_max_per_day).astype(np.int64)
    return out, more
