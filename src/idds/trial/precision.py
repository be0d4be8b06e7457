"""Running a trial until a rare outcome is measured precisely enough, or the budget is spent.

Respiratory depression on intrathecal morphine is rare (about one onset in tens of thousands
of patient-days), so a fixed cohort either wastes patients or leaves the rate's interval wide.
With a `Precision`, batches run in patient order and the trial stops after the first batch at
which, in every arm, the exact 95% (Garwood) interval of the chosen event rate is no wider
than `width` times the rate; `--patients` is the budget. The stopping rule looks only at
whole batches in patient order, so the same seed stops at the same patient whatever the
workers (a wave of batches computed past the stopping point is discarded).

A rate with no events has no relative width: it never counts as precise (its upper bound is
still reported, exactly, in metrics.json).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from idds.errors import IddsError
from idds.trial.metrics import EVENT_RATES, Estimate, PatientOutcomes, event_rate_ci

#: Rare outcomes a trial can run to precision: the event rates of the metrics
#: (`metrics.EVENT_RATES`, metric key -> per-patient event count), each said in words.
RARE_OUTCOMES: dict[str, str] = {
    "respiratory_events_per_100_patient_days": "respiratory depression onsets (rate below "
    "8/min)",
    "withdrawal_episodes_per_100_patient_days": "days with a withdrawal score >= 3",
    "severe_side_effect_days_per_100_patient_days": "days with a treatment-related side effect "
    "at CTCAE grade >= 3",
}


class PrecisionError(IddsError):
    """A precision target that cannot be used (unknown outcome, width out of range)."""


@dataclass(frozen=True)
class Precision:
    """Stop when (high - low) of the exact 95% interval <= `width` x the rate, in every arm.

    width: relative width, 0 < width <= 4 (0.5: the interval spans half the rate, about
    +-25%; reached near 60 events); outcome: a key of `RARE_OUTCOMES`."""

    width: float
    outcome: str = "respiratory_events_per_100_patient_days"

    def __post_init__(self) -> None:
        if not (math.isfinite(self.width) and 0 < self.width <= 4):
            raise PrecisionError(f"--target-precision must be a relative interval width "
                                 f"above 0 and at most 4 (0.5: +-25% of the rate), not "
                                 f"{self.width:g}")
        if self.outcome not in RARE_OUTCOMES:
            raise PrecisionError(f"--target-outcome {self.outcome!r} is not a rare outcome: "
                                 f"{', '.join(RARE_OUTCOMES)}")

    def relative_width(self, events: int, patient_days: float) -> float:
        """(high - low) / rate; infinite with no events."""
        est = event_rate_ci(events, patient_days)
        return (est.high - est.low) / est.mean if events > 0 else math.inf

    def reached(self, events: int, patient_days: float) -> bool:
        return self.relative_width(events, patient_days) <= self.width


@dataclass
class Tally:
    """Running events and patient-days alive of one arm, batch after batch."""

    events: int = 0
    patient_days: float = 0.0

    def add(self, outcomes: PatientOutcomes, precision: Precision) -> None:
        counts = getattr(outcomes, EVENT_RATES[precision.outcome])
        self.events += int(counts.sum())
        self.patient_days += float(outcomes.alive_days.sum())


@dataclass(frozen=True)
class PrecisionResult:
    """How a trial with a precision target ended: reached or the budget spent, with the
    patients run and each arm's rate, interval and relative width."""

    precision: Precision
    reached: bool
    patients_run: int
    patients_budget: int
    arms: dict[str, tuple[Estimate, float]]

    def as_json(self) -> dict[str, object]:
        return {
            "outcome": self.precision.outcome,
            "target_relative_width": self.precision.width,
            "reached": self.reached,
            "patients_run": self.patients_run,
            "patients_budget": self.patients_budget,
            "arms": {name: {"rate": est.as_json(),
                            "relative_width": width if math.isfinite(width) else None}
                     for name, (est, width) in self.arms.items()},
        }

    def line(self) -> str:
        """One sentence for the terminal."""
        what = RARE_OUTCOMES[self.precision.outcome]
        widths = ", ".join(f"{name} {'-' if not math.isfinite(w) else f'{100 * w:.0f}%'}"
                           for name, (_est, w) in self.arms.items())
        ending = "reached" if self.reached else "not reached: the budget (--patients) is spent"
        return (f"Precision: {what}, 95% interval width as a share of the rate: {widths} "
                f"(target {100 * self.precision.width:.0f}%) after {self.patients_run:,} of "
                f"{self.patients_budget:,} patients; {ending}.")


def conclude(precision: Precision, tallies: dict[str, Tally], patients_run: int,
             patients_budget: int) -> PrecisionResult:
    """The result from each arm's tally so far."""
    arms = {name: (event_rate_ci(t.events, t.patient_days),
                   precision.relative_width(t.events, t.patient_days))
            for name, t in tallies.items()}
    reached = all(precision.reached(t.events, t.patient_days) for t in tallies.values())
    return PrecisionResult(precision, reached, patients_run, patients_budget, arms)
