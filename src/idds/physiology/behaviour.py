"""Patient behaviour: pain diary, remote presses, oral rescue. Pure, vectorised, seeded.

All thresholds and intervals are assumptions (no figures in the reference); values are in
`idds.physiology.parameters.BehaviourParams`. The patient only decides "wants a bolus now";
whether a bolus is given is the pump's decision.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from idds.physiology import backend
from idds.physiology.parameters import BEHAVIOUR
from idds.physiology.streams import Stream, normal

Array = NDArray[np.float64]


def diary_due(t_min: float, dt_min: float) -> bool:
    """True if a diary time of day falls in (t_min, t_min + dt_min]."""
    for at in BEHAVIOUR.diary_times_min:
        # first occurrence of `at` strictly after t_min
        k = math.floor((t_min - at) / 1440.0) + 1.0
        if at + 1440.0 * k <= t_min + dt_min:
            return True
    return False


def diary_entry(pain_nrs: Array, keys: NDArray[np.uint64], counter: int,
                noise_sd_nrs: float | None = None) -> Array:
    """Reported NRS: the perceived pain plus reporting noise (SD `noise_sd_nrs`, NRS points;
    None: the model's `BehaviourParams.diary_noise_sd_nrs`), rounded to a whole 0-10 number.
    The same keys and counter give the same standard normal draw whatever the SD."""
    sd = BEHAVIOUR.diary_noise_sd_nrs if noise_sd_nrs is None else noise_sd_nrs
    noisy = pain_nrs + sd * normal(keys, Stream.DIARY, counter)
    xp = backend.of(noisy)
    out: Array = xp.clip(xp.round(noisy), 0.0, 10.0)
    return out


def wants_bolus(
    pain_nrs: Array, threshold_nrs: Array, last_press_min: Array, t_min: float
) -> NDArray[np.bool_]:
    """Presses the remote: pain at or above the personal threshold and no press for a while."""
    out: NDArray[np.bool_] = (pain_nrs >= threshold_nrs) & (
        t_min - last_press_min >= BEHAVIOUR.press_interval_min
    )
    return out


def takes_rescue(
    pain_nrs: Array,
    threshold_nrs: Array,
    in_breakthrough: NDArray[np.bool_],
    rescue_mg: Array,
    last_rescue_min: Array,
    t_min: float,
) -> NDArray[np.bool_]:
    """Takes an oral rescue dose: on oral rescue, in a breakthrough episode (rescue is for
    breakthrough pain), pain at or above the threshold, and the rescue interval has passed."""
    out: NDArray[np.bool_] = (
        (rescue_mg > 0)
        & in_breakthrough
        & (pain_nrs >= threshold_nrs)
        & (t_min - last_rescue_min >= BEHAVIOUR.rescue_interval_min)
    )
    return out
