"""Security events: what the pump-side endpoint logs, through an injected sink.

Every rejected frame, every pairing (and refused pairing), every unpairing and the start of
every rate-limited burst is one `SecurityEvent` with the link-clock time (seconds), the peer
(key id in hex when the frame named a paired key, else the transport's source label), a kind
and a reason code. ref, security: "malformed or out-of-range fields are rejected with a reason
and logged"; 21 CFR Part 11 audit. The sink is a seam: the lead can route it to the pump's
event log or the audit store.
"""

from __future__ import annotations

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
    PAIRING_REFUSED = "pairing_refused"
    UNPAIRED = "unpaired"
    RATE_LIMITED = "rate_limited"  # a budget ran dry: frames are dropped until it refills


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
