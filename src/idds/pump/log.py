"""The pump's event log: append-only, time-stamped, hash-chained.

Each entry's hash is SHA-256 over the previous entry's hash and a canonical JSON encoding of
the entry (sequence number, exact time, kind, details sorted by key). `verify_chain` recomputes
the chain: an edited entry breaks its own hash, an inserted or deleted one breaks the sequence
numbers and the link to the previous hash, and a truncated tail is caught against the head hash
the pump keeps (in its snapshot and telemetry).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from fractions import Fraction

from idds.pump.clock import format_time

GENESIS = "0" * 64


class EventKind(Enum):
    """What a log entry records."""

    CREATED = "created"
    PROGRAM_CHANGED = "program changed"
    DRUG_CHANGED = "drug changed"
    INFUSION_STOPPED = "infusion stopped"
    INFUSION_RESUMED = "infusion resumed"
    BOLUS_STARTED = "bolus started"
    BOLUS_COMPLETED = "bolus completed"
    BOLUS_CANCELLED = "bolus cancelled"
    BOLUS_REFUSED = "bolus refused"
    COMMAND_REFUSED = "command refused"
    LOCKOUT_ENDED = "lockout ended"
    REFILL = "refill"
    CATHETER_CHANGED = "catheter changed"
    SETTING_CHANGED = "setting changed"
    ALARM_RAISED = "alarm raised"
    ALARM_ACKNOWLEDGED = "alarm acknowledged"
    ALARM_CLEARED = "alarm cleared"
    FAULT = "fault"
    MOTOR_STALLED = "motor stalled"
    MOTOR_RESTARTED = "motor restarted"
    INTERROGATED = "interrogated"
    RESTARTED = "restarted after power loss"
    ALARM_TEST = "alarm test"
    LIBRARY_OVERRIDE = "drug library override"
    REFILL_CHECKED = "refill volumes entered"
    LINK_REFUSED = "link refused"
    ADVICE_DECISION = "advice decision"


@dataclass(frozen=True)
class LogEntry:
    """One log entry. `time` is exact seconds since the epoch; details are text."""

    seq: int
    time: Fraction
    kind: EventKind
    details: tuple[tuple[str, str], ...]
    prev_hash: str
    hash: str

    def detail(self, key: str) -> str | None:
        for k, v in self.details:
            if k == key:
                return v
        return None

    def as_json(self) -> dict[str, object]:
        return {
            "seq": self.seq,
            "time_s": float(self.time),
            "time": format_time(self.time),
            "kind": self.kind.value,
            "details": dict(self.details),
            "hash": self.hash,
        }

    def __str__(self) -> str:
        detail = ", ".join(f"{k}={v}" for k, v in self.details)
        return f"#{self.seq} {format_time(self.time)} {self.kind.value}: {detail}"


def canonical(seq: int, time: Fraction, kind: EventKind,
              details: Sequence[tuple[str, str]]) -> bytes:
    """The canonical bytes of an entry (without its hashes)."""
    body = [seq, f"{time.numerator}/{time.denominator}", kind.value, sorted(details)]
    return json.dumps(body, separators=(",", ":"), ensure_ascii=True).encode()


def entry_hash(prev_hash: str, body: bytes) -> str:
    """SHA-256 hex of the previous hash (hex text) followed by the canonical body."""
    return hashlib.sha256(prev_hash.encode() + body).hexdigest()


@dataclass(frozen=True)
class Verification:
    """Result of verifying a log: ok, or the first bad sequence position and why."""

    ok: bool
    bad_index: int | None = None
    reason: str = ""


def verify_chain(entries: Sequence[LogEntry], head: str | None = None) -> Verification:
    """Recompute the hash chain; compare the last hash with `head` when given."""
    prev = GENESIS
    for index, entry in enumerate(entries):
        if entry.seq != index:
            return Verification(False, index, f"sequence {entry.seq} at position {index}")
        if entry.prev_hash != prev:
            return Verification(False, index, "link to the previous entry broken")
        expected = entry_hash(prev, canonical(entry.seq, entry.time, entry.kind, entry.details))
        if entry.hash != expected:
            return Verification(False, index, "entry content does not match its hash")
        if index and entry.time < entries[index - 1].time:
            return Verification(False, index, "time goes backwards")
        prev = entry.hash
    if head is not None and head != prev:
        return Verification(False, len(entries), "last entry is not the recorded head")
    return Verification(True)


class EventLog:
    """Append-only log. Read it with iteration, `entries`, `last(n)`; write with `append`."""

    def __init__(self, entries: Sequence[LogEntry] = ()) -> None:
        self._entries: list[LogEntry] = list(entries)

    def append(self, time: Fraction, kind: EventKind, details: Mapping[str, object]) -> LogEntry:
        pairs = tuple(sorted((k, str(v)) for k, v in details.items()))
        seq = len(self._entries)
        prev = self.head
        entry = LogEntry(seq, time, kind, pairs, prev,
                         entry_hash(prev, canonical(seq, time, kind, pairs)))
        self._entries.append(entry)
        return entry

    @property
    def head(self) -> str:
        return self._entries[-1].hash if self._entries else GENESIS

    @property
    def entries(self) -> tuple[LogEntry, ...]:
        return tuple(self._entries)

    def last(self, n: int) -> tuple[LogEntry, ...]:
        return tuple(self._entries[-n:]) if n > 0 else ()

    def of_kind(self, kind: EventKind) -> list[LogEntry]:
        return [e for e in self._entries if e.kind is kind]

    def verify(self, head: str | None = None) -> Verification:
        return verify_chain(self._entries, head)

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[LogEntry]:
        return iter(self._entries)
