"""The clinic overview (the dashboard's one read) on SQLite and PostgreSQL: each patient's
implanted pump with its latest reading, the alarms still open, the diary of the window, and
the last review, which is an audited act with no row of its own."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from idds.pump import AlarmKind
from idds.store import AccessDeniedError, Action, Actor, Database, UserRole
from idds.store.alarms import acknowledge, record_alarm
from idds.store.audit import verify_chain
from idds.store.clock import FakeClock
from idds.store.diary import add_diary_entry
from idds.store.overview import clinic_overview, record_review
from idds.store.patients import ImplantDetails, record_explant, record_implant, register_patient
from idds.store.readings import record_reading
from tests.store.store_helpers import actor, pump_status, q


def test_the_overview_reads_what_the_dashboard_triages(db: Database, clock: FakeClock,
                                                       nurse: Actor, clinician: Actor) -> None:
    a = register_patient(db, nurse, "MRN-A", "Ann", date(1960, 1, 1))
    b = register_patient(db, nurse, "MRN-B", "Bob", date(1961, 1, 1))
    old = record_implant(db, clinician, a.id, ImplantDetails(
        "P-old", "m", "c", "T10", date(2025, 1, 1), q("0.1 mL")))
    record_explant(db, clinician, old.id, old.version, date(2026, 1, 1), "replaced")
    now_pump = record_implant(db, clinician, a.id, ImplantDetails(
        "P-new", "m", "c", "T10", date(2026, 1, 2), q("0.1 mL")))
    record_reading(db, nurse, now_pump.id, pump_status(reservoir="15 mL"), clock().date())
    clock.advance(hours=1)
    latest = record_reading(db, nurse, now_pump.id, pump_status(reservoir="14 mL"),
                            clock().date())
    done = record_alarm(db, nurse, now_pump.id, AlarmKind.LOW_RESERVOIR, clock())
    acknowledge(db, nurse, done.id, done.version, "refilled")
    still = record_alarm(db, nurse, now_pump.id, AlarmKind.ELECTIVE_REPLACEMENT, clock())
    add_diary_entry(db, nurse, a.id, clock() - timedelta(days=5), 9)  # before the window
    add_diary_entry(db, nurse, a.id, clock() - timedelta(hours=2), 4)
    record_review(db, nurse, b.id, "stable, nothing to change")
    clock.advance(minutes=5)

    ann, bob = clinic_overview(db, clinician, clock() - timedelta(days=3))
    assert ann.implant is not None and ann.implant.pump_serial == "P-new"
    assert ann.reading is not None and ann.reading.id == latest.id
    assert [x.id for x in ann.open_alarms] == [still.id]
    assert [p for _, p in ann.pain] == [4]
    assert ann.reviewed is None
    assert bob.implant is None and bob.reading is None and bob.open_alarms == ()
    assert bob.reviewed is not None and bob.reviewed.by == "nurse1"
    with db.read(actor(UserRole.ADMIN), Action.READ_AUDIT) as session:
        assert verify_chain(session).ok  # the review is in the chained trail


def test_a_patient_sees_only_their_own_row_and_cannot_review(db: Database, clock: FakeClock,
                                                             nurse: Actor) -> None:
    a = register_patient(db, nurse, "MRN-A", "Ann", date(1960, 1, 1))
    register_patient(db, nurse, "MRN-B", "Bob", date(1961, 1, 1))
    me = actor(UserRole.PATIENT, clock, "ann", a.id)
    assert [o.patient.id for o in clinic_overview(db, me, clock())] == [a.id]
    with pytest.raises(AccessDeniedError):
        record_review(db, me, a.id, "fine")
    with pytest.raises(AccessDeniedError):
        clinic_overview(db, actor(UserRole.ADMIN, clock), clock())
