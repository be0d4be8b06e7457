"""Simulated time: exact seconds (a Fraction) since an epoch the caller gives.

The pump never reads the wall clock (docs/design.md principle 4). Time t = 0 is midnight at the
start of the epoch day; `epoch_weekday` (0 = Monday) says which day of the week that is, for
day-of-week flex schedules.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from fractions import Fraction

from idds.units import Kind, Quantity

Time = Fraction

SECOND = Fraction(1)
MINUTE = Fraction(60)
HOUR = Fraction(3600)
DAY = Fraction(86400)
WEEK = 7 * DAY

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def as_time(value: int | Fraction | Quantity) -> Fraction:
    """Seconds since the epoch from an int/Fraction of seconds or a time Quantity ("2 h")."""
    if isinstance(value, Quantity):
        value.require(Kind.TIME, "time")
        return value.value_in("min") * 60
    if isinstance(value, bool):
        raise TypeError("a time must be seconds, not a boolean")
    return Fraction(value)


def day_number(t: Fraction) -> int:
    """Whole days since the epoch (0 for the first day)."""
    return int(t // DAY)


def weekday(t: Fraction, epoch_weekday: int) -> int:
    """Day of week at t (0 = Monday)."""
    return (epoch_weekday + day_number(t)) % 7


def second_of_day(t: Fraction) -> Fraction:
    """Seconds since midnight at t."""
    return t - day_number(t) * DAY


def format_time(t: Fraction) -> str:
    """'day 1 08:30:00' (day 1 is the epoch day), exact to the second, for screens and logs."""
    day = day_number(t)
    rest = second_of_day(t)
    whole = int(rest)
    text = f"day {day + 1} {whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"
    if rest != whole:
        text += f"+{float(rest - whole):.3f}s"
    return text


def format_clock(t: Fraction, epoch: datetime | None) -> str:
    """The calendar date and time of pump time `t` on a pump whose clock read `epoch` at
    t = 0, e.g. '2026-12-02 08:30:00' (with milliseconds when not whole: '08:30:00.200');
    without an epoch (a pump that has no calendar, e.g. `idds pump simulate`), `format_time`."""
    if epoch is None:
        return format_time(t)
    millis = round(Fraction(t) * 1000)
    moment = epoch + timedelta(milliseconds=millis)
    text = moment.strftime("%Y-%m-%d %H:%M:%S")
    return text + (f".{millis % 1000:03d}" if millis % 1000 else "")

