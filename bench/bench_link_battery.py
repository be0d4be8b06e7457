"""Worst-case battery cost of the link's admission budgets (issue 13, finding 3).

Prints ONE JSON line, computed (not measured on a radio) from `idds.link.RateLimits` (the
budgets) and the pump's battery model (`idds.pump.hardware`: 30 uJ per processed wake-up,
a 25 920 J cell, 6 years to ERI + 90 days to EOS: *assumptions* stated there, ref, devices):

- worst_case: every budget spent all day, whatever arrives: the shared budget, and the
  verification budget of each of the 4 pairings (forged frames naming each paired key at its
  verification rate); pairing windows are counted apart (`per_window`);
- spoof_4_per_s: the finding's attack, forged frames naming one key at 4/s all day, plus the
  shared budget spent by garbage;
- version_1: the budgets before issue 13 (same computation), for comparison.

Dropped frames cost only the receive and a 22-byte header peek and are not charged.
Run: .venv/bin/python bench/bench_link_battery.py
"""

from __future__ import annotations

import json
from fractions import Fraction

from idds.link import RateLimits
from idds.pump import HardwareSpec
from idds.pump.clock import DAY
from idds.pump.hardware import BATTERY_ENERGY_J, EOS_AFTER_ERI_S, WAKE_ENERGY_J


def cost(frames_per_day: float, spec: HardwareSpec) -> dict[str, float]:
    """Energy and battery life used per day by `frames_per_day` processed wake-ups."""
    baseline_j_per_day = BATTERY_ENERGY_J * DAY / (spec.eri_at_s + EOS_AFTER_ERI_S)
    joules = Fraction(frames_per_day).limit_denominator(1000) * WAKE_ENERGY_J
    life_days = spec.wake_cost_s * Fraction(frames_per_day).limit_denominator(1000) / DAY
    life_s = float((spec.eri_at_s + EOS_AFTER_ERI_S) / DAY)
    return {
        "frames_per_day": round(float(frames_per_day)),
        "joules_per_day": round(float(joules), 3),
        "times_baseline": round(float(joules / baseline_j_per_day), 3),
        "life_days_per_day": round(float(life_days), 3),
        "life_if_sustained_days": round(life_s / (1 + float(life_days)), 1),
    }


def report(limits: RateLimits, spec: HardwareSpec) -> dict[str, object]:
    """The figures stated in docs/protocol.md, "Rate limiting"."""
    shared_day = limits.unauthenticated_burst + limits.unauthenticated_per_minute * 1440
    spoof = min(4.0 * DAY, limits.verify_burst + limits.verify_per_minute * 1440) + shared_day
    window = limits.max_processed_per_day(windows=1) - limits.max_processed_per_day()
    baseline = BATTERY_ENERGY_J * DAY / (spec.eri_at_s + EOS_AFTER_ERI_S)
    return {
        "baseline_joules_per_day": round(float(baseline), 3),
        "wake_cost_s": float(spec.wake_cost_s),
        "tolerates_4_forged_per_s": limits.tolerates_forgery(4.0),
        "worst_case": cost(limits.max_processed_per_day(), spec),
        "spoof_4_per_s": cost(float(spoof), spec),
        "per_window": {"frames": window, "joules": round(float(window * WAKE_ENERGY_J), 4),
                       "life_s": round(float(window * spec.wake_cost_s), 1)},
        "version_1": cost(RateLimits(verify_per_minute=30.0, verify_burst=10)
                          .max_processed_per_day(), spec),
    }


if __name__ == "__main__":
    print(json.dumps(report(RateLimits(), HardwareSpec()), sort_keys=True))
