"""Atomic link commands: a refused command leaves the pump exactly as it was.

`savepoint` copies the pump (settings, state, hardware, random generator, log) before a command
runs; `roll_back` gives that copy back after a refusal, with the refusal itself appended to
its log as the one trace the command leaves (ref, devices: every breach and refusal is
logged). So, for every refused command, `idds.pump.snapshot` of the pump afterwards equals the
snapshot before it byte for byte once that one log entry is set aside (property-tested in
tests/emulator/test_service_atomic.py). Issue 13: a program answered COMMAND_REFUSED (its
reply did not fit one message) had nevertheless been applied.

Log entries are immutable records, so the copy shares them (only the list is copied): the cost
is independent of the log's length apart from one list copy.
"""

from __future__ import annotations

import copy
from typing import Any

from idds.pump import EventKind, Pump

#: Log kinds the firmware writes for its own refusals.
REFUSAL_KINDS = (EventKind.COMMAND_REFUSED, EventKind.BOLUS_REFUSED)


def savepoint(pump: Pump) -> Pump:
    """An independent copy of `pump` to go back to."""
    memo: dict[int, Any] = {id(entry): entry for entry in pump.log.entries}
    return copy.deepcopy(pump, memo)


def roll_back(failed: Pump, saved: Pump) -> Pump:
    """`saved`, with the firmware's refusal entry of `failed` (if it wrote one during the
    command) appended again, so the refusal stays in the log; the caller logs other refusals
    itself."""
    new = failed.log.entries[len(saved.log):]
    refusals = [e for e in new if e.kind in REFUSAL_KINDS]
    if refusals:
        last = refusals[-1]
        saved.log.append(saved.state.now, last.kind, dict(last.details))
    return saved
