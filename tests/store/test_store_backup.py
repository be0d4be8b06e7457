"""Export and restore on SQLite and PostgreSQL: a clinic export restored into an empty
database reproduces every row of every table exactly, the audit chain verifies with one more
record (the restore's own), the restored record keeps working (ids continue); a patient
export holds that patient's rows only; bad exports are refused and nothing is written."""

from __future__ import annotations

import copy
import csv
import io
import json
import stat
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.engine import URL

from idds.cli.main import main
from idds.drugs import DrugLibrary, load_library
from idds.pump import AlarmKind, EventKind, EventLog
from idds.selection import CandidacyOutcome, CandidacyVerdict, CriterionStatus, Finding
from idds.selection.criteria import CriterionKind
from idds.selection.record import SideEffects
from idds.selection.screening_rules import ScreeningMethod, ScreeningVerdict
from idds.store import (
    Database,
    StoreError,
    UserRole,
    alarms,
    decisions,
    diary,
    patients,
    pumplogs,
    readings,
    refills,
    therapy,
)
from idds.store.audit import verify_chain
from idds.store.backup import as_csv, export_clinic, export_patient, restore
from idds.store.clock import FakeClock
from idds.store.model import AuditRecord
from idds.store.sessions import login
from idds.store.users import add_user
from tests.conftest import SiteLibrary
from tests.store.store_helpers import CHEAP, pump_status, q, refill_change, therapy_plan
from tests.store.store_helpers import actor as actor_of


@pytest.fixture
def library(site_library: SiteLibrary) -> DrugLibrary:
    return load_library(site_library.path, site_library.trust)


def _fill(db: Database, clock: FakeClock, library: DrugLibrary) -> None:
    """A clinic with a row in every table."""
    admin, nurse = actor_of(UserRole.ADMIN, clock), actor_of(UserRole.NURSE, clock)
    doctor = actor_of(UserRole.CLINICIAN, clock)
    for number in (1, 2):
        patient = patients.register_patient(db, nurse, f"MRN-{number}", f"Patient {number}",
                                            date(1950 + number, 5, 17))
        implant = patients.record_implant(db, doctor, patient.id, patients.ImplantDetails(
            f"SN-{number}", "IDDS reference pump", "8709SC", "T10", date(2026, 2, 20),
            q("0.0123 mL"), bytes(range(32)), b"\xff" * 32))
        version = therapy.install_library(db, admin, library)
        program = therapy.record_program(db, doctor, implant.id, therapy_plan(library),
                                         version.id, "start", replaces=None)
        refills.record_refill(db, nurse, implant.id, refill_change(library), f"LOT-{number}",
                              date(2026, 4, 1))
        clock.advance(minutes=1)
        diary.add_diary_entry(db, nurse, patient.id, clock() - timedelta(hours=2), 4, "night")
        diary.assess_side_effects(db, nurse, patient.id, SideEffects({"nausea": 1}), 14)
        alarm = alarms.record_alarm(db, nurse, implant.id, AlarmKind.LOW_RESERVOIR, clock())
        alarms.acknowledge(db, nurse, alarm.id, alarm.version, "refill booked")
        advice = decisions.record_recommendation(db, doctor, patient.id, "intelligent",
                                                 {"dose": "1.1 mg/day"}, ["pain above 3"])
        decisions.decide(db, doctor, advice.id, advice.version,
                         decisions.RecommendationDecision.ACCEPTED, "agreed", program.id)
        log = EventLog()
        for i in range(4):
            log.append(Fraction(i * 3600, 7), EventKind.INTERROGATED, {"n": i})
        pumplogs.import_log(db, nurse, implant.id, log.entries, log.head)
        readings.record_reading(db, nurse, implant.id, replace(
            pump_status(), clock_epoch=datetime(2026, 1, 1, 6, tzinfo=UTC)), clock().date())
        finding = Finding("life_expectancy", CriterionKind.ROUTE, CriterionStatus.MET,
                          "6 months", ">= 3 months", "long enough", "Oncology 1999")
        decisions.record_candidacy(db, doctor, patient.id, CandidacyVerdict(
            CandidacyOutcome.SCREENING_TRIAL_FIRST, "screen first", ("life_expectancy",),
            (finding,), (), "reference", "1.0"))
        decisions.record_screening(db, doctor, patient.id, ScreeningMethod.BOLUS, "morphine",
                                   q("0.25 mg"), 8, 3, ScreeningVerdict.POSITIVE, ["relief"])
    add_user(db, admin, "ward-nurse", UserRole.NURSE, "a long enough password", hasher=CHEAP)
    login(db, "ward-nurse", "a long enough password")


def _without_time(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k != "exported_at"}


def test_a_clinic_export_restores_into_an_empty_database_exactly(
        db: Database, clock: FakeClock, library: DrugLibrary,
        url_factory: Callable[[], URL]) -> None:
    _fill(db, clock, library)
    admin = actor_of(UserRole.ADMIN, clock)
    exported = export_clinic(db, admin)
    assert all(exported["tables"][t] for t in exported["tables"]), "every table has rows"
    target = Database.open(url_factory(), clock)
    try:
        counts = restore(target, admin, copy.deepcopy(exported), "backup.json")
        assert counts == {name: len(rows) for name, rows in exported["tables"].items()}
        again = export_clinic(target, admin)
        trail = again["tables"]["audit_record"]
        assert trail[-1]["action"] == "restore the whole record"
        assert trail[-1]["reason"] == "restored from backup.json"
        again["tables"]["audit_record"] = trail[:-1]
        assert _without_time(again) == _without_time(exported)
        with target.session() as session:
            assert verify_chain(session).ok
        # the restored record goes on: new ids follow the restored ones
        new = patients.register_patient(target, actor_of(UserRole.NURSE, clock), "MRN-3",
                                        "Patient 3", date(1960, 1, 1))
        assert new.id == 3
        # a second restore into a database that now has rows is refused
        with pytest.raises(StoreError, match="not empty"):
            restore(target, admin, exported, "backup.json")
    finally:
        target.dispose()


def test_an_export_from_revision_0002_restores_with_the_reading_columns_empty(
        db: Database, clock: FakeClock, library: DrugLibrary,
        url_factory: Callable[[], URL]) -> None:
    _fill(db, clock, library)
    admin = actor_of(UserRole.ADMIN, clock)
    exported = export_clinic(db, admin)
    stored = exported["tables"]["pump_reading"]
    assert [(r["pumped_nl"], r["clock_epoch"]) for r in stored] == \
        [(5_000_000, "2026-01-01T06:00:00+00:00")] * len(stored)
    older = copy.deepcopy(exported)
    older["revision"] = "0002"
    for row in older["tables"]["pump_reading"]:
        del row["pumped_nl"], row["clock_epoch"]
    kept = copy.deepcopy(older)
    target = Database.open(url_factory(), clock)
    try:
        restore(target, admin, older, "old.json")
        assert older == kept, "the document restored is not changed"
        again = export_clinic(target, admin)["tables"]["pump_reading"]
        assert [(r["pumped_nl"], r["clock_epoch"]) for r in again] == [(None, None)] * len(stored)
        assert [{k: v for k, v in r.items() if k not in ("pumped_nl", "clock_epoch")}
                for r in again] == older["tables"]["pump_reading"]
    finally:
        target.dispose()
    # at 0002 a row must lack both new columns or have both; a table without added columns
    # must have every column
    half = copy.deepcopy(older)
    half["tables"]["pump_reading"][0]["pumped_nl"] = 5
    short = copy.deepcopy(older)
    short["tables"]["patient"][0].pop("name")
    for bad in (half, short):
        target = Database.open(url_factory(), clock)
        try:
            with pytest.raises(StoreError, match="a row of"):
                restore(target, admin, bad, "bad.json")
        finally:
            target.dispose()


def test_a_patient_export_holds_that_patient_only(db: Database, clock: FakeClock,
                                                  library: DrugLibrary) -> None:
    _fill(db, clock, library)
    exported = export_patient(db, actor_of(UserRole.NURSE, clock), 2)
    tables = exported["tables"]
    assert [p["identifier"] for p in tables["patient"]] == ["MRN-2"]
    assert {r["patient_id"] for r in tables["diary_entry"]} == {2}
    assert len(tables["pump_log_record"]) == 4 and len(tables["library_version"]) == 1
    assert "user_account" not in tables and "audit_record" not in tables
    with pytest.raises(StoreError, match="cannot be restored on its own"):
        restore(db, actor_of(UserRole.ADMIN, clock), exported, "p.json")
    files = as_csv(exported)
    rows = list(csv.DictReader(io.StringIO(files["diary_entry.csv"])))
    assert [(r["pain"], r["note"]) for r in rows] == [("4", "night")]
    with pytest.raises(StoreError, match="may read record on their own record only"):
        export_patient(db, actor_of(UserRole.PATIENT, clock, patient_id=1), 2)


def test_only_an_admin_backs_up_the_whole_record(db: Database, clock: FakeClock) -> None:
    with pytest.raises(StoreError, match="may not export the whole record"):
        export_clinic(db, actor_of(UserRole.CLINICIAN, clock))


@pytest.mark.parametrize(("damage", "message"), [
    (lambda d: d.update(format="other"), "not an IDDS clinic export"),
    (lambda d: d.update(revision="0001"), "schema revision 0001"),
    (lambda d: d.update(revision="0099"), "schema revision 0099"),
    (lambda d: d["tables"]["pump_reading"][0].update(pumped_nl=1.5), "pump_reading.pumped_nl"),
    (lambda d: d["tables"]["pump_reading"][0].update(clock_epoch="2026-01-01T06:00:00"),
     "no time zone"),
    (lambda d: d["tables"].pop("alarm"), "tables are not the record's tables"),
    (lambda d: d["tables"]["patient"][0].update(birth_date="May"), "patient.birth_date"),
    (lambda d: d["tables"]["patient"][0].pop("name"), "a row of patient"),
    (lambda d: d["tables"]["patient"][0].update(version="abc"), "patient.version"),
    (lambda d: d["tables"]["patient"][0].update(version=True), "patient.version"),
    (lambda d: d["tables"]["patient"][0].update(created_at="2026-03-01T00:00:00"),
     "no time zone"),
    (lambda d: d["tables"]["patient"][0].update(name=None), "patient.name has no value"),
    (lambda d: d["tables"]["patient"][0].update(identifier="x" * 65), "longer than 64"),
    (lambda d: d["tables"]["audit_record"][1].update(actor="mallory"), "does not verify"),
])
def test_a_bad_export_is_refused_and_nothing_is_written(
        db: Database, clock: FakeClock, library: DrugLibrary,
        url_factory: Callable[[], URL], damage: Any, message: str) -> None:
    _fill(db, clock, library)
    admin = actor_of(UserRole.ADMIN, clock)
    exported = export_clinic(db, admin)
    damage(exported)
    target = Database.open(url_factory(), clock)
    try:
        with pytest.raises(StoreError, match=message):
            restore(target, admin, exported, "bad.json")
        with target.session() as session:
            assert session.scalars(select(AuditRecord)).first() is None
    finally:
        target.dispose()


def test_export_and_restore_through_the_cli(db: Database, clock: FakeClock,
                                            library: DrugLibrary, url: URL,
                                            url_factory: Callable[[], URL], tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    _fill(db, clock, library)
    source, target = (u.render_as_string(hide_password=False) for u in (url, url_factory()))
    backup = tmp_path / "backup.json"
    backup.write_text("an older file, readable by all")
    backup.chmod(0o644)
    assert main(["clinic", "export", "--out", str(backup), "--db", source]) == 0
    assert "exported clinic" in capsys.readouterr().out
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600  # it holds password hashes
    assert main(["clinic", "export", "--format", "csv", "--patient", "1", "--out",
                 str(tmp_path / "csv"), "--db", source]) == 0
    assert (tmp_path / "csv" / "diary_entry.csv").read_text().startswith("id,patient_id,")
    capsys.readouterr()
    assert main(["clinic", "restore", str(backup), "--db", target]) == 0
    assert "restored" in capsys.readouterr().out
    back = tmp_path / "back.json"
    assert main(["clinic", "export", "--out", str(back), "--db", target]) == 0
    before, after = (json.loads(p.read_text())["tables"] for p in (backup, back))
    assert after["audit_record"][:-1] == before["audit_record"]
    assert {k: v for k, v in after.items() if k != "audit_record"} == \
        {k: v for k, v in before.items() if k != "audit_record"}
    capsys.readouterr()
    (tmp_path / "junk.json").write_text("{not json")
    assert main(["clinic", "restore", str(tmp_path / "junk.json"), "--db", target]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is not JSON" in err and "Traceback" not in err
    assert main(["clinic", "restore", str(backup), "--db", target]) == 2
    assert "not empty" in capsys.readouterr().err


@settings(max_examples=80, deadline=None)
@given(st.text(max_size=12))
def test_no_exported_cell_starts_a_spreadsheet_formula(text: str) -> None:
    """A name, note or lot typed as a formula reaches the spreadsheet as text (CSV
    injection); numbers, negative ones included, stay numbers; the cell reads back to what
    was written but for the apostrophe."""
    document = {"tables": {"diary_entry": [{"note": text, "pain": "-1"}]}}
    rows = list(csv.DictReader(io.StringIO(as_csv(document)["diary_entry.csv"])))
    cell = rows[0]["note"]
    assert not cell.startswith(("=", "+", "@", "\t", "\r")) and rows[0]["pain"] == "-1"
    assert cell in (text, "'" + text)
    if cell.startswith("-"):
        float(cell)  # only a number may start with a minus


def test_a_formula_typed_into_a_note_is_exported_as_text() -> None:
    document = {"tables": {"diary_entry": [{"note": '=HYPERLINK("http://x","click")'}]}}
    text = as_csv(document)["diary_entry.csv"]
    assert "'=HYPERLINK" in text
