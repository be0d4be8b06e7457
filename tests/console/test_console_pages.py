"""The console's pages through HTTP as a browser sends it (forms, cookies, redirects): log in,
the dashboard's triage, who may reach what, CSRF, messages beside fields with nothing saved,
the alarm, audit and report pages, and the accessibility basics on every page."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from datetime import date

import pypdfium2
from fastapi.testclient import TestClient

from idds.api import Clinic
from idds.pump import AlarmKind
from idds.store import UserRole
from idds.store.alarms import alarms_of, record_alarm
from idds.store.clock import FakeClock
from idds.store.overview import clinic_overview
from idds.store.patients import ImplantDetails, record_implant, register_patient
from idds.store.readings import record_reading
from idds.store.therapy import programs_of, record_program
from tests.api.api_helpers import Users
from tests.console.page_helpers import assert_accessible, csrf, field_error
from tests.store.store_helpers import actor, pump_status, q, therapy_plan

Browser = Callable[[str], TestClient]


def _implant(clinic: Clinic, clock: FakeClock, patient_id: int, serial: str) -> int:
    doctor = actor(UserRole.CLINICIAN, clock)
    implant = record_implant(clinic.db, doctor, patient_id, ImplantDetails(
        serial, "test pump", "catheter", "T10", date(2026, 2, 1), q("0.1 mL")))
    record_program(clinic.db, doctor, implant.id, therapy_plan(clinic.library),
                   clinic.library_version_id, "start", replaces=None)
    record_reading(clinic.db, actor(UserRole.NURSE, clock), implant.id, pump_status(),
                   clock().date())
    return implant.id


def test_pages_need_a_login_and_a_wrong_password_is_refused(client: TestClient,
                                                           users: Users) -> None:
    first = client.get("/patients/1")
    assert first.status_code == 303 and first.headers["location"] == "/login?next=/patients/1"
    form = client.get("/login")
    assert_accessible(form.text)
    wrong = client.post("/login", data={"csrf_token": csrf(form.text),
                                        "username": "clinician1", "password": "nope"})
    assert wrong.status_code == 401
    assert "password" in wrong.text.lower() and "Traceback" not in wrong.text
    assert "idds_session" not in wrong.headers.get("set-cookie", "")
    no_nonce = TestClient(client.app, follow_redirects=False).post(
        "/login", data={"username": "clinician1", "password": "x"})
    assert no_nonce.status_code == 403 and "CSRF" in no_nonce.text


def test_the_dashboard_lists_an_alarming_patient_first(clinic: Clinic, clock: FakeClock,
                                                      users: Users, browser_as: Browser) -> None:
    nurse = actor(UserRole.NURSE, clock)
    quiet = register_patient(clinic.db, nurse, "MRN-2", "Quiet Patient", date(1960, 1, 1))
    loud = register_patient(clinic.db, nurse, "MRN-3", "Alarming Patient", date(1961, 1, 1))
    _implant(clinic, clock, quiet.id, "P-quiet")
    implant = _implant(clinic, clock, loud.id, "P-loud")
    record_alarm(clinic.db, nurse, implant, AlarmKind.LOW_RESERVOIR, clock())
    page = browser_as("nurse1").get("/")
    assert page.status_code == 200
    assert_accessible(page.text)
    order = [page.text.index(name) for name in ("Alarming Patient", "Ada Patient",
                                                "Quiet Patient")]
    assert order == sorted(order), "the alarm first; then, with no concern, by id"
    assert "1 alarm(s) not acknowledged: low reservoir" in page.text
    assert "15 mL (alarm at 2 mL)" in page.text  # units beside numbers, no trailing zeros
    nurse_client = browser_as("clinician1")
    found = nurse_client.get("/dashboard/rows", params={"q": "quiet"}).text
    assert "Quiet Patient" in found and "Alarming Patient" not in found
    alarming = nurse_client.get("/", params={"concern": "alarm"}).text
    assert "Alarming Patient" in alarming and "Quiet Patient" not in alarming


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(
        clinic: Clinic, users: Users, browser_as: Browser) -> None:
    nurse = browser_as("nurse1")
    for data in ({"note": "looked"}, {"note": "looked", "csrf_token": "forged"}):
        refused = nurse.post(f"/patients/{users.patient_id}/review", data=data)
        assert refused.status_code == 403 and "CSRF" in refused.text
    assert [o.reviewed for o in clinic_overview(clinic.db, actor(UserRole.NURSE),
                                                clinic.db.now())] == [None]
    token = csrf(nurse.get(f"/patients/{users.patient_id}").text,
                 f"/patients/{users.patient_id}/review")
    done = nurse.post(f"/patients/{users.patient_id}/review",
                      data={"note": "looked", "csrf_token": token})
    assert done.status_code == 303
    assert "by nurse1" in nurse.get("/").text
    assert "reviewed: looked" in nurse.get(f"/patients/{users.patient_id}").text  # timeline


def test_the_patient_role_cannot_reach_programming(clinic: Clinic, clock: FakeClock,
                                                  users: Users, browser_as: Browser) -> None:
    implant = _implant(clinic, clock, users.patient_id, "P-own")
    me = browser_as("patient1")
    home = me.get("/")
    assert home.status_code == 303 and home.headers["location"] == f"/patients/{users.patient_id}"
    own = me.get(home.headers["location"])
    assert own.status_code == 200 and "Change therapy" not in own.text
    assert_accessible(own.text)
    path = f"/patients/{users.patient_id}/implants/{implant}/program"
    assert me.get(path).status_code == 403
    posted = me.post(path, data={"csrf_token": csrf(own.text), "dose": "5 mg/day",
                                 "reason": "wanting more"})
    assert posted.status_code == 403
    assert len(programs_of(clinic.db, actor(UserRole.CLINICIAN), users.patient_id,
                           implant)) == 1
    other = register_patient(clinic.db, actor(UserRole.NURSE, clock), "MRN-9", "Other One",
                             date(1950, 1, 1))
    assert me.get(f"/patients/{other.id}").status_code == 403
    assert me.get("/audit").status_code == 403


def test_bad_input_shows_beside_its_field_and_saves_nothing(
        clinic: Clinic, clock: FakeClock, users: Users, browser_as: Browser) -> None:
    implant = _implant(clinic, clock, users.patient_id, "P-form")
    doctor = browser_as("clinician1")
    path = f"/patients/{users.patient_id}/implants/{implant}/program"
    form = doctor.get(path)
    assert form.status_code == 200
    assert_accessible(form.text)
    for fields, field, words in (
            ({"dose": "lots"}, "dose", "lots"),
            ({"dose": "1 mg/day", "bolus": "0.1 mg"}, "bolus_duration", "bolus"),
            ({"dose": "1 mg/day", "bolus": "0.1 mg", "bolus_duration": "10 min",
              "lockout": "2 h", "max_boluses": "four"}, "max_boluses", "whole number"),
            ({"mode": "flex", "flex": "25:00=1 mg/day"}, "flex", "25:00"),
            ({"dose": "1 mg/day"}, "reason", "reason")):
        answer = doctor.post(path, data={"csrf_token": csrf(form.text, path),
                                         "mode": "continuous",
                                         **({} if field == "reason" else {"reason": "why"}),
                                         **fields})
        assert answer.status_code == 422, (fields, answer.text[:300])
        assert words in field_error(answer.text, field), (field, answer.text[-2000:])
        assert_accessible(answer.text)
        for name, value in fields.items():  # what was typed stays in the form
            assert f'value="{value}"' in answer.text or name == "mode"
    assert len(programs_of(clinic.db, actor(UserRole.CLINICIAN), users.patient_id,
                           implant)) == 1


def test_an_alarm_is_acknowledged_with_a_reason(clinic: Clinic, clock: FakeClock,
                                                users: Users, browser_as: Browser) -> None:
    implant = _implant(clinic, clock, users.patient_id, "P-alarm")
    nurse_actor = actor(UserRole.NURSE, clock)
    alarm = record_alarm(clinic.db, nurse_actor, implant, AlarmKind.LOW_RESERVOIR, clock())
    nurse = browser_as("nurse1")
    page = nurse.get(f"/patients/{users.patient_id}").text
    assert "Acknowledge" in page
    path = f"/alarms/{alarm.id}/acknowledge"
    token = csrf(page, path)
    blank = nurse.post(path, data={"csrf_token": token, "expected_version": "1",
                                   "reason": " "})
    assert blank.status_code == 422 and "reason" in blank.text
    assert alarms_of(clinic.db, nurse_actor, users.patient_id)[0].acknowledged_at is None
    done = nurse.post(path, data={"csrf_token": token, "expected_version": "1",
                                  "reason": "refill booked for today"})
    assert done.status_code == 303
    assert alarms_of(clinic.db, nurse_actor, users.patient_id)[0].acknowledged_by == "nurse1"
    again = nurse.post(path, data={"csrf_token": token, "expected_version": "1",
                                   "reason": "twice"})
    assert again.status_code in (409, 422) and "Traceback" not in again.text


def test_the_audit_view_is_for_admins(clinic: Clinic, clock: FakeClock, users: Users,
                                      browser_as: Browser) -> None:
    _implant(clinic, clock, users.patient_id, "P-audit")
    assert browser_as("clinician1").get("/audit").status_code == 403
    page = browser_as("admin1").get("/audit")
    assert page.status_code == 200
    assert_accessible(page.text)
    assert "Hash chain intact" in page.text
    assert "change therapy" in page.text and "clinician1" in page.text


def test_the_summary_report_prints_and_exports(clinic: Clinic, clock: FakeClock,
                                               users: Users, browser_as: Browser) -> None:
    _implant(clinic, clock, users.patient_id, "P-report")
    doctor = browser_as("clinician1")
    base = f"/patients/{users.patient_id}"
    html = doctor.get(f"{base}/report")
    assert html.status_code == 200
    assert_accessible(html.text)
    pdf = doctor.get(f"{base}/report.pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    document = pypdfium2.PdfDocument(pdf.content)
    try:
        assert len(document) == 1
        text = document[0].get_textpage().get_text_range()
    finally:
        document.close()
    assert "Ada Patient" in text and "1.2 mg/day" in text and "not a medical device" in text
    exported = doctor.get(f"{base}/export.zip")
    with zipfile.ZipFile(io.BytesIO(exported.content)) as archive:
        names = set(archive.namelist())
        assert {"patient.csv", "therapy_program.csv", "pump_reading.csv"} <= names
        assert "Ada Patient" in archive.read("patient.csv").decode()


def test_every_page_has_a_heading_labels_and_units(clinic: Clinic, clock: FakeClock,
                                                   users: Users, browser_as: Browser) -> None:
    implant = _implant(clinic, clock, users.patient_id, "P-pages")
    doctor = browser_as("clinician1")
    base = f"/patients/{users.patient_id}"
    for path in ("/", base, f"{base}/implants/{implant}/program",
                 f"{base}/implants/{implant}/refill", f"{base}/report", "/no-such-page"):
        page = doctor.get(path)
        assert page.status_code in (200, 404), path
        assert_accessible(page.text)
    patient = doctor.get(base).text
    for shown in ("15 mL of 20 mL (low-reservoir alarm at 2 mL)", "1.2 mg/day",
                  "0.1 mg over 10 min"):
        assert shown in patient, shown


def test_the_review_findings_stay_fixed(clinic: Clinic, clock: FakeClock, users: Users,
                                        browser_as: Browser) -> None:
    """A recommendation of another patient is refused before anything is planned; odd ids
    and odd names give pages, never faults; roles without records get no event stream."""
    from idds.store.decisions import record_recommendation
    implant = _implant(clinic, clock, users.patient_id, "P-review")
    other = register_patient(clinic.db, actor(UserRole.NURSE, clock), "MRN-Ā\"1",
                             "A $\\frac$ B", date(1950, 1, 1))
    theirs = record_recommendation(clinic.db, actor(UserRole.CLINICIAN, clock), other.id,
                                   "intelligent", {"dose": "9 mg/day"}, ["test"])
    doctor = browser_as("clinician1")
    path = f"/patients/{users.patient_id}/implants/{implant}/program"
    foreign = doctor.get(path, params={"recommendation": str(theirs.id)})
    assert foreign.status_code == 422 and "another patient" in foreign.text
    assert doctor.get(path, params={"recommendation": "²"}).status_code == 422
    pdf = doctor.get(f"/patients/{other.id}/report.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    admin = browser_as("admin1")
    assert admin.get("/audit", params={"before": "²"}).status_code == 200
    assert admin.get("/events").status_code == 403
    home = admin.get("/")
    assert home.status_code == 200 and "audit trail" in home.text


def test_a_short_log_gives_no_expected_use() -> None:
    """Two boluses ten minutes apart say nothing yet about daily use."""
    from fractions import Fraction

    from idds.console.patientview import bolus_use
    from idds.pump import EventLog
    from idds.pump.log import EventKind
    log = EventLog()
    for t in (0, 600):
        log.append(Fraction(t), EventKind.BOLUS_STARTED, {"kind": "patient",
                                                           "volume": q("0.01 mL")})
    use = bolus_use(list(log.entries), q("10 mg/mL"))
    assert use.given[0] == 2 and use.given_24h == 2 and use.mean_per_day is None
