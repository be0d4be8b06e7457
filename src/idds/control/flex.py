"""Flex shaping: move the same daily dose to the hours before this patient's breakthrough pain.

Remote presses by hour of day over the last week (given and refused; refused ones count
twice: unmet need) show when breakthrough pain comes. Incident pain clusters around personal
activity times (docs/physiology.md; Davies 2013: 44% incident). Intrathecal morphine acts
slowly: lumbar CSF half-life about 3 h (Nordberg 1984), so a rate change reaches the spinal
site over hours; the shape therefore raises the rate over the `lead_hours` before each busy
hour. The result averages 1 over the day (`Prescription.flex`: same daily dose, moved), stays in
[min_flex, max_flex], and moves halfway from the current shape each day (no jumps).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from idds.control.observations import Observations
from idds.control.prescription import HOURS

Array = NDArray[np.float64]


def normalise(flex: Array, low: float | Array, high: float) -> Array:
    """Rows scaled to mean 1 and kept within [low, high] (a few clip-and-rescale rounds, then
    the exact mean restored by moving the slack of the rows' unclipped hours). low: a number
    or one per row (n, 1); a row whose low is 1 or more comes out flat."""
    low = np.minimum(low, 1.0)
    out = flex / flex.mean(axis=1, keepdims=True)
    for _ in range(20):
        out = np.clip(out, low, high)
        out = out / out.mean(axis=1, keepdims=True)
    out = np.clip(out, low, high)
    gap = 1.0 - out.mean(axis=1, keepdims=True)
    free = np.where(gap > 0, out < high, out > low)
    count = np.maximum(free.sum(axis=1, keepdims=True), 1)
    out = out + np.where(free, gap * HOURS / count, 0.0)
    result: Array = out / out.mean(axis=1, keepdims=True)
    return result


#: A flex shape moved by more than this (a multiplier, at any hour) is a reshape.
RESHAPED = 0.05


def moved(new: Array, current: Array) -> NDArray[np.bool_]:
    """Per patient, whether the flex shape `new` (n, 24) reshapes `current` (`RESHAPED`)."""
    out: NDArray[np.bool_] = np.abs(new - current).max(axis=1) > RESHAPED
    return out


@dataclass(frozen=True)
class FlexShaper:
    """Flex shape from presses by hour.

    min_presses: presses in the week below which the shape relaxes to flat; full_presses:
    presses at which the shape reaches full strength; strength: how far toward the press
    profile the shape goes (0: flat); lead_hours: hours ahead of a busy hour that get its dose;
    min_flex, max_flex: multiplier range (within the clinician's bounds, max 2 by default);
    blend: share of the way from the current shape to the target per day.
    """

    min_presses: float = 3.0
    full_presses: float = 14.0
    strength: float = 1.5
    lead_hours: int = 3
    min_flex: float = 0.4
    max_flex: float = 2.0
    blend: float = 0.5

    def target(self, presses_by_hour: Array, refused_by_hour: Array) -> Array:
        """Target shape (n, 24) from a week of presses (n, 24)."""
        need = presses_by_hour + refused_by_hour
        total = need.sum(axis=1, keepdims=True)
        smooth = 0.5 * need + 0.25 * (np.roll(need, 1, axis=1) + np.roll(need, -1, axis=1))
        # Dose at hour h serves the presses in hours h+1 .. h+lead.
        ahead = np.sum([np.roll(smooth, -k, axis=1) for k in range(1, self.lead_hours + 1)], axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(total > 0, ahead / np.maximum(ahead.mean(axis=1, keepdims=True),
                                                           1e-12), 1.0)
        weight = np.clip((total - self.min_presses) / (self.full_presses - self.min_presses),
                         0.0, 1.0) * self.strength
        raw = 1.0 + weight * (share - 1.0)
        return normalise(np.maximum(raw, self.min_flex), self.min_flex, self.max_flex)

    def shape(self, obs: Observations, current: Array, low: Array | None = None) -> Array:
        """Tomorrow's flex shape (n, 24), mean 1, moved halfway from the current one.
        low: per-patient lowest multiplier (n,) (e.g. the device's minimum rate / dose)."""
        target = self.target(obs.presses_by_hour, obs.refused_by_hour)
        mixed = (1.0 - self.blend) * current + self.blend * target
        floor = self.min_flex if low is None else np.maximum(self.min_flex, low)[:, None]
        return normalise(mixed, floor, self.max_flex)
