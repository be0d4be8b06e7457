"""The API on a real pump: an emulator process (`idds pump serve`) paired with the clinic's
programmer directory; refill, propose and confirm a therapy (sent over the secure link, read
back, recorded with the program it replaced), two clinicians racing on one pump, and a sync
that stores the pump's log after verifying its hash chain."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from idds.api import Clinic
from idds.link import Role
from idds.store import UserRole
from idds.store.clock import FakeClock
from idds.store.users import add_user
from tests.api.api_helpers import API, PASSWORD, Users, error
from tests.store.store_helpers import CHEAP, actor
from tests.system.system_helpers import Emulator, call, programmer


@pytest.fixture
def pump(tmp_path: Path, clinic: Clinic) -> Iterator[str]:
    """A running emulated pump paired with the clinic's programmer directory: its serial."""
    emu = Emulator(tmp_path / "pump", speed=1)
    emu.start()
    try:
        device = clinic.pumps.device.path  # type: ignore[attr-defined]
        prog = programmer(device, emu.port)
        pairing = call(prog, prog.pair("clinic-programmer", emu.wand(Role.CLINICIAN)))
        yield pairing.pump_id
    finally:
        emu.stop()


def _implant(client: TestClient, users: Users, serial: str) -> int:
    answer = client.post(f"{API}/patients/{users.patient_id}/implants",
                         headers=users.auth(UserRole.CLINICIAN),
                         json={"pump_serial": serial, "pump_model": "IDDS emulator",
                               "catheter_model": "8709SC", "catheter_tip": "T10",
                               "catheter_volume": "0.1248 mL", "implanted_on": "2026-03-01"})
    assert answer.status_code == 201, answer.text
    assert answer.json()["catheter_volume"]["value"] == "0.1248"
    return int(answer.json()["id"])


def _refill(client: TestClient, users: Users, implant: int) -> dict[str, Any]:
    base = f"{API}/patients/{users.patient_id}/implants/{implant}"
    nurse = users.auth(UserRole.NURSE)
    planned = client.post(f"{base}/refills/proposals", headers=nurse,
                          json={"withdrawn": "0 mL", "volume": "20 mL",
                                "concentration": "10 mg/mL", "drug": "morphine"})
    assert planned.status_code == 201, planned.text
    done = client.post(f"{API}/refills/proposals/{planned.json()['proposal_id']}/confirm",
                       headers=nurse, json={"lot": "LOT-42"})
    assert done.status_code == 201, done.text
    return dict(done.json())


def _propose(client: TestClient, users: Users, implant: int, dose: str,
             role: UserRole = UserRole.CLINICIAN, headers: dict[str, str] | None = None,
             override: str | None = None) -> dict[str, Any]:
    answer = client.post(
        f"{API}/patients/{users.patient_id}/implants/{implant}/programs/proposals",
        headers=headers or users.auth(role),
        json={"drug": "morphine", "concentration": "10 mg/mL", "opioid_tolerant": True,
              "override_reason": override,
              "therapy": {"mode": "continuous", "dose": dose, "bolus": "0.1 mg",
                          "bolus_duration": "10 min", "lockout": "2 h", "max_boluses": 4}})
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def test_a_therapy_goes_to_the_pump_is_read_back_and_recorded(
        client: TestClient, users: Users, pump: str) -> None:
    implant = _implant(client, users, pump)
    refill = _refill(client, users, implant)
    assert (refill["filled"]["value"], refill["lot"], refill["operator"]) == ("20", "LOT-42",
                                                                              "nurse1")
    proposal = _propose(client, users, implant, "0.5 mg/day")
    rows = {r["setting"]: (r["old"], r["new"]) for r in proposal["rows"]}
    assert rows["Basal dose per DAY (mg/day)"][1] == "0.5 mg/day"
    assert proposal["replaces"] is None and not proposal["needs_override_confirmation"]
    sent = client.post(f"{API}/programs/proposals/{proposal['proposal_id']}/confirm",
                       headers=users.auth(UserRole.CLINICIAN), json={"reason": "start"})
    assert sent.status_code == 201, sent.text
    program = sent.json()["program"]
    assert program["daily_dose"]["value"] == "0.5" and program["daily_dose"]["unit"] == "mg/day"
    assert program["programmed_by"] == "clinician1" and program["previous_id"] is None
    assert "0.5 mg/day" in sent.json()["read_back"]
    # the proposal is spent: confirming it again sends nothing
    again = client.post(f"{API}/programs/proposals/{proposal['proposal_id']}/confirm",
                        headers=users.auth(UserRole.CLINICIAN), json={"reason": "start"})
    error(again, 404, "not_found")
    # a second increase within 24 h is a soft limit: a reason, then a second confirmation
    second = _propose(client, users, implant, "0.6 mg/day", override="titration-agreed")
    assert second["replaces"] == program["id"] and second["needs_override_confirmation"]
    assert any("24 h" in b["message"] for b in second["breaches"])
    url = f"{API}/programs/proposals/{second['proposal_id']}/confirm"
    once = client.post(url, headers=users.auth(UserRole.CLINICIAN), json={"reason": "crisis"})
    assert error(once, 422, "invalid")["field"] == "override_confirmed"
    twice = client.post(url, headers=users.auth(UserRole.CLINICIAN),
                        json={"reason": "crisis", "override_confirmed": True})
    assert twice.status_code == 201, twice.text
    raised = twice.json()["program"]
    assert raised["previous_id"] == program["id"]
    assert raised["override_reason"] == "titration-agreed" and raised["breaches"]
    # a hard limit refuses the plan with the library's words; nothing is pending or sent
    hard = client.post(
        f"{API}/patients/{users.patient_id}/implants/{implant}/programs/proposals",
        headers=users.auth(UserRole.CLINICIAN),
        json={"drug": "morphine", "concentration": "10 mg/mL",
              "therapy": {"mode": "continuous", "dose": "40 mg/day"}})
    assert "hard limit" in error(hard, 422, "refused")["message"].lower()
    history = client.get(f"{API}/patients/{users.patient_id}/implants/{implant}/programs",
                         headers=users.auth(UserRole.NURSE)).json()
    assert [p["id"] for p in history] == [program["id"], raised["id"]]


def test_two_clinicians_on_one_pump_get_one_change_and_a_conflict(
        client: TestClient, users: Users, pump: str, clinic: Clinic, clock: FakeClock) -> None:
    add_user(clinic.db, actor(UserRole.ADMIN, clock, "root"), "clinician2",
             UserRole.CLINICIAN, PASSWORD, hasher=CHEAP)
    other = client.post(f"{API}/session", json={"username": "clinician2",
                                                 "password": PASSWORD}).json()["token"]
    theirs = {"Authorization": f"Bearer {other}"}
    implant = _implant(client, users, pump)
    _refill(client, users, implant)
    mine = _propose(client, users, implant, "0.5 mg/day")
    rival = _propose(client, users, implant, "0.8 mg/day", headers=theirs)
    # only the author confirms a proposal
    stolen = client.post(f"{API}/programs/proposals/{mine['proposal_id']}/confirm",
                         headers=theirs, json={"reason": "mine now"})
    error(stolen, 403, "forbidden")
    first = client.post(f"{API}/programs/proposals/{mine['proposal_id']}/confirm",
                        headers=users.auth(UserRole.CLINICIAN), json={"reason": "start"})
    assert first.status_code == 201, first.text
    late = client.post(f"{API}/programs/proposals/{rival['proposal_id']}/confirm",
                       headers=theirs, json={"reason": "start higher"})
    assert "plan it again" in error(late, 409, "conflict")["message"]
    history = client.get(f"{API}/patients/{users.patient_id}/implants/{implant}/programs",
                         headers=users.auth(UserRole.NURSE)).json()
    assert [p["daily_dose"]["value"] for p in history] == ["0.5"]
    synced = client.post(f"{API}/patients/{users.patient_id}/implants/{implant}/sync",
                         headers=users.auth(UserRole.NURSE))
    assert synced.status_code == 200, synced.text
    assert "0.5 mg/day" in synced.json()["therapy"]  # the pump runs the first change only


def test_two_confirms_at_the_same_moment_leave_the_pump_and_the_record_agreeing(
        client: TestClient, users: Users, pump: str, clinic: Clinic, clock: FakeClock) -> None:
    """Both confirms in flight at once (threads): one is sent and recorded, the other is a
    409 that sent nothing, and the pump runs what the record says."""
    add_user(clinic.db, actor(UserRole.ADMIN, clock, "root"), "clinician2",
             UserRole.CLINICIAN, PASSWORD, hasher=CHEAP)
    theirs = {"Authorization": "Bearer " + client.post(f"{API}/session", json={
        "username": "clinician2", "password": PASSWORD}).json()["token"]}
    implant = _implant(client, users, pump)
    _refill(client, users, implant)
    mine = _propose(client, users, implant, "0.5 mg/day")
    rival = _propose(client, users, implant, "0.55 mg/day", headers=theirs)
    answers: dict[str, Any] = {}

    def confirm(name: str, proposal: str, headers: dict[str, str]) -> None:
        answers[name] = client.post(f"{API}/programs/proposals/{proposal}/confirm",
                                    headers=headers, json={"reason": "start"})

    threads = [threading.Thread(target=confirm, args=("mine", mine["proposal_id"],
                                                      users.auth(UserRole.CLINICIAN))),
               threading.Thread(target=confirm, args=("theirs", rival["proposal_id"], theirs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    codes = sorted(a.status_code for a in answers.values())
    assert codes == [201, 409], {k: a.text for k, a in answers.items()}
    winner = next(a for a in answers.values() if a.status_code == 201).json()["program"]
    history = client.get(f"{API}/patients/{users.patient_id}/implants/{implant}/programs",
                         headers=users.auth(UserRole.NURSE)).json()
    assert [p["id"] for p in history] == [winner["id"]]
    synced = client.post(f"{API}/patients/{users.patient_id}/implants/{implant}/sync",
                         headers=users.auth(UserRole.NURSE)).json()
    assert f"continuous {winner['daily_dose']['value']} mg/day" in synced["therapy"]


def test_a_hospital_fhir_order_becomes_a_proposal_like_any_change(
        client: TestClient, users: Users, pump: str) -> None:
    """The program exported as FHIR and sent back as the hospital's order (alone, or the
    whole exported Bundle) is planned through the pump and the library: the Finish screen
    shows it unchanged; a non-intrathecal order
    is refused naming the element, and nothing is pending."""
    implant = _implant(client, users, pump)
    _refill(client, users, implant)
    proposal = _propose(client, users, implant, "0.5 mg/day")
    client.post(f"{API}/programs/proposals/{proposal['proposal_id']}/confirm",
                headers=users.auth(UserRole.CLINICIAN), json={"reason": "start"})
    assert client.post(f"{API}/patients/{users.patient_id}/implants/{implant}/sync",
                       headers=users.auth(UserRole.NURSE)).status_code == 200
    bundle = client.get(f"{API}/patients/{users.patient_id}/fhir",
                        headers=users.auth(UserRole.NURSE)).json()
    (order,) = [e["resource"] for e in bundle["entry"]
                if e["resource"]["resourceType"] == "MedicationRequest"]
    given = [e["resource"] for e in bundle["entry"]
             if e["resource"]["resourceType"] == "MedicationAdministration"]
    assert given[-1]["status"] == "in-progress"  # the real pump's log: the program runs
    assert given[-1]["request"]["reference"] == f"MedicationRequest/{order['id']}"
    assert given[-1]["dosage"]["rateQuantity"]["code"] == "mg/d"
    url = f"{API}/patients/{users.patient_id}/implants/{implant}/programs/proposals/fhir"
    planned = client.post(url, headers=users.auth(UserRole.CLINICIAN), json=order,
                          params={"opioid_tolerant": "true"})
    assert planned.status_code == 201, planned.text
    rows = {r["setting"]: (r["old"], r["new"]) for r in planned.json()["rows"]}
    old, new = rows["Basal dose per DAY (mg/day)"]
    assert old == new == "0.5 mg/day"
    whole = client.post(url, headers=users.auth(UserRole.CLINICIAN), json=bundle,
                        params={"opioid_tolerant": "true"})  # the whole Bundle: its program
    assert whole.status_code == 201, whole.text
    assert {r["setting"]: (r["old"], r["new"]) for r in whole.json()["rows"]} == rows
    order["dosageInstruction"][0]["route"]["coding"][0]["code"] = "26643006"  # oral
    oral = client.post(url, headers=users.auth(UserRole.CLINICIAN), json=order)
    assert "dosageInstruction[0].route: not intrathecal" in \
        error(oral, 422, "refused")["message"]
    error(client.post(url, headers=users.auth(UserRole.NURSE), json=order), 403, "forbidden")


def test_a_sync_stores_the_pump_log_once(client: TestClient, users: Users, pump: str) -> None:
    implant = _implant(client, users, pump)
    _refill(client, users, implant)
    base = f"{API}/patients/{users.patient_id}/implants/{implant}"
    first = client.post(f"{base}/sync", headers=users.auth(UserRole.NURSE))
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["pump_id"] == pump and body["log_verified"] and body["stored"] > 0
    again = client.post(f"{base}/sync", headers=users.auth(UserRole.NURSE)).json()
    assert again["duplicates"] >= body["stored"] and again["gaps"] == []
    log = client.get(f"{base}/log", headers=users.auth(UserRole.PATIENT)).json()
    assert [e["seq"] for e in log] == list(range(len(log)))
    assert any(e["kind"] == "refill" for e in log)
    error(client.post(f"{base}/sync", headers=users.auth(UserRole.PATIENT)), 403, "forbidden")
    first_reading, second_reading = client.get(f"{base}/readings",
                                               headers=users.auth(UserRole.PATIENT)).json()
    assert first_reading["reservoir"]["unit"] == "mL" and first_reading["drug"] == "morphine"
    assert first_reading["concentration"]["value"] == "10"
    assert second_reading["log_length"] == len(log) and first_reading["alarms"] == []
    assert second_reading["pumped_since_fill"]["unit"] == "mL"
    assert second_reading["clock_epoch"] is not None


def test_a_clinic_wide_sync_reports_an_unreachable_pump_and_syncs_the_rest(
        client: TestClient, users: Users, pump: str) -> None:
    reachable = _implant(client, users, pump)
    _refill(client, users, reachable)
    _implant(client, users, "pump-gone-away")
    answer = client.post(f"{API}/sync", headers=users.auth(UserRole.NURSE))
    assert answer.status_code == 200, answer.text
    results = {r["pump_serial"]: r for r in answer.json()}
    assert results[pump]["synced"]["stored"] > 0 and results[pump]["error"] is None
    assert results["pump-gone-away"]["synced"] is None
    assert "not paired" in results["pump-gone-away"]["error"]


def test_an_unpaired_pump_is_refused_and_nothing_is_recorded(client: TestClient,
                                                             users: Users) -> None:
    implant = _implant(client, users, "pump-never-paired")
    answer = client.post(f"{API}/patients/{users.patient_id}/implants/{implant}/sync",
                         headers=users.auth(UserRole.NURSE))
    assert "not paired" in error(answer, 502, "pump_unreachable")["message"]
    assert client.get(f"{API}/patients/{users.patient_id}/implants/{implant}/log",
                      headers=users.auth(UserRole.NURSE)).json() == []
