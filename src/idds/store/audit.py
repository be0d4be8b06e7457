"""The audit trail: every write appends one hash-chained record in the same transaction.

A record's hash is SHA-256 over the canonical JSON of its content (sequence, time, actor,
role, action, entity type and id, before, after, reason) followed by the previous record's
hash (genesis: 64 zeros), in the manner of the pump's own log (`idds.pump.log`). Sequence
numbers run 1, 2, 3, ... without gaps; the sequence is the primary key, so two writers can
never both append record N (on PostgreSQL writers also queue on an advisory lock).
`verify_chain` walks the records in order and names the first that was altered, inserted or
removed (21 CFR 11.10(e): secure, computer-generated, time-stamped audit trails; docs/store.md).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from idds.pump.log import GENESIS
from idds.store.canonical import canonical_json
from idds.store.clock import utc
from idds.store.model import AuditRecord

#: The PostgreSQL advisory lock that queues appenders to the chain.
APPEND_LOCK = 0x1DD5_A0D1
#: How many records `verify_chain` reads from the database at a time.
BATCH = 1000


@dataclass(frozen=True)
class AuditEntry:
    """What one write records (the sequence, time and hashes are added on append)."""

    actor: str
    role: str
    action: str
    entity_type: str
    entity_id: str
    before: dict[str, object] | None
    after: dict[str, object] | None
    reason: str | None = None


def content_bytes(record: AuditRecord) -> bytes:
    """The canonical bytes a record's hash covers (without the hashes)."""
    return canonical_json({
        "sequence": record.sequence, "at": utc(record.at).isoformat(), "actor": record.actor,
        "role": record.role, "action": record.action, "entity_type": record.entity_type,
        "entity_id": record.entity_id, "before": record.before, "after": record.after,
        "reason": record.reason,
    }).encode()


def record_hash(record: AuditRecord) -> str:
    """SHA-256 (hex) of the record's canonical content and the previous record's hash."""
    return hashlib.sha256(content_bytes(record) + record.prev_hash.encode()).hexdigest()


def append(session: Session, entry: AuditEntry, at: datetime) -> AuditRecord:
    """Append `entry` at time `at` to the chain, in the session's transaction."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": APPEND_LOCK})
    last = session.execute(select(AuditRecord.sequence, AuditRecord.hash)
                           .order_by(AuditRecord.sequence.desc()).limit(1)).first()
    sequence, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
    record = AuditRecord(
        sequence=sequence, at=utc(at), actor=entry.actor, role=entry.role,
        action=entry.action, entity_type=entry.entity_type, entity_id=entry.entity_id,
        before=None if entry.before is None else canonical_json(entry.before),
        after=None if entry.after is None else canonical_json(entry.after),
        reason=entry.reason, prev_hash=prev)
    record.hash = record_hash(record)
    session.add(record)
    session.flush()
    return record


@dataclass(frozen=True)
class ChainCheck:
    """The verdict on the chain: how many records, the head hash, and the first bad record
    (its sequence number and what is wrong), if any."""

    count: int
    head: str
    bad_sequence: int | None = None
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.bad_sequence is None


def verify_chain(session: Session) -> ChainCheck:
    """Walk the chain from record 1 and report the first record altered, inserted or removed.

    A removed record leaves a gap in the sequence; an altered one no longer matches its hash;
    an inserted one is linked past by the next record; one altered with its hash recomputed
    breaks the next record's link. The chain is not keyed: someone with write access who
    rewrites a record AND recomputes every hash after it, removes the tail, or appends
    records with correct hashes is caught only against a head hash kept elsewhere (the head
    is reported for that; docs/store.md)."""
    prev, before_prev, expected, count = GENESIS, GENESIS, 1, 0
    rows = session.execute(select(AuditRecord).order_by(AuditRecord.sequence)
                           .execution_options(yield_per=BATCH)).scalars()
    for record in rows:
        if record.sequence != expected:
            missing = (f"record {expected} was removed" if record.sequence == expected + 1
                       else f"records {expected} to {record.sequence - 1} were removed")
            return ChainCheck(count, prev, expected, missing)
        links_past = record.prev_hash != prev and record.prev_hash == before_prev
        if record_hash(record) != record.hash and not links_past:  # its own content: blame it
            return ChainCheck(count, prev, record.sequence,
                              f"record {record.sequence} was altered: its content does not "
                              "match its hash")
        if record.prev_hash != prev:
            return _broken_link(record, count - 1, prev, before_prev)
        prev, before_prev = record.hash, prev
        expected, count = expected + 1, count + 1
    return ChainCheck(count, prev)


def _broken_link(record: AuditRecord, verified: int, prev: str, before_prev: str) -> ChainCheck:
    """The verdict when `record` does not link to the record before it (`prev`, whose own
    predecessor's hash is `before_prev`): the one before was inserted (the record links past
    it), or it was altered with its hash recomputed; either way it is the first bad one."""
    suspect = record.sequence - 1
    if record.prev_hash == before_prev:
        return ChainCheck(verified, before_prev, suspect,
                          f"record {suspect} was inserted: record {record.sequence} links "
                          f"to record {suspect - 1}")
    return ChainCheck(verified, before_prev, suspect,
                      f"record {suspect} was altered with its hash recomputed (or replaced): "
                      f"record {record.sequence} does not link to it")
