"""The pump's event log: append-only, time-stamped, chained under the pump's log key.

Each entry's hash is HMAC-SHA-256 under the log key (32 bytes, made at implant: from the
secure element in the emulator, `secrets` in simulations) over a domain label, the previous
entry's hash and a canonical JSON encoding of the entry (sequence number, exact time, kind,
details sorted by key), so someone holding the state files but not the key cannot rewrite the
log and recompute its chain (ref, security: tamper-evident audit trail). A log without a key
(`key=None`) is the older unkeyed SHA-256 chain, still read for logs written before it.
Details are typed JSON values (text, whole numbers, booleans, None, lists, objects; exact
quantities as text with their unit, therapies and drugs as `idds.pump.records`); an entry
whose details are all text encodes to the same bytes as before details were typed, so old
logs still verify.
`verify_chain` recomputes the chain: an edited entry breaks its own hash, an inserted or deleted
one breaks the sequence numbers and the link to the previous hash, and a truncated tail is
caught against the head hash the pump keeps (in its snapshot and telemetry). A device that
does not hold the key checks what it can (`verify_links`: sequence, links, time, head) and
anchors the head it saw (`idds.programmer.anchor`), which catches a rewritten or rolled-back
log.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from fractions import Fraction
from typing import TypeVar

from idds.errors import IddsError
from idds.pump.alarms import AlarmKind
from idds.pump.clock import format_time
from idds.pump.commands import Command
from idds.pump.errors import Limit
from idds.pump.program import Drug, Therapy
from idds.pump.records import JsonValue, drug_from_record, json_value, therapy_from_record
from idds.pump.state import BolusKind

GENESIS = "0" * 64
#: Domain label of the keyed chain (HMAC-SHA-256 over label | previous hash | body).
KEYED_LABEL = b"idds-log-v2 chain\0"
#: Length of a log key in bytes.
LOG_KEY_BYTES = 32


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
    LINK_PAIRING = "link pairing"  # a device paired or unpaired (who, as what, by whom)
    ADVICE_DECISION = "advice decision"


#: Fields holding a therapy record (`idds.pump.records.therapy_record`), by entry kind.
THERAPY_FIELDS: dict[EventKind, tuple[str, ...]] = {
    EventKind.PROGRAM_CHANGED: ("old", "new"),
    EventKind.RESTARTED: ("therapy",),
}
#: Fields holding a drug record (`idds.pump.records.drug_record`) or None, by entry kind.
DRUG_FIELDS: dict[EventKind, tuple[str, ...]] = {
    EventKind.PROGRAM_CHANGED: ("drug",),
    EventKind.REFILL: ("drug",),
    EventKind.DRUG_CHANGED: ("old", "new"),
}

Details = tuple[tuple[str, JsonValue], ...]


@dataclass(frozen=True)
class LogEntry:
    """One log entry. `time` is exact seconds since the epoch; `details` are (key, JSON value)
    pairs sorted by key (text in logs written before details were typed).

    Read a field typed with `value`, `therapy`, `drug`, `command`, `limit`, `alarm` and
    `bolus_kind`; as display text with `detail`, `shown` and `summary` (built from the fields).
    """

    seq: int
    time: Fraction
    kind: EventKind
    details: Details
    prev_hash: str
    hash: str

    def has(self, key: str) -> bool:
        """Whether the entry has the field `key`."""
        return any(k == key for k, _ in self.details)

    def value(self, key: str) -> JsonValue:
        """The typed value of field `key` (None when absent)."""
        for k, v in self.details:
            if k == key:
                return v
        return None

    def therapy(self, key: str) -> Therapy | None:
        """The therapy recorded in field `key` ("old", "new", "therapy"); None when absent or
        written as text (a log from before typed details). `RecordError` if malformed."""
        value = self.value(key)
        return therapy_from_record(value) if isinstance(value, dict) else None

    def drug(self, key: str) -> Drug | None:
        """The drug recorded in field `key` ("drug", "old", "new"); None when absent or "none".
        Text written before details were typed ("morphine 10 mg/mL") is read too."""
        value = self.value(key)
        if isinstance(value, dict):
            return drug_from_record(value)
        if isinstance(value, str) and value != "none":
            name, _, concentration = value.rpartition(" ")
            name, _, number = name.rpartition(" ")
            return drug_from_record({"name": name, "concentration": f"{number} {concentration}"})
        return None

    def command(self) -> Command | None:
        """The refused command (refusal entries), else None."""
        value = self.value("command")
        return _member(Command, value) if self.kind in REFUSALS else None

    def limit(self) -> Limit | None:
        """The limit a refused command ran into (refusal entries), else None."""
        value = self.value("limit")
        return Limit[value] if isinstance(value, str) and value in Limit.__members__ else None

    def alarm(self) -> AlarmKind | None:
        """The alarm of an alarm entry (raised, acknowledged, cleared), else None."""
        return _member(AlarmKind, self.value("alarm"))

    def bolus_kind(self) -> BolusKind | None:
        """The kind of bolus of a bolus entry (started, completed, cancelled), else None."""
        return _member(BolusKind, self.value("kind")) if self.kind in BOLUS_EVENTS else None

    def detail(self, key: str) -> str | None:
        """Field `key` as display text (None when absent)."""
        if not self.has(key):
            return None
        if key == "old" and self.kind is EventKind.PROGRAM_CHANGED \
                and self.value("old_confirmed") is False:
            return f"unconfirmed ({_text(self.value(key), 'therapy')})"
        field = ("therapy" if key in THERAPY_FIELDS.get(self.kind, ()) else
                 "drug" if key in DRUG_FIELDS.get(self.kind, ()) else "")
        return _text(self.value(key), field)

    def shown(self) -> tuple[tuple[str, str], ...]:
        """(key, display text) of every field shown (the old therapy's confirmation is shown
        inside "old": "unconfirmed (...)")."""
        hidden = ("old_confirmed",) if self.kind is EventKind.PROGRAM_CHANGED else ()
        return tuple((k, self.detail(k) or "") for k, _ in self.details if k not in hidden)

    def summary(self) -> str:
        """The fields as one line of text: "label=value, label=value" (a field's label says
        what it is where its key alone could mislead: `FIELD_LABELS`)."""
        return ", ".join(f"{FIELD_LABELS.get((self.kind, k), k)}={v}" for k, v in self.shown())

    def line(self, clock: Callable[[Fraction], str] = format_time) -> str:
        """'#seq time kind: summary', the time as `clock` shows it (a calendar on the
        emulator, `idds.pump.clock.format_clock`; simulation days by default)."""
        return f"#{self.seq} {clock(self.time)} {self.kind.value}: {self.summary()}"

    def as_json(self, clock: Callable[[Fraction], str] = format_time) -> dict[str, object]:
        return {
            "seq": self.seq,
            "time_s": float(self.time),
            "time": clock(self.time),
            "kind": self.kind.value,
            "details": dict(self.details),
            "shown": dict(self.shown()),
            "summary": self.summary(),
            "hash": self.hash,
        }

    def __str__(self) -> str:
        return self.line()


#: Labels for fields whose key alone could mislead a reader of the log (issue 14): at a
#: refill the pump logs the volume the (simulated) reservoir really gave up, and, when the
#: programmer checked the refill, the volume the clinician measured and typed in.
FIELD_LABELS: dict[tuple[EventKind, str], str] = {
    (EventKind.REFILL, "expected"): "expected_by_pump",
    (EventKind.REFILL, "withdrawn"): "withdrawn_simulated_true",
    (EventKind.REFILL_CHECKED, "expected"): "expected_by_pump",
    (EventKind.REFILL_CHECKED, "withdrawn_entered"): "withdrawn_entered_by_clinician",
}

REFUSALS = frozenset({EventKind.BOLUS_REFUSED, EventKind.COMMAND_REFUSED})
BOLUS_EVENTS = frozenset({EventKind.BOLUS_STARTED, EventKind.BOLUS_COMPLETED,
                          EventKind.BOLUS_CANCELLED})

_E = TypeVar("_E", bound=Enum)


def _member(enum: type[_E], value: JsonValue) -> _E | None:
    for member in enum:
        if member.value == value:
            return member
    return None


def _text(value: JsonValue, field: str) -> str:
    """Display text of one value: a therapy record described, a drug record as "name
    concentration", None as "none", booleans as yes/no, objects and lists as compact JSON."""
    if isinstance(value, str):
        return value
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    try:
        if field == "therapy" and isinstance(value, dict):
            return therapy_from_record(value).describe()
        if field == "drug" and isinstance(value, dict):
            return str(drug_from_record(value))
    except IddsError:
        pass  # a malformed record is still shown, as JSON
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def canonical(seq: int, time: Fraction, kind: EventKind, details: Sequence[tuple[str, object]]
              ) -> bytes:
    """The canonical bytes of an entry (without its hashes): compact JSON of [seq, "n/d"
    time, kind, [[key, value], ...] sorted by key], object keys sorted. For details that are
    all text these are the bytes of the logs written before details were typed."""
    pairs = sorted(details, key=lambda pair: pair[0])
    body = [seq, f"{time.numerator}/{time.denominator}", kind.value, pairs]
    return json.dumps(body, separators=(",", ":"), ensure_ascii=True, sort_keys=True).encode()


def entry_hash(prev_hash: str, body: bytes, key: bytes | None = None) -> str:
    """The entry's hash (hex): HMAC-SHA-256 under `key` over the label, the previous hash (hex
    text) and the canonical body; without a key, SHA-256 of the previous hash and the body
    (the unkeyed chain of older logs)."""
    if key is None:
        return hashlib.sha256(prev_hash.encode() + body).hexdigest()
    return hmac.new(key, KEYED_LABEL + prev_hash.encode() + body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Verification:
    """Result of verifying a log: ok, or the first bad sequence position and why."""

    ok: bool
    bad_index: int | None = None
    reason: str = ""


def verify_chain(entries: Sequence[LogEntry], head: str | None = None,
                 key: bytes | None = None) -> Verification:
    """Recompute the chain (keyed under `key`, else the unkeyed SHA-256 chain); compare the
    last hash with `head` when given."""
    return _verify(entries, head, key, True)


def verify_links(entries: Sequence[LogEntry], head: str | None = None) -> Verification:
    """What a device without the log key can check: sequence numbers, each entry's link to
    the previous hash, time order and the head. Entry content is checked by the pump (keyed)."""
    return _verify(entries, head, None, False)


def _verify(entries: Sequence[LogEntry], head: str | None, key: bytes | None,
            content: bool) -> Verification:
    prev = GENESIS
    for index, entry in enumerate(entries):
        if entry.seq != index:
            return Verification(False, index, f"sequence {entry.seq} at position {index}")
        if entry.prev_hash != prev:
            return Verification(False, index, "link to the previous entry broken")
        body = canonical(entry.seq, entry.time, entry.kind, entry.details)
        if content and not hmac.compare_digest(entry.hash, entry_hash(prev, body, key)):
            return Verification(False, index, "entry content does not match its hash")
        if index and entry.time < entries[index - 1].time:
            return Verification(False, index, "time goes backwards")
        prev = entry.hash
    if head is not None and head != prev:
        return Verification(False, len(entries), "last entry is not the recorded head")
    return Verification(True)


class EventLog:
    """Append-only log chained under `key` (None: the unkeyed chain of older logs). Read it
    with iteration, `entries`, `last(n)`; write with `append`."""

    def __init__(self, entries: Sequence[LogEntry] = (), key: bytes | None = None) -> None:
        if key is not None and len(key) != LOG_KEY_BYTES:
            raise ValueError(f"a log key is {LOG_KEY_BYTES} bytes, not {len(key)}")
        self._entries: list[LogEntry] = list(entries)
        self._key = key

    @property
    def key(self) -> bytes | None:
        """The chain key (None for an unkeyed log)."""
        return self._key

    def append(self, time: Fraction, kind: EventKind, details: Mapping[str, object]) -> LogEntry:
        """Append an entry; each detail becomes a JSON value (`idds.pump.records.json_value`)."""
        pairs = tuple(sorted(((k, json_value(v)) for k, v in details.items()),
                             key=lambda pair: pair[0]))
        seq = len(self._entries)
        prev = self.head
        entry = LogEntry(seq, time, kind, pairs, prev,
                         entry_hash(prev, canonical(seq, time, kind, pairs), self._key))
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
        return verify_chain(self._entries, head, self._key)

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[LogEntry]:
        return iter(self._entries)
