"""Pump time from the wall clock: the one place the emulator reads a clock for the pump.

docs/design.md principle 4: domain code never reads the wall clock; this pacing wrapper is the
edge that does. Pump time (exact seconds, a Fraction, millisecond steps) runs `speed` times
faster than the monotonic wall clock, from the pump's own time when the emulator started:
after a restart the pump continues from its stored time (the time the emulator was down is
not simulated, like a pump that was powered off).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from fractions import Fraction


class PacedClock:
    """`clock()` -> pump seconds = start + (wall - wall at start) x speed, never backwards."""

    def __init__(
        self,
        start: Fraction,
        speed: float,
        wall: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 0 < speed <= 1_000_000:
            raise ValueError("speed must be above 0 and at most 1 000 000")
        self.start = Fraction(start)
        self.speed = speed
        self._wall = wall
        self._origin = wall()
        self._last = self.start

    def __call__(self) -> Fraction:
        elapsed = Fraction(round((self._wall() - self._origin) * self.speed * 1000), 1000)
        self._last = max(self._last, self.start + elapsed)
        return self._last
