"""The systemic opioid around an implant, and the oral rescue rule: one home for every arm.

`rescue_mg` is the oral rescue rule (a rescue dose of 1/6 of the around-the-clock daily dose,
`RESCUE_FRACTION`); `Taper` the systemic taper after an implant, with the rescue following it
and kept only while pain is not controlled. The clinic-visit arms (`idds.trial.arms`) and the
closed-loop arms (`idds.trial.controlled_arms`) take both from here. Pure: every function
returns new arrays and leaves its inputs as they are. Doses: oral morphine, mg/day (around the
clock) and mg (a rescue dose).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from idds.control import Observations
from idds.control.prescription import Prescription
from idds.control.reasons import Reason

Array = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.int64]

#: Oral rescue dose as a share of the around-the-clock oral daily dose: 1/6 (the usual
#: practice of a rescue dose of one sixth of the daily dose; assumption within practice).
RESCUE_FRACTION = 1.0 / 6.0


def rescue_mg(around_the_clock_mg_per_day: Array, fraction: float = RESCUE_FRACTION) -> Array:
    """The oral rescue dose, mg, for an around-the-clock oral dose, mg/day: `fraction` of it."""
    out: Array = around_the_clock_mg_per_day * fraction
    return out


@dataclass(frozen=True)
class Taper:
    """The systemic opioid after the implant. Around the clock: 1/2 of the prior oral dose on
    days 0-2, 1/4 on days 3-6, none from day 7 (abrupt stops cause withdrawal, ref). Oral
    rescue follows the taper (1/6 of the current around-the-clock dose); from day 7 it is kept,
    at 1/6 of the last step, only for patients whose diary pain at a weekly review (days 7, 14,
    ...) is above `controlled_nrs`, and withdrawn at the first review that finds it
    controlled. Whether a patient is off systemic opioids is then what they take, not a
    schedule. The steps and the threshold are assumptions (practice: taper over 1-2 weeks,
    keep a rescue while pain is not yet controlled)."""

    schedule: tuple[tuple[int, float], ...] = ((3, 0.5), (7, 0.25))
    review_every_days: int = 7
    controlled_nrs: float = 4.0
    rescue_fraction: float = RESCUE_FRACTION

    def share(self, day: int) -> float:
        """Share of the prior oral dose taken around the clock on 0-based trial `day`."""
        for until, share in self.schedule:
            if day < until:
                return share
        return 0.0

    def start(self, n: int) -> BoolArray:
        """Who keeps an oral rescue after the taper (decided at the reviews): everyone yet."""
        return np.ones(n, dtype=bool)

    def is_review(self, day: int) -> bool:
        """Whether the rescue is reviewed for 0-based trial `day` (weekly from the taper's end)."""
        return day >= self.schedule[-1][0] and day % self.review_every_days == 0

    def review(self, obs: Observations, keep: BoolArray) -> BoolArray:
        """Who keeps the rescue from tomorrow (unchanged except at a review; a new array)."""
        if not self.is_review(obs.day + 1):
            return keep.copy()
        uncontrolled = ~(obs.diary_mean_nrs <= self.controlled_nrs)  # no diary: keep it
        return keep & uncontrolled

    def therapy(self, therapy: Prescription, prior_mg_per_day: Array, day: int,
                keep: BoolArray) -> Prescription:
        """The therapy on 0-based trial `day`: around-the-clock dose and rescue."""
        share = self.share(day)
        last = self.schedule[-1][1]
        oral = prior_mg_per_day * share
        rescue = np.where(keep, prior_mg_per_day * (share if share > 0 else last), 0.0)
        return therapy.with_(oral_mg_per_day=oral,
                             oral_rescue_mg=rescue_mg(rescue, self.rescue_fraction))

    def step(self, obs: Observations, therapy: Prescription, prior_mg_per_day: Array,
             keep: BoolArray) -> tuple[Prescription, BoolArray, IntArray]:
        """Tomorrow's taper after today's `obs`: the therapy, who keeps a rescue (a new array;
        `keep` is left as it is), and a `Reason` per patient (TAPER_SYSTEMIC where the oral
        therapy changes, RESCUE_KEPT where a review kept the rescue, else NO_VISIT)."""
        after = self.review(obs, keep)
        out = self.therapy(therapy, prior_mg_per_day, obs.day + 1, after)
        changed = ((out.oral_mg_per_day != therapy.oral_mg_per_day)
                   | (out.oral_rescue_mg != therapy.oral_rescue_mg))
        kept = after & self.is_review(obs.day + 1)
        reasons = np.select([changed, kept], [Reason.TAPER_SYSTEMIC, Reason.RESCUE_KEPT],
                            Reason.NO_VISIT).astype(np.int64)
        return out, after, reasons
