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

    def describe(self) -> str:
        return "stopped"


@dataclass(frozen=True)
class Continuous:
    """Simple continuous infusion at a constant dose rate ("1.5 mg/day")."""

    dose_rate: Quantity
    mode: Mode = field(default=Mode.CONTINUOUS, init=False)

    def __post_init__(self) -> None:
        self.dose_rate.require(Kind.DOSE_RATE, "continuous dose rate")

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

    def mean_dose_rate(self, unit: str = "mg/day") -> Quantity:
        """The time-weighted mean dose rate over the schedule (a week for a weekly one):
        the daily dose a flex program delivers. The one formula every caller uses."""
        total = Quantity.of(0, unit)
        for day in range(len(self.days)):
            for start, end, rate in self.spans(day):
                total = total + rate * Fraction(end - start, 1440 * len(self.days))
        return total.to(unit)

    def largest_daily_dose(self, unit: str = "mg/day") -> Quantity:
        """The dose of the day that delivers the most (mass/day): what a daily-dose limit
        holds, since the limit is on every single day, not on a week's mean."""
        def one_day(day: int) -> Quantity:
            total = Quantity.of(0, unit)
            for start, end, rate in self.spans(day):
                total = total + rate * Fraction(end - start, 1440)
            return total.to(unit)
        return max((one_day(day) for day in range(len(self.days))),
                   key=lambda q: q.value_in(unit))

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

    def describe(self) -> str:
        return "minimum rate"


Basal = Stopped | Continuous | Flex | MinimumRate


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
