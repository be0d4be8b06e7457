"""Who needs attention first: the dashboard's order, a pure function of each patient's
overview and the time now.

Concerns, most urgent first (the clinic dashboards of Nightscout and Tidepool, docs/console.md):
an alarm not yet acknowledged; a refill due within `REFILL_SOON` (the pump's worst-case date);
pain uncontrolled (the diary's mean NRS above `CONTROLLED_NRS` over the last 3 days, the
trials' "pain controlled" threshold); stale data (no sync of the pump within `STALE_AFTER`).
Within one concern, the patient reviewed longest ago (or never) comes first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import IntEnum
from statistics import fmean

from idds.store.overview import PatientOverview

#: A refill due within this many days is a concern (issue 17).
REFILL_SOON = timedelta(days=7)
#: NRS above this is pain not controlled (NRS <= 3 controlled: the trials' definition).
CONTROLLED_NRS = 3
#: A pump not synced within this long has stale data (a design choice: a daily sync).
STALE_AFTER = timedelta(hours=24)


class Concern(IntEnum):
    """What the dashboard flags, in triage order (lower first)."""

    ALARM = 0
    REFILL_DUE = 1
    PAIN_UNCONTROLLED = 2
    STALE_DATA = 3
    NONE = 4


@dataclass(frozen=True)
class Flag:
    concern: Concern
    reason: str


@dataclass(frozen=True)
class Triaged:
    overview: PatientOverview
    flags: tuple[Flag, ...]
    mean_pain: float | None

    @property
    def concern(self) -> Concern:
        return min((f.concern for f in self.flags), default=Concern.NONE)


def flags_of(o: PatientOverview, now: datetime) -> Triaged:
    """The patient's concerns at `now`, each with its reason."""
    flags = []
    if o.open_alarms:
        kinds = ", ".join(sorted({a.kind for a in o.open_alarms}))
        flags.append(Flag(Concern.ALARM, f"{len(o.open_alarms)} alarm(s) not acknowledged: "
                                         f"{kinds}"))
    due: date | None = None if o.reading is None else o.reading.refill_due_on
    if due is not None and due - now.date() <= REFILL_SOON:
        days = (due - now.date()).days
        flags.append(Flag(Concern.REFILL_DUE, f"refill due {due.isoformat()} " + (
            f"({days} days)" if days >= 0 else f"(overdue by {-days} days)")))
    mean = fmean(p for _, p in o.pain) if o.pain else None
    if mean is not None and mean > CONTROLLED_NRS:
        flags.append(Flag(Concern.PAIN_UNCONTROLLED,
                          f"pain NRS mean {mean:.1f} over {len(o.pain)} diary entries"))
    if o.implant is not None and (o.reading is None or now - o.reading.read_at > STALE_AFTER):
        flags.append(Flag(Concern.STALE_DATA, "pump never synced" if o.reading is None else
                          f"last sync {o.reading.read_at:%Y-%m-%d %H:%M} UTC"))
    return Triaged(o, tuple(flags), mean)


def triage(overviews: list[PatientOverview], now: datetime) -> list[Triaged]:
    """Every patient, most urgent first; ties: reviewed longest ago (never: first), then id."""
    never = datetime.min.replace(tzinfo=now.tzinfo)
    return sorted((flags_of(o, now) for o in overviews), key=lambda t: (
        t.concern, t.overview.reviewed.at if t.overview.reviewed else never,
        t.overview.patient.id))
