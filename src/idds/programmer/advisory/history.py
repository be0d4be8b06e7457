"""What the pump's event log tells the advisory mode: remote presses given and refused by hour,
the last program change that raised the dose, and the lowest running basal dose of the week.

Read from the log's typed fields (the therapy records of PROGRAM_CHANGED, the bolus kind of
BOLUS_STARTED, the command of BOLUS_REFUSED), never from the display text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from idds.control.prescription import HOURS
from idds.control.supervisor import WEEK
from idds.programmer.advisory.common import DAY_S, WINDOW_DAYS
from idds.programmer.therapyform import TherapyFormError, hourly_mg
from idds.pump import BolusKind, Command, EventKind, LogEntry, Therapy

Array = NDArray[np.float64]

@dataclass(frozen=True)
class PumpHistory:
    """From the pump's log, relative to pump time `now_s` (s).

    presses_by_hour, refused_by_hour: (24,) patient presses (given or refused) and refused ones
    by pump hour of day over the last 7 days; presses_window, refused_window: in the last
    WINDOW_DAYS days; hours_since_increase: since the last program change that raised the
    basal dose or bolus allowance (or started therapy), None if none; lowest_daily_mg: lowest
    running basal dose over the last 7 days, mg/day (a start from stopped counts from the
    started dose, as `SupervisorState.start`; 0 where a logged dose is unreadable).
    """

    now_s: float
    presses_by_hour: Array
    refused_by_hour: Array
    presses_window: int
    refused_window: int
    hours_since_increase: float | None
    lowest_daily_mg: float

    @property
    def day(self) -> int:
        return int(self.now_s // DAY_S)


def daily_mg(therapy: Therapy | None, confirmed: bool = True) -> float | None:
    """Basal dose of a logged therapy, mg/day: 0 when stopped, at the minimum rate or not
    confirmed (nothing running); None when it has no one-day form (a weekly flex)."""
    if therapy is None or not confirmed:
        return 0.0
    try:
        return float(hourly_mg(therapy).mean())
    except TherapyFormError:
        return None


def allowance_mg(therapy: Therapy | None, confirmed: bool = True) -> float:
    """Patient bolus dose x boluses per 24 h of a logged therapy, mg (0: none)."""
    demand = therapy.demand if therapy is not None and confirmed else None
    if demand is None:
        return 0.0
    return float(demand.dose.value_in("mg")) * demand.max_per_24h


def _logged(entry: LogEntry, key: str) -> tuple[Therapy | None, bool]:
    """(therapy, readable) of a PROGRAM_CHANGED field; a field written as text (a log from
    before typed fields) is unreadable."""
    return entry.therapy(key), not isinstance(entry.value(key), str)


def raised(entry: LogEntry) -> bool:
    """Whether a PROGRAM_CHANGED entry raised the basal dose or the bolus allowance (a change
    whose doses cannot be compared counts as raised: fail safe)."""
    (old, old_ok), (new, new_ok) = _logged(entry, "old"), _logged(entry, "new")
    confirmed = entry.value("old_confirmed") is not False
    before, after = daily_mg(old, confirmed), daily_mg(new)
    if before is None or after is None or not (old_ok and new_ok):
        return True
    return (after > before * (1 + 1e-9) or
            allowance_mg(new) > allowance_mg(old, confirmed) * (1 + 1e-9) + 1e-12)


def running_before(entry: LogEntry) -> float | None:
    """The basal dose running before a PROGRAM_CHANGED entry, mg/day (None: unreadable)."""
    old, readable = _logged(entry, "old")
    return daily_mg(old, entry.value("old_confirmed") is not False) if readable else None


def pump_history(entries: Sequence[LogEntry], now_s: float,
                 current_daily_mg: float) -> PumpHistory:
    """Presses by hour, the last increase and the week's lowest basal from the pump's log."""
    by_hour, refused_hour = np.zeros(HOURS), np.zeros(HOURS)
    presses = refused = 0
    last_up: float | None = None
    lowest = current_daily_mg
    for e in entries:
        t = float(e.time)
        age = now_s - t
        if e.kind is EventKind.PROGRAM_CHANGED:
            if raised(e):
                last_up = t
            before = running_before(e)
            if age <= WEEK * DAY_S and before != 0.0:  # a stopped pump is no running dose
                lowest = min(lowest, 0.0 if before is None else before)
            continue
        given = e.kind is EventKind.BOLUS_STARTED and e.bolus_kind() is BolusKind.PATIENT
        denied = e.kind is EventKind.BOLUS_REFUSED and e.command() is Command.PATIENT_BOLUS
        if not (given or denied) or age < 0:
            continue
        hour = int((t % DAY_S) // 3600)
        if age <= WEEK * DAY_S:
            by_hour[hour] += 1
            refused_hour[hour] += denied
        if age <= WINDOW_DAYS * DAY_S:
            presses += 1
            refused += denied
    since = None if last_up is None else (now_s - last_up) / 3600.0
    return PumpHistory(now_s, by_hour, refused_hour, presses, refused, since, lowest)


