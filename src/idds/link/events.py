"""Security events: what the pump-side endpoint logs, through an injected sink.

Every rejected frame, every pairing (and refused pairing), every unpairing and every drop by a
budget is one `SecurityEvent` with the link-clock time (seconds), the peer (key id in hex when
the frame named a paired key, else the transport's source label), a kind and a reason code.
ref, security: "malformed or out-of-range fields are rejected with a reason and logged";
21 CFR Part 11 audit. The sink is a seam.

Events caused by unauthenticated input (REJECTED, PAIRING_REFUSED, RATE_LIMITED: anyone on the
radio can cause them at the frame rate) must not become one durable record each, or logging
becomes the drain and the store fills (issue 13). `AggregatingSink` passes the others through
and turns these into counters, written as ONE `SUMMARY` event at most once per `period_s`
(60 s of the link clock) and on `flush`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol

from idds.link.errors import ErrorCode


class SecurityEventKind(Enum):
    """What happened."""

    REJECTED = "rejected"  # a frame was rejected; nothing reached the handler
    REFUSED = "refused"  # an authenticated command was refused by the link (role, expiry)
    PAIRING_OPENED = "pairing_opened"  # a presence event opened a pairing window
    PAIRED = "paired"
    PAIRING_REFUSED = "pairing_refused"  # no window, or it has closed (anyone can cause it)
    PAIRING_FAILED = "pairing_failed"  # a request proved the near-field secret, then failed
    UNPAIRED = "unpaired"
    RATE_LIMITED = "rate_limited"  # a budget was dry: the frame was dropped unprocessed
    SUMMARY = "summary"  # aggregate counts of the kinds below, since the previous summary

    @property
    def aggregated(self) -> bool:
        """True for kinds any unauthenticated sender can cause at the frame rate."""
        return self in _AGGREGATED


_AGGREGATED = frozenset({SecurityEventKind.REJECTED, SecurityEventKind.PAIRING_REFUSED,
                         SecurityEventKind.RATE_LIMITED})


@dataclass(frozen=True)
class SecurityEvent:
    """One logged event. `time` is link-clock seconds."""

    time: float
    peer: str
    kind: SecurityEventKind
    code: ErrorCode
    detail: str = ""


class EventSink(Protocol):
    """Where the endpoint writes security events."""

    def record(self, event: SecurityEvent) -> None:
        """Keep one event."""


@dataclass
class MemoryEventSink:
    """Keeps events in a list (tests, the emulator's console)."""

    events: list[SecurityEvent] = field(default_factory=list)

    def record(self, event: SecurityEvent) -> None:
        """Append the event."""
        self.events.append(event)

    def codes(self) -> list[ErrorCode]:
        """The reason codes in order."""
        return [event.code for event in self.events]


DEFAULT_SUMMARY_PERIOD_S = 60.0


class AggregatingSink:
    """Counts aggregated kinds and writes them to `inner` as one SUMMARY event at most once
    per `period_s` seconds of event time; every other event goes to `inner` as it comes.

    The first counted event after a quiet period is summarised at once (so an attack shows
    up immediately); later ones wait for the period to end or for `flush`. The summary's
    detail is `kind:CODE=count` pairs sorted, then the number of distinct peers (capped at
    `MAX_PEERS`, so memory stays bounded whatever the sources)."""

    MAX_PEERS = 1000

    def __init__(self, inner: EventSink, period_s: float = DEFAULT_SUMMARY_PERIOD_S) -> None:
        self.inner = inner
        self.period_s = period_s
        self.counts: Counter[tuple[str, str]] = Counter()
        self._peers: set[str] = set()
        self._last: float | None = None
        self.summaries = 0

    def record(self, event: SecurityEvent) -> None:
        """Pass through, or count (and summarise if the period is over)."""
        if not event.kind.aggregated:
            self.inner.record(event)
            return
        self.counts[(event.kind.value, event.code.name)] += 1
        if len(self._peers) < self.MAX_PEERS:
            self._peers.add(event.peer)
        self.tick(event.time)

    def tick(self, now: float) -> None:
        """Write the pending summary if a period has passed since the last one."""
        if self.counts and (self._last is None or not 0 <= now - self._last < self.period_s):
            self.flush(now)

    def flush(self, now: float) -> None:
        """Write the pending summary now (if anything was counted)."""
        if not self.counts:
            return
        detail = ", ".join(f"{kind}:{code}={n}" for (kind, code), n in sorted(self.counts.items()))
        peers = len(self._peers)
        detail += f"; from {peers}{'+' if peers >= self.MAX_PEERS else ''} peers"
        self.inner.record(SecurityEvent(now, "aggregate", SecurityEventKind.SUMMARY,
                                        ErrorCode.OK, detail))
        self.counts.clear()
        self._peers.clear()
        self._last = now
        self.summaries += 1
