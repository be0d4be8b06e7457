"""The screening's verdict from its course: pure, with the numbers that decided it.

In order (`ScreeningRule` holds every threshold):
1. STOPPED_FOR_SAFETY: in a monitored hour after the test dose the lowest respiratory rate
   fell below `stop_respiratory_rate_per_min`, or the POSS reached `stop_poss` above the
   patient's own highest POSS of the baseline (sedation the prior regimen already gave is
   not the test dose's);
2. NEGATIVE for intolerable side effects: an acute side effect (`intolerable_side_effects`)
   reached `intolerable_grade` and was above the patient's own worst baseline grade of it;
3. POSITIVE: pain fell by at least `relief_threshold_percent` from the pre-trial baseline (the
   mean of the baseline diary entries) on `sustained_entries` consecutive diary entries;
4. otherwise NEGATIVE: not enough relief (the best relief is named).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from functools import partial

import numpy as np
from numpy.typing import NDArray

from idds.physiology.symptoms import Symptom
from idds.selection.record import PriorScreen
from idds.selection.screening_rules import ScreeningRule, ScreeningVerdict
from idds.units import Quantity

Array = NDArray[np.float64]


@dataclass(frozen=True)
class ScreeningDecision:
    """One patient's verdict: reasons name the numbers; baseline_nrs is the mean baseline
    diary NRS; best_relief_percent the largest fall of a diary entry from it after the dose
    (0 if none); sustained_relief_percent the largest fall held on the rule's
    `sustained_entries` consecutive entries (0 if none: what "pain fell by >= 50%" is judged
    on); the lowest respiratory rate (breaths/min) and highest POSS after the dose;
    stopped_at_h: hours after the dose at which the stop rule fired (None: not stopped);
    intolerable: stopped for safety or negative for an intolerable side effect;
    monitored_h: hours observed after the dose (monitoring goes on after a stop)."""

    verdict: ScreeningVerdict
    reasons: tuple[str, ...]
    baseline_nrs: float
    best_relief_percent: float
    lowest_respiratory_rate_per_min: float
    highest_poss: int
    stopped_at_h: float | None
    sustained_relief_percent: float = 0.0
    intolerable: bool = False
    monitored_h: float = 0.0

    def as_prior_screen(self) -> PriorScreen:
        """The result as a candidacy record's `screening_result`: the sustained fall in pain
        (whole percent, rounded down so a fall just short of a threshold never passes it),
        the hours monitored, in a monitored setting, and whether side effects were
        intolerable."""
        return PriorScreen(
            pain_reduction_percent=max(-100, min(100, math.floor(self.sustained_relief_percent))),
            observed=Quantity.of(Fraction(self.monitored_h).limit_denominator(60), "h"),
            monitored=True,
            intolerable_side_effects=self.intolerable,
        )


def _h(hour: float) -> str:
    return f"{hour:g} h after the test dose"


def _sustained(relief: Array, entries: int) -> float:
    """The largest relief held on `entries` consecutive diary entries (0 if too few)."""
    if relief.size < entries:
        return 0.0
    windows = np.lib.stride_tricks.sliding_window_view(relief, entries)
    return max(0.0, float(windows.min(axis=1).max()))


def _decide_one(hours: Array, diary: Array, rr: Array, poss: NDArray[np.int64],
                 graded: NDArray[np.int8], rule: ScreeningRule) -> ScreeningDecision:
    before, after = hours <= 0, hours > 0
    entries = diary[before][~np.isnan(diary[before])]
    baseline = float(entries.mean()) if entries.size else math.nan
    post_h, post_diary = hours[after], diary[after]
    has = ~np.isnan(post_diary)
    relief = (baseline - post_diary[has]) / baseline * 100.0 if baseline > 0 \
        else np.zeros(int(has.sum()))
    best = float(relief.max(initial=0.0))
    decided = partial(ScreeningDecision,
                      sustained_relief_percent=_sustained(relief, rule.sustained_entries),
                      monitored_h=float(post_h.max(initial=0.0)))
    low_rr, high_poss = float(rr[after].min()), int(poss[after].max())
    summary = (f"lowest respiratory rate {low_rr:.1f}/min, highest POSS {high_poss} over "
               f"{int(post_h.max())} h of monitoring")

    own_poss = int(poss[before].max(initial=1))
    sedated = (poss[after] >= rule.stop_poss) & (poss[after] > own_poss)
    unsafe = (rr[after] < rule.stop_respiratory_rate_per_min) | sedated
    if unsafe.any():
        k = int(np.argmax(unsafe))
        why = []
        if rr[after][k] < rule.stop_respiratory_rate_per_min:
            why.append(f"respiratory rate {rr[after][k]:.1f}/min, below the stop rule's "
                       f"{rule.stop_respiratory_rate_per_min:g}/min")
        if sedated[k]:
            why.append(f"POSS {poss[after][k]}, at or above the stop rule's {rule.stop_poss} "
                       f"(the patient's highest before the dose: {own_poss})")
        return decided(ScreeningVerdict.STOPPED_FOR_SAFETY,
                        (f"Stopped for safety {_h(post_h[k])}: {' and '.join(why)}.",
                         f"Best relief before then: {_relief_until(relief, post_h[has], post_h[k])}"
                         f" against the baseline NRS {baseline:.1f}."),
                        baseline, best, low_rr, high_poss, float(post_h[k]), intolerable=True)

    names = [s.label for s in Symptom]
    for name in rule.intolerable_side_effects:
        s = names.index(name)
        own = int(graded[before, s].max(initial=0))
        bad = (graded[after, s] >= rule.intolerable_grade) & (graded[after, s] > own)
        if bad.any():
            k = int(np.argmax(bad))
            return decided(ScreeningVerdict.NEGATIVE,
                            (f"Intolerable side effect: {name.replace('_', ' ')} grade "
                             f"{graded[after, s][k]} {_h(post_h[k])} (the rule's intolerable "
                             f"grade {rule.intolerable_grade}; the patient's own before the "
                             f"dose: {own}).",
                             f"Best relief {best:.0f}% against the baseline NRS {baseline:.1f}; "
                             f"{summary}."),
                            baseline, best, low_rr, high_poss, None, intolerable=True)

    if not baseline > 0:
        return decided(ScreeningVerdict.NEGATIVE,
                        ("No pain at baseline (no diary entry above 0): relief cannot be "
                         "measured.",), 0.0 if entries.size else math.nan, 0.0, low_rr,
                        high_poss, None)
    ok = relief >= rule.relief_threshold_percent
    run = 0
    for j, hit in enumerate(ok):
        run = run + 1 if hit else 0
        if run >= rule.sustained_entries:
            first = j - rule.sustained_entries + 1
            shown = ", ".join(f"NRS {post_diary[has][i]:.0f} at {post_h[has][i]:g} h "
                              f"({relief[i]:.0f}%)" for i in range(first, j + 1))
            return decided(ScreeningVerdict.POSITIVE,
                            (f"Pain fell by >= {rule.relief_threshold_percent:g}% from the "
                             f"baseline NRS {baseline:.1f} on {rule.sustained_entries} "
                             f"consecutive diary entries: {shown}; best relief {best:.0f}%.",
                             f"No intolerable side effect; {summary}."),
                            baseline, best, low_rr, high_poss, None)
    return decided(ScreeningVerdict.NEGATIVE,
                    (f"Not enough relief: best {best:.0f}% against the baseline NRS "
                     f"{baseline:.1f}; the rule asks >= {rule.relief_threshold_percent:g}% on "
                     f"{rule.sustained_entries} consecutive diary entries.",
                     f"No intolerable side effect; {summary}."),
                    baseline, best, low_rr, high_poss, None)


def _relief_until(relief: Array, entry_h: Array, until_h: float) -> str:
    shown = relief[entry_h <= until_h]
    return f"{shown.max():.0f}%" if shown.size else "no diary entry yet"


def decide(hours: Array, diary: Array, rr: Array, poss: NDArray[np.int64],
           graded: NDArray[np.int8], rule: ScreeningRule) -> tuple[ScreeningDecision, ...]:
    """Every patient's decision from the hourly course (arrays (H, n); graded (H, S, n))."""
    return tuple(_decide_one(hours, diary[:, i], rr[:, i], poss[:, i], graded[:, :, i], rule)
                 for i in range(diary.shape[1]))
