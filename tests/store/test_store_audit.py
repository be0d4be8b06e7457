"""Every write leaves one audit record in its own transaction; the chain verifies; a record
altered, forged or removed directly in the database (an attacker who drops the triggers) is
named by the verifier."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import URL

from idds.store import patients
from idds.store.audit import record_hash, verify_chain
from idds.store.database import Database
from idds.store.engine import make_engine
from idds.store.errors import AccessDeniedError, StoreError
from idds.store.model import AuditRecord, Patient
from idds.store.permissions import Actor, UserRole
from tests.store.store_helpers import START


def _five_writes(db: Database, nurse: Actor) -> None:
    for i in range(5):
        patients.register_patient(db, nurse, f"MRN-{i}", f"Patient {i}", date(1960, 1, 1 + i))


def _records(db: Database) -> list[AuditRecord]:
    with db.session() as session:
        return list(session.scalars(select(AuditRecord).order_by(AuditRecord.sequence)))


def test_each_write_is_audited_with_who_what_when_and_the_row(db: Database,
                                                              nurse: Actor) -> None:
    _five_writes(db, nurse)
    patient = patients.get_patient(db, nurse, 1)
    patients.update_patient(db, nurse, patient.id, 1, "spelling", name="Patient Zero")
    records = _records(db)
    assert [r.sequence for r in records] == [1, 2, 3, 4, 5, 6]
    last = records[-1]
    assert (last.actor, last.role, last.action, last.entity_type, last.entity_id,
            last.reason, last.at) == ("nurse1", "nurse", "update patient", "patient", "1",
                                      "spelling", START)
    assert '"name":"Patient 0"' in (last.before or "")
    assert '"name":"Patient Zero"' in (last.after or "")
    assert records[0].before is None and records[1].prev_hash == records[0].hash
    assert all(record_hash(r) == r.hash for r in records)
    with db.session() as session:
        check = verify_chain(session)
    assert (check.ok, check.count, check.head) == (True, 6, records[-1].hash)


def test_a_refused_write_leaves_neither_row_nor_audit_record(db: Database, nurse: Actor,
                                                             clinician: Actor) -> None:
    patients.register_patient(db, nurse, "MRN-1", "A", date(1960, 1, 1))
    with pytest.raises(StoreError, match="refused"):
        patients.register_patient(db, nurse, "MRN-1", "B", date(1960, 1, 1))
    researcher = Actor("r", UserRole.RESEARCHER)
    with pytest.raises(AccessDeniedError):
        patients.register_patient(db, researcher, "MRN-2", "C", date(1960, 1, 1))
    assert len(_records(db)) == 1
    with db.session() as session:
        assert session.scalars(select(Patient)).all()[0].name == "A"


def _as_attacker(url: URL, *statements: str) -> None:
    """Drop the triggers (as someone with full database access would), then run `statements`."""
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            for name in ("audit_record_no_update", "audit_record_no_delete",
                         "audit_record_append_only"):
                conn.execute(text(f"DROP TRIGGER {name}" + (
                    " ON audit_record" if engine.dialect.name == "postgresql" else "")))
            for statement in statements:
                conn.execute(text(statement))
    finally:
        engine.dispose()


def _verdict(db: Database) -> tuple[int | None, str]:
    with db.session() as session:
        check = verify_chain(session)
    return check.bad_sequence, check.problem


@pytest.mark.parametrize(("statements", "bad", "words"), [
    (["UPDATE audit_record SET actor = 'mallory' WHERE sequence = 3"], 3, "altered"),
    (["DELETE FROM audit_record WHERE sequence = 2"], 2, "record 2 was removed"),
    (["DELETE FROM audit_record WHERE sequence IN (2, 3)"], 2, "records 2 to 3"),
    (["UPDATE audit_record SET after = NULL WHERE sequence = 5"], 5, "altered"),
    # Its link changed: record 3 is the altered one, not the intact record 2 before it.
    (["UPDATE audit_record SET prev_hash = 'ffff' WHERE sequence = 3"], 3,
     "record 3 was altered"),
])
def test_verify_names_a_record_altered_or_removed(db: Database, url: URL, nurse: Actor,
                                                  statements: list[str], bad: int,
                                                  words: str) -> None:
    _five_writes(db, nurse)
    db.dispose()
    _as_attacker(url, *statements)
    sequence, problem = _verdict(db)
    assert sequence == bad and words in problem


def test_verify_names_a_record_forged_with_its_hash_recomputed(db: Database, url: URL,
                                                               nurse: Actor) -> None:
    """The forger rewrites record 3 and recomputes its hash: record 4 no longer links."""
    _five_writes(db, nurse)
    third = _records(db)[2]
    third.actor = "mallory"
    forged = record_hash(third)
    db.dispose()
    _as_attacker(url, f"UPDATE audit_record SET actor = 'mallory', hash = '{forged}' "
                      "WHERE sequence = 3")
    sequence, problem = _verdict(db)
    assert sequence == 3 and "record 3 was altered with its hash recomputed" in problem


def test_verify_names_a_record_inserted_in_the_middle(db: Database, url: URL,
                                                     nurse: Actor) -> None:
    """The forger shifts records 3-5 up by one and slips a well-formed record 3 in, linked
    to record 2 with a correct hash: record 4 (the old 3) links past it, to record 2."""
    _five_writes(db, nurse)
    second = _records(db)[1]
    fake = AuditRecord(sequence=3, at=second.at, actor="mallory", role="admin",
                       action="register patient", entity_type="patient", entity_id="99",
                       before=None, after='{"name":"Nobody"}', reason=None,
                       prev_hash=second.hash)
    fake.hash = record_hash(fake)
    db.dispose()
    _as_attacker(url, "UPDATE audit_record SET sequence = sequence + 1000 WHERE sequence >= 3",
                 "UPDATE audit_record SET sequence = sequence - 999 WHERE sequence >= 1000",
                 "INSERT INTO audit_record (sequence, at, actor, role, action, entity_type, "
                 f"entity_id, after, prev_hash, hash) VALUES (3, '{second.at.isoformat()}', "
                 "'mallory', 'admin', 'register patient', 'patient', '99', "
                 f"'{{\"name\":\"Nobody\"}}', '{second.hash}', '{fake.hash}')")
    sequence, problem = _verdict(db)
    assert sequence == 3 and "record 3 was inserted" in problem
