"""The link clock: an injected callable returning seconds (docs/design.md principle 4).

The protocol logic never reads the wall clock. The emulator passes `time.time` (wall-clock
seconds, so a programmer and a pump on one machine agree on command expiry); tests pass a fake.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeAlias

Clock: TypeAlias = Callable[[], float]
