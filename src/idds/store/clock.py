"""The store's clock: an injected callable returning an aware UTC datetime.

Domain code never reads the wall clock (docs/design.md principle 4): the CLI passes
`wall_clock`, tests pass a fake. `utc` refuses a naive or non-UTC time so a stored time is
never ambiguous.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TypeAlias

from idds.store.errors import StoreError

Clock: TypeAlias = Callable[[], datetime]


def utc(moment: datetime, what: str = "time") -> datetime:
    """`moment` when it is timezone-aware, converted to UTC; a naive time is refused."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise StoreError(f"{what} {moment.isoformat()} has no time zone: give a UTC time")
    return moment.astimezone(UTC)


def wall_clock() -> datetime:
    """The real time in UTC (for the CLI only)."""
    return datetime.now(UTC)


class FakeClock:
    """A clock for tests and simulations: starts at `start`, moves only when told."""

    def __init__(self, start: datetime) -> None:
        self.now = utc(start, "the clock's start")

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        """Move the clock forward (`advance(minutes=5)`) and return the new time."""
        self.now += timedelta(**delta)
        return self.now
