"""Every entity of the record reads back exactly as written, on SQLite and PostgreSQL:
quantities exact (whole nL and ng, exact fractions), times UTC to the microsecond, who did
it, and each write's audit record."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from idds.drugs import DrugLibrary, load_library
from idds.pump import AlarmKind, EventKind, EventLog
from idds.selection import CandidacyOutcome, CandidacyVerdict, CriterionStatus, Finding
from idds.selection.criteria import CriterionKind
from idds.selection.record import SideEffects
from idds.selection.screening_rules import ScreeningMethod, ScreeningVerdict
from idds.store import alarms, decisions, diary, patients, pumplogs, refills, therapy
from idds.store.audit import verify_chain
from idds.store.canonical import parse_json
from idds.store.clock import FakeClock
from idds.store.database import Database
from idds.store.errors import StaleWriteError, StoreError
from idds.store.model import AuditRecord, CandidacyRecord, Implant, Patient, Refill
from idds.store.permissions import Actor, UserRole
from idds.store.quantities import concentration_of, daily_dose_of, volume_of
from idds.units import Quantity
from tests.conftest import SiteLibrary
from tests.store.store_helpers import START, q, refill_change, therapy_plan
from tests.store.store_helpers import actor as actor_of

DETAILS = patients.ImplantDetails(
    pump_serial="SN-0001", pump_model="IDDS reference pump", catheter_model="8709SC",
    catheter_tip="T10", implanted_on=date(2026, 2, 20), catheter_volume=q("0.0123 mL"),
    pump_public_key=bytes(range(32)), programmer_public_key=b"\xff" * 32)


@pytest.fixture
def library(site_library: SiteLibrary) -> DrugLibrary:
    return load_library(site_library.path, site_library.trust)


def _patient(db: Database, who: Actor) -> Patient:
    return patients.register_patient(db, who, "MRN-001", "Ada Example", date(1950, 5, 17))


def test_patient_and_implant(db: Database, nurse: Actor, clinician: Actor) -> None:
    patient = _patient(db, nurse)
    got = patients.get_patient(db, clinician, patient.id)
    assert (got.identifier, got.name, got.birth_date, got.created_at, got.version) == (
        "MRN-001", "Ada Example", date(1950, 5, 17), START, 1)
    assert got.created_at.utcoffset() == timedelta(0)
    implant = patients.record_implant(db, clinician, patient.id, DETAILS)
    [back] = patients.implants_of(db, clinician, patient.id)
    assert back.catheter_volume_nl == 12_300
    assert volume_of(back.catheter_volume_nl) == q("0.0123 mL")
    assert (back.pump_public_key, back.programmer_public_key) == (bytes(range(32)), b"\xff" * 32)
    assert (back.pump_serial, back.catheter_tip, back.implanted_on) == (
        "SN-0001", "T10", date(2026, 2, 20))
    explanted = patients.record_explant(db, clinician, implant.id, 1, date(2026, 3, 1), "infection")
    assert (explanted.explanted_on, explanted.version) == (date(2026, 3, 1), 2)


def test_a_stale_write_is_refused_and_nothing_is_lost(db: Database, nurse: Actor) -> None:
    patient = _patient(db, nurse)
    patients.update_patient(db, nurse, patient.id, 1, "typo", name="Ada B. Example")
    with pytest.raises(StaleWriteError, match="changed since it was read"):
        patients.update_patient(db, nurse, patient.id, 1, "typo", name="Ada C. Example")
    back = patients.get_patient(db, nurse, patient.id)
    assert (back.name, back.version) == ("Ada B. Example", 2)
    with db.session() as session:
        assert session.scalar(select(AuditRecord.reason).order_by(
            AuditRecord.sequence.desc()).limit(1)) == "typo"


def test_library_and_programs(db: Database, clinician: Actor, admin: Actor,
                              library: DrugLibrary) -> None:
    patient = _patient(db, clinician)
    implant = patients.record_implant(db, clinician, patient.id, DETAILS)
    version = therapy.install_library(db, admin, library)
    assert therapy.install_library(db, admin, library).id == version.id
    first_plan = therapy_plan(library, "1.2 mg/day")
    first = therapy.record_program(db, clinician, implant.id, first_plan, version.id, "start",
                                   replaces=None)
    second_plan = therapy_plan(library, "3 mg/day", override="titration-agreed")
    assert second_plan.checks.soft  # a 200% step breaks the size-of-change soft limit
    # A second clinician who planned on the empty implant is refused: nothing stacked unseen.
    with pytest.raises(StaleWriteError, match="another change was recorded"):
        therapy.record_program(db, clinician, implant.id, second_plan, version.id, "pain",
                               replaces=None)
    second = therapy.record_program(db, clinician, implant.id, second_plan, version.id, "pain",
                                    replaces=first.id)
    old, new = therapy.programs_of(db, clinician, patient.id, implant.id)
    assert (old.id, new.id, new.previous_id, old.previous_id) == (first.id, second.id,
                                                                   first.id, None)
    assert therapy.program_therapy(new) == second_plan.request.therapy
    assert concentration_of(new.concentration_num, new.concentration_den) == q("10 mg/mL")
    assert daily_dose_of(new.daily_dose_num, new.daily_dose_den) == q("3 mg/day")
    assert (new.daily_dose_num, new.daily_dose_den) == (3_000_000, 1)
    assert new.override_reason == "titration-agreed" and old.override_reason is None
    checks = parse_json(new.checks)
    assert isinstance(checks, list) and {c["kind"] for c in checks} == {"soft"}
    assert (new.reason, new.programmed_by, new.programmed_at) == ("pain", "clinician1", START)
    assert therapy.latest_program(db, clinician, patient.id, implant.id).id == second.id
    info = library.data.library
    assert (version.name, version.version, version.signed_by) == (
        info.name, info.version, library.signed_by)


def test_refill_diary_and_side_effects(db: Database, nurse: Actor, clinician: Actor,
                                       clock: FakeClock, library: DrugLibrary) -> None:
    patient = _patient(db, nurse)
    implant = patients.record_implant(db, clinician, patient.id, DETAILS)
    change = refill_change(library, withdrawn="9.1234 mL")
    refills.record_refill(db, nurse, implant.id, change, "LOT-42", date(2026, 4, 1))
    [back] = refills.refills_of(db, clinician, patient.id)
    assert (back.expected_nl, back.withdrawn_nl, back.filled_nl) == (
        15_000_000, 9_123_400, 20_000_000)
    assert back.mismatch is change.mismatch is True
    assert (back.lot, back.next_refill_on, back.operator, back.drug) == (
        "LOT-42", date(2026, 4, 1), "nurse1", "morphine")
    clock.advance(hours=1)
    diary.add_diary_entry(db, nurse, patient.id, START + timedelta(minutes=5), 7, "evening")
    [entry] = diary.diary_of(db, clinician, patient.id)
    assert (entry.pain, entry.felt_at, entry.recorded_at, entry.note) == (
        7, START + timedelta(minutes=5), START + timedelta(hours=1), "evening")
    with pytest.raises(StoreError, match="0 to 10"):
        diary.add_diary_entry(db, nurse, patient.id, START, 11)
    diary.assess_side_effects(db, nurse, patient.id, SideEffects({"pruritus": 2, "nausea": 1}),
                              14, "itch at night")
    [assessment] = diary.assessments_of(db, clinician, patient.id)
    assert diary.assessment_grades(assessment).grades == {"nausea": 1, "pruritus": 2}
    assert assessment.respiratory_rate_per_min == 14


def test_alarms_seen_and_acknowledged(db: Database, nurse: Actor, clinician: Actor,
                                      clock: FakeClock) -> None:
    patient = _patient(db, nurse)
    implant = patients.record_implant(db, clinician, patient.id, DETAILS)
    alarm = alarms.record_alarm(db, nurse, implant.id, AlarmKind.LOW_RESERVOIR, START)
    clock.advance(minutes=3)
    seen = alarms.mark_seen(db, clinician, alarm.id, 1)
    clock.advance(minutes=2)
    alarms.acknowledge(db, nurse, alarm.id, seen.version, "refill booked")
    with pytest.raises(StoreError, match="was acknowledged by"):
        alarms.acknowledge(db, clinician, alarm.id, 3)
    [back] = alarms.alarms_of(db, nurse, patient.id)
    assert (back.kind, back.priority, back.raised_at) == ("low reservoir", "medium", START)
    assert (back.seen_by, back.seen_at) == ("clinician1", START + timedelta(minutes=3))
    assert (back.acknowledged_by, back.acknowledged_at) == ("nurse1", START + timedelta(minutes=5))


def test_recommendations_and_screening(db: Database, clinician: Actor, admin: Actor,
                                       library: DrugLibrary) -> None:
    patient = _patient(db, clinician)
    implant = patients.record_implant(db, clinician, patient.id, DETAILS)
    version = therapy.install_library(db, admin, library)
    program = therapy.record_program(db, clinician, implant.id, therapy_plan(library),
                                     version.id, "advice accepted", replaces=None)
    advice = decisions.record_recommendation(db, clinician, patient.id, "rule-based",
                                             {"dose": "1.2 mg/day"}, ["pain above target"])
    with pytest.raises(StoreError, match="float"):
        decisions.record_recommendation(db, clinician, patient.id, "x", {"dose": 1.2}, [])
    decided = decisions.decide(db, clinician, advice.id, 1,
                               decisions.RecommendationDecision.ACCEPTED, "agree", program.id)
    [back] = decisions.recommendations_of(db, clinician, patient.id)
    assert (back.decision, back.decided_by, back.program_id, back.version) == (
        "accepted", "clinician1", program.id, decided.version)
    assert parse_json(back.recommended) == {"dose": "1.2 mg/day"}
    screening = decisions.record_screening(
        db, clinician, patient.id, ScreeningMethod.BOLUS, "Morphine", q("0.25 mg"), 8, 3,
        ScreeningVerdict.POSITIVE, ["relief 62%"])
    assert (screening.dose_ng, screening.drug, screening.verdict) == (250_000, "morphine",
                                                                       "POSITIVE")


def test_pump_log_import_verifies_dedups_and_reports_gaps(db: Database, nurse: Actor,
                                                          clinician: Actor) -> None:
    patient = _patient(db, nurse)
    implant = patients.record_implant(db, clinician, patient.id, DETAILS)
    log = EventLog()
    for i in range(6):
        log.append(Fraction(i * 3600, 7), EventKind.INTERROGATED, {"n": i, "dose": q("1 mg")})
    entries = log.entries
    first = pumplogs.import_log(db, nurse, implant.id, entries[:3], None)
    assert (first.stored, first.duplicates, first.gaps) == (3, 0, ())
    gap = pumplogs.import_log(db, nurse, implant.id, entries[4:], log.head)
    assert (gap.stored, gap.gaps, gap.held_back) == (0, ((3, 3),), 2)
    rest = pumplogs.import_log(db, nurse, implant.id, entries[1:], log.head)
    assert (rest.stored, rest.duplicates, rest.gaps) == (3, 2, ())
    back = pumplogs.log_of(db, clinician, patient.id, implant.id)
    assert tuple(back) == entries
    forged = EventLog()
    for i in range(6):
        forged.append(Fraction(i), EventKind.INTERROGATED, {"n": i})
    with pytest.raises(StoreError, match="differs"):
        pumplogs.import_log(db, nurse, implant.id, forged.entries, forged.head)
    with db.session() as session:
        assert verify_chain(session).ok


def test_candidacy(db: Database, clinician: Actor) -> None:
    patient = _patient(db, clinician)
    finding = Finding("life_expectancy", CriterionKind.ROUTE, CriterionStatus.MET, "6 months",
                      ">= 3 months", "long enough for an implanted pump", "Oncology 1999")
    verdict = CandidacyVerdict(CandidacyOutcome.SCREENING_TRIAL_FIRST, "screen first",
                               ("life_expectancy",), (finding,), (), "reference", "1.0")
    record = decisions.record_candidacy(db, clinician, patient.id, verdict)
    with db.session() as session:
        back = session.get(CandidacyRecord, record.id)
        assert back is not None
        assert (back.outcome, back.criteria_name, back.criteria_version, back.assessed_by) == (
            str(CandidacyOutcome.SCREENING_TRIAL_FIRST), "reference", "1.0", "clinician1")
        [shown] = parse_json(back.findings)  # type: ignore[misc]
    assert shown["criterion"] == "life_expectancy" and shown["status"] == str(
        CriterionStatus.MET)


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(withdrawn_nl=st.integers(0, 20_000_000), mg_per_ml=st.fractions(
    min_value=Fraction(1, 1000), max_value=Fraction(50), max_denominator=10**6))
def test_refill_volumes_and_concentrations_are_exact(db: Database, nurse: Actor,
                                                     library: DrugLibrary, withdrawn_nl: int,
                                                     mg_per_ml: Fraction) -> None:
    """Any whole-nL volume and any exact concentration read back unchanged."""
    with db.session() as session:
        implant = session.scalar(select(Implant).limit(1))
    if implant is None:
        patient = _patient(db, nurse)
        implant = patients.record_implant(db, actor_of(UserRole.CLINICIAN), patient.id, DETAILS)
    base = refill_change(library)
    change = replace(base, request=replace(
        base.request, withdrawn=volume_of(withdrawn_nl),
        concentration=Quantity.of(mg_per_ml, "mg/mL")))
    row = refills.record_refill(db, nurse, implant.id, change, "LOT", None)
    with db.session() as session:
        back = session.get(Refill, row.id)
        assert back is not None
        assert back.withdrawn_nl == withdrawn_nl
        assert concentration_of(back.concentration_num, back.concentration_den) == Quantity.of(
            mg_per_ml, "mg/mL")
