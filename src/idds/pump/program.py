"""Therapy programs: the drug in the pump, the basal mode and the patient demand bolus.

Modes (ref, devices "Infusion modes"): stopped, simple continuous, flex dosing (up to 13 steps a
day, optionally different per day of week), minimum rate. Boluses (clinician, priming, bridge,
patient) are not modes here: they run on top of or in place of the basal program and never
change it (see `idds.pump.firmware`). Doses are written with units: "1.5 mg/day", "10 mg/mL".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from fractions import Fraction

from idds.units import Kind, Quantity


class Mode(Enum):
    """Basal infusion mode."""

    STOPPED = "stopped"
    CONTINUOUS = "continuous"
    FLEX = "flex"
    MINIMUM_RATE = "minimum rate"


@dataclass(frozen=True)
class Drug:
    """The drug in the reservoir: a name and a concentration ("10 mg/mL")."""

    name: str
    concentration: Quantity

    def __post_init__(self) -> None:
        self.concentration.require(Kind.CONCENTRATION, "drug concentration")

    def __str__(self) -> str:
        return f"{self.name} {self.concentration}"


@dataclass(frozen=True)
class Stopped:
    """No basal infusion."""

    mode: Mode = field(default=Mode.STOPPED, init=False)

    def rates(self) -> tuple[Quantity, ...]:
        """Every dose rate the basal runs at: none."""
        return ()

    def describe(self) -> str:
        return "stopped"


@dataclass(frozen=True)
class Continuous:
    """Simple continuous infusion at a constant dose rate ("1.5 mg/day")."""

    dose_rate: Quantity
    mode: Mode = field(default=Mode.CONTINUOUS, init=False)

    def __post_init__(self) -> None:
        self.dose_rate.require(Kind.DOSE_RATE, "continuous dose rate")

    def rates(self) -> tuple[Quantity, ...]:
        """Every dose rate the basal runs at: the one."""
        return (self.dose_rate,)

    def describe(self) -> str:
        return f"continuous {self.dose_rate}"


@dataclass(frozen=True)
class FlexStep:
    """One flex step: from `start_minute` after midnight (0-1439) at `dose_rate`, until the next
    step's start or midnight."""

    start_minute: int
    dose_rate: Quantity

    def __post_init__(self) -> None:
        self.dose_rate.require(Kind.DOSE_RATE, "flex step dose rate")

    def describe(self) -> str:
        return f"{self.start_minute // 60:02d}:{self.start_minute % 60:02d} {self.dose_rate}"


@dataclass(frozen=True)
class Flex:
    """Flex dosing: one day of steps for every day (len(days) == 1), or one per weekday
    (len(days) == 7, Monday first). Each day's first step starts at 00:00."""

    days: tuple[tuple[FlexStep, ...], ...]
    mode: Mode = field(default=Mode.FLEX, init=False)

    def spans(self, day: int = 0) -> tuple[tuple[int, int, Quantity], ...]:
        """(start, end, dose rate) of each step of one day, minutes after midnight."""
        steps = self.days[day]
        ends = [s.start_minute for s in steps[1:]] + [1440]
        return tuple((s.start_minute, end, s.dose_rate) for s, end in zip(steps, ends,
                                                                        strict=True))

    def rates(self) -> tuple[Quantity, ...]:
        """Every dose rate the basal runs at: each step's, day by day."""
        return tuple(step.dose_rate for day in self.days for step in day)

    def day_dose(self, day: int, unit: str = "mg/day") -> Quantity:
        """The dose one day of the schedule delivers, midnight to midnight (mass/day)."""
        total = Quantity.of(0, unit)
        for start, end, rate in self.spans(day):
            total = total + rate * Fraction(end - start, 1440)
        return total.to(unit)

    def mean_dose_rate(self, unit: str = "mg/day") -> Quantity:
        """The time-weighted mean dose rate over the schedule (a week for a weekly one): the
        daily dose a flex program delivers on average (refill dates, the wire)."""
        total = sum((self.day_dose(day, unit) for day in range(len(self.days))),
                    Quantity.of(0, unit))
        return (total / len(self.days)).to(unit)

    def largest_24h_dose(self, unit: str = "mg/day") -> Quantity:
        """The most any 24 hours of the schedule deliver (mass/day), midnight or not: what a
        daily-dose limit holds. A daily schedule gives its day's dose; a weekly one is
        searched over every 24 h window that starts or ends at a step boundary (the maximum of
        a sliding window over a step function is at one of those), Sunday running into
        Monday."""
        if len(self.days) == 1:
            return self.day_dose(0, unit)
        week = 1440 * len(self.days)
        pieces = [(day * 1440 + start, day * 1440 + end, rate) for day in range(len(self.days))
                  for start, end, rate in self.spans(day)]

        def window(t0: int) -> Quantity:
            total = Quantity.of(0, unit)
            for shift in (0, week):  # the window may run past the end of the week
                for start, end, rate in pieces:
                    lo, hi = max(start + shift, t0), min(end + shift, t0 + 1440)
                    if hi > lo:
                        total = total + rate * Fraction(hi - lo, 1440)
            return total.to(unit)

        starts = {p[0] for p in pieces} | {(p[0] - 1440) % week for p in pieces}
        return max((window(t0) for t0 in starts), key=lambda q: q.value_in(unit))

    def describe(self) -> str:
        parts = ["; ".join(s.describe() for s in day) for day in self.days]
        if len(parts) == 1:
            return f"flex daily [{parts[0]}]"
        return "flex weekly " + " | ".join(f"[{p}]" for p in parts)


@dataclass(frozen=True)
class MinimumRate:
    """Minimum rate: the device minimum flow (0.048 mL/day, ref, devices), to keep the catheter
    open."""

    mode: Mode = field(default=Mode.MINIMUM_RATE, init=False)

    def rates(self) -> tuple[Quantity, ...]:
        """Every dose rate the basal runs at: none set (the device minimum flow)."""
        return ()

    def describe(self) -> str:
        return "minimum rate"


Basal = Stopped | Continuous | Flex | MinimumRate


def peak_daily_dose(basal: Basal, unit: str = "mg/day") -> Quantity | None:
    """The most the basal delivers in any 24 hours (mass/day): the continuous rate, or a flex
    schedule's `largest_24h_dose`; None when stopped or at minimum rate (no dose set). The
    dose a daily limit is checked against, and the one whose rise is an "increase"."""
    if isinstance(basal, Continuous):
        return basal.dose_rate.to(unit)
    if isinstance(basal, Flex):
        return basal.largest_24h_dose(unit)
    return None


@dataclass(frozen=True)
class DemandBolus:
    """Patient demand bolus settings (ref, devices): dose per bolus (mass), bolus duration,
    lockout interval (from the start of the previous given bolus) and maximum per 24 h."""

    dose: Quantity
    duration: Quantity
    lockout: Quantity
    max_per_24h: int

    def __post_init__(self) -> None:
        self.dose.require(Kind.MASS, "patient bolus dose")
        self.duration.require(Kind.TIME, "patient bolus duration")
        self.lockout.require(Kind.TIME, "patient bolus lockout")

    def describe(self) -> str:
        return (
            f"patient bolus {self.dose} over {self.duration}, lockout {self.lockout}, "
            f"max {self.max_per_24h}/24 h"
        )


@dataclass(frozen=True)
class Therapy:
    """A whole program: basal mode and optional patient demand bolus."""

    basal: Basal = field(default_factory=Stopped)
    demand: DemandBolus | None = None

    @property
    def mode(self) -> Mode:
        return self.basal.mode

    def describe(self) -> str:
        text = self.basal.describe()
        if self.demand is not None:
            text += "; " + self.demand.describe()
        return text
