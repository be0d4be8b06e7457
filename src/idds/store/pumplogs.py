"""Pump logs imported into the record: verified, deduplicated by sequence, gaps reported.

An import is the entries a pump gave (`idds.programmer.LogDownload.entries`, from sequence 0
or any later one) and the head hash it reported. The entries already stored for the implant
come first, and the pump package's own verifier (`idds.pump.log.verify_links`: sequence,
each entry's link to the previous hash, time order, head) checks the whole chain from
sequence 0 before anything is written. An entry already stored must be the same entry (same
hash): a pump whose log differs from the record is refused (`PumpLogImportError`), as is a
chain that does not verify. Entries after a gap (sequence numbers neither stored nor given)
cannot be linked to the chain: they are not stored, and the report names the gap, to be
filled by a later import. One audit record covers one import.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from idds.pump import EventKind, LogEntry
from idds.pump.log import verify_links
from idds.store.canonical import canonical_json, parse_json
from idds.store.database import Database
from idds.store.errors import PumpLogImportError
from idds.store.model import Implant, PumpLogRecord
from idds.store.model.base import fraction_of, split_fraction
from idds.store.permissions import Action, Actor
from idds.store.rows import fetch


@dataclass(frozen=True)
class LogImport:
    """What an import did: entries stored, entries already there, the missing sequence
    ranges (first, last) and how many given entries wait behind them."""

    stored: int
    duplicates: int
    gaps: tuple[tuple[int, int], ...] = field(default=())
    held_back: int = 0


def entry_of(row: PumpLogRecord) -> LogEntry:
    """The pump's log entry a stored row holds."""
    details = parse_json(row.details)
    assert isinstance(details, list)
    return LogEntry(row.seq, fraction_of(row.time_num, row.time_den), EventKind(row.kind),
                    tuple((str(k), v) for k, v in details), row.prev_hash, row.hash)


def _stored(session: Session, implant_id: int) -> dict[int, LogEntry]:
    rows = session.scalars(select(PumpLogRecord).where(PumpLogRecord.implant_id == implant_id)
                           .order_by(PumpLogRecord.seq))
    return {row.seq: entry_of(row) for row in rows}


def _gaps(seqs: Sequence[int]) -> tuple[tuple[int, int], ...]:
    """Missing ranges in sorted sequence numbers, counting from 0."""
    gaps, expected = [], 0
    for seq in seqs:
        if seq > expected:
            gaps.append((expected, seq - 1))
        expected = seq + 1
    return tuple(gaps)


def import_log(db: Database, actor: Actor, implant_id: int, entries: Sequence[LogEntry],
               head: str | None) -> LogImport:
    """Store the new entries of the implant's pump log (see the module docstring); `head` is
    the pump's head hash (None: not known), checked when the chain reaches the newest
    entry given."""
    with db.write(actor, Action.IMPORT_PUMP_LOG) as w:
        fetch(w.session, Implant, implant_id)
        known = _stored(w.session, implant_id)
        given: dict[int, LogEntry] = {}
        for entry in entries:
            other = known.get(entry.seq) or given.get(entry.seq)
            if other is not None and other.hash != entry.hash:
                raise PumpLogImportError(f"pump log entry {entry.seq} differs from the one "
                                         "already recorded: the pump's log was rewritten")
            given.setdefault(entry.seq, entry)
        merged = {**known, **given}
        seqs = sorted(merged)
        gaps = _gaps(seqs)
        end = gaps[0][0] if gaps else len(seqs)
        chain = [merged[s] for s in range(end)]
        newest = max(given, default=-1)
        check = verify_links(chain, head if head is not None and newest == end - 1 else None)
        if not check.ok:
            raise PumpLogImportError(f"the pump log fails verification at entry "
                                     f"{check.bad_index}: {check.reason}; nothing imported")
        new = [e for e in chain if e.seq not in known]
        rows = []
        for entry in new:
            num, den = split_fraction(entry.time, "log time")
            rows.append({"implant_id": implant_id, "seq": entry.seq, "time_num": num,
                         "time_den": den, "kind": entry.kind.value,
                         "details": canonical_json([list(p) for p in entry.details],
                                                   "log details"),
                         "prev_hash": entry.prev_hash, "hash": entry.hash,
                         "imported_at": w.now, "imported_by": actor.username})
        if rows:
            w.session.execute(insert(PumpLogRecord), rows)  # one statement, many rows
        result = LogImport(len(new), len(given) - sum(1 for s in given if s >= end) - len(new),
                           gaps, sum(1 for s in given if s >= end))
        w.audit("pump_log", str(implant_id), None, {
            "stored": result.stored, "first": new[0].seq if new else None,
            "last": new[-1].seq if new else None, "head": chain[-1].hash if chain else None,
            "duplicates": result.duplicates, "gaps": [list(g) for g in gaps],
            "held_back": result.held_back})
        return result


def log_of(db: Database, actor: Actor, patient_id: int, implant_id: int) -> list[LogEntry]:
    """The stored log of the patient's implant, in sequence order."""
    with db.read(actor, Action.READ_RECORD, patient_id) as session:
        if fetch(session, Implant, implant_id).patient_id != patient_id:
            raise PumpLogImportError(f"implant {implant_id} is not patient {patient_id}'s")
        return list(_stored(session, implant_id).values())
