"""Every route of the API: nobody unauthenticated reads anything, the permission table holds
for every route and role, refusals are typed JSON naming the field, and two people changing
the same record get one change and one clear conflict."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from idds.api.app import ROUTERS
from idds.api.auth import action_of
from idds.api.clinic import Clinic
from idds.interop.fhir_export import FhirVersion, fhir_json, program_resources
from idds.pump import Continuous, Therapy
from idds.store import PERMISSIONS, Action, UserRole
from idds.store.clock import FakeClock
from tests.api.api_helpers import API, Users, error
from tests.interop.test_fhir_import import program_row
from tests.store.store_helpers import q

#: Routes anyone may call: the login itself (the others in /session need a session).
OPEN = {("POST", f"{API}/session")}


def _routes(_client: TestClient) -> list[tuple[str, str, Action | None]]:
    """(method, path, action checked) of every API route."""
    found = []
    for router in ROUTERS:
        for route in router.routes:
            assert isinstance(route, APIRoute)
            actions = [action_of(d.call) for d in route.dependant.dependencies]
            action = next((a for a in actions if a is not None), None)
            found.extend((method, API + route.path, action) for method in sorted(route.methods))
    return found


def _filled(path: str, patient_id: int) -> str:
    return re.sub(r"\{[a-z_]+\}", str(patient_id), path).replace("{proposal_id}", "x")


def test_every_route_but_the_session_declares_its_action(client: TestClient) -> None:
    routes = _routes(client)
    assert len(routes) >= 25
    undeclared = [(m, p) for m, p, a in routes if a is None and not p.startswith(f"{API}/session")]
    assert undeclared == []


def test_nobody_unauthenticated_gets_anything(client: TestClient, users: Users) -> None:
    for method, path, _ in _routes(client):
        if (method, path) in OPEN:
            continue
        answer = client.request(method, _filled(path, users.patient_id), json={})
        detail = error(answer, 401, "unauthenticated")
        assert "log" in detail["message"]
        bad = client.request(method, _filled(path, users.patient_id), json={},
                             headers={"Authorization": "Bearer not-a-token"})
        error(bad, 401, "unauthenticated")


def test_the_permission_table_holds_for_every_route_and_role(client: TestClient,
                                                             users: Users) -> None:
    checked = 0
    for method, path, action in _routes(client):
        if action is None:
            continue
        for role in UserRole:
            answer = client.request(method, _filled(path, users.patient_id), json={},
                                    headers=users.auth(role))
            if role in PERMISSIONS[action]:
                assert answer.status_code not in (401, 403) or \
                    answer.json()["error"]["code"] == "reauthentication_required", \
                    (method, path, role, answer.text)
            else:
                detail = error(answer, 403, "forbidden")
                assert f"({role.value}) may not {action}" in detail["message"]
            checked += 1
    assert checked >= 25 * len(UserRole)


def test_a_patient_reads_and_writes_only_their_own_record(client: TestClient,
                                                          users: Users) -> None:
    me = users.auth(UserRole.PATIENT)
    own = users.patient_id
    assert [p["id"] for p in client.get(f"{API}/patients", headers=me).json()] == [own]
    assert client.get(f"{API}/patients/{own}", headers=me).status_code == 200
    wrote = client.post(f"{API}/patients/{own}/diary", headers=me,
                        json={"felt_at": "2026-03-02T08:00:00Z", "pain": 4})
    assert wrote.status_code == 201 and wrote.json()["recorded_by"] == "patient1"
    other = client.post(f"{API}/patients", headers=users.auth(UserRole.NURSE),
                        json={"identifier": "MRN-2", "name": "Bo", "birth_date": "1960-01-01"})
    theirs = other.json()["id"]
    error(client.get(f"{API}/patients/{theirs}", headers=me), 403, "forbidden")
    error(client.post(f"{API}/patients/{theirs}/diary", headers=me,
                      json={"felt_at": "2026-03-02T08:00:00Z", "pain": 4}), 403, "forbidden")
    assert client.get(f"{API}/patients/{theirs}/diary",
                      headers=users.auth(UserRole.NURSE)).json() == []


def test_refusals_are_typed_and_name_the_field(client: TestClient, users: Users) -> None:
    nurse = users.auth(UserRole.NURSE)
    bad_date = client.post(f"{API}/patients", headers=nurse,
                           json={"identifier": "MRN-9", "name": "X", "birth_date": "soon"})
    assert error(bad_date, 422, "invalid")["field"] == "birth_date"
    pain = client.post(f"{API}/patients/{users.patient_id}/diary", headers=nurse,
                       json={"felt_at": "2026-03-02T08:00:00Z", "pain": 11})
    assert error(pain, 422, "invalid")["field"] == "pain"
    extra = client.post(f"{API}/patients/{users.patient_id}/diary", headers=nurse,
                        json={"felt_at": "2026-03-02T08:00:00Z", "pain": 3, "dose": "1 mg"})
    assert error(extra, 422, "invalid")["field"] == "dose"
    naive = client.post(f"{API}/patients/{users.patient_id}/diary", headers=nurse,
                        json={"felt_at": "2026-03-02T08:00:00", "pain": 3})
    assert error(naive, 422, "invalid")["field"] == "felt_at"
    missing = client.get(f"{API}/patients/999", headers=nurse)
    assert "999" in error(missing, 404, "not_found")["message"]
    error(client.get(f"{API}/nowhere", headers=nurse), 404, "not_found")
    catheter = client.post(f"{API}/patients/{users.patient_id}/implants",
                           headers=users.auth(UserRole.CLINICIAN),
                           json={"pump_serial": "pump-1", "pump_model": "m", "catheter_model": "c",
                                 "catheter_tip": "T10", "catheter_volume": "48 mg",
                                 "implanted_on": "2026-03-01"})
    assert error(catheter, 422, "invalid")["field"] == "catheter_volume"
    # nothing was written by any of these
    assert client.get(f"{API}/patients/{users.patient_id}/diary", headers=nurse).json() == []
    assert client.get(f"{API}/patients/{users.patient_id}/implants", headers=nurse).json() == []


def test_two_people_changing_one_patient_get_one_change_and_a_conflict(
        client: TestClient, users: Users) -> None:
    pid = users.patient_id
    read = client.get(f"{API}/patients/{pid}", headers=users.auth(UserRole.NURSE)).json()
    first = client.patch(f"{API}/patients/{pid}", headers=users.auth(UserRole.NURSE),
                         json={"expected_version": read["version"], "reason": "typo",
                               "name": "Ada Patience"})
    assert first.status_code == 200 and first.json()["version"] == read["version"] + 1
    second = client.patch(f"{API}/patients/{pid}", headers=users.auth(UserRole.CLINICIAN),
                          json={"expected_version": read["version"], "reason": "typo",
                                "name": "Ada Patientia"})
    assert "read it again" in error(second, 409, "conflict")["message"]
    now = client.get(f"{API}/patients/{pid}", headers=users.auth(UserRole.NURSE)).json()
    assert now["name"] == "Ada Patience"


def test_a_therapy_change_needs_the_password_again(client: TestClient, users: Users,
                                                   clock: FakeClock) -> None:
    doc = users.auth(UserRole.CLINICIAN)
    clock.advance(minutes=6)
    stale = client.post(f"{API}/programs/proposals/x/confirm", headers=doc,
                        json={"reason": "more relief"})
    assert "re-authenticate" in error(stale, 403, "reauthentication_required")["message"]
    wrong = client.post(f"{API}/session/reauthenticate", headers=doc, json={"password": "no"})
    error(wrong, 401, "unauthenticated")
    again = client.post(f"{API}/session/reauthenticate", headers=doc,
                        json={"password": "correct horse battery staple"})
    assert again.status_code == 200
    assert again.json()["authenticated_at"].startswith(clock().isoformat()[:19])
    unknown = client.post(f"{API}/programs/proposals/x/confirm", headers=doc,
                          json={"reason": "more relief"})
    assert error(unknown, 404, "not_found")["field"] == "proposal_id"


def test_every_write_is_in_the_audit_trail_and_the_chain_verifies(client: TestClient,
                                                                  users: Users) -> None:
    nurse = users.auth(UserRole.NURSE)
    client.post(f"{API}/patients/{users.patient_id}/diary", headers=nurse,
                json={"felt_at": "2026-03-02T08:00:00Z", "pain": 6, "note": "night"})
    admin = users.auth(UserRole.ADMIN)
    trail = client.get(f"{API}/audit", headers=admin, params={"entity_type": "diary_entry"})
    assert trail.status_code == 200
    (entry,) = trail.json()
    assert (entry["actor"], entry["role"], entry["action"]) == ("nurse1", "nurse", "write diary")
    assert entry["after"]["pain"] == 6 and entry["before"] is None
    verdict = client.get(f"{API}/audit/verify", headers=admin).json()
    assert verdict["ok"] and verdict["records"] >= 10


def test_exports_the_patient_for_the_care_team_and_the_clinic_for_admins(
        client: TestClient, users: Users) -> None:
    mine = client.get(f"{API}/patients/{users.patient_id}/export",
                      headers=users.auth(UserRole.PATIENT)).json()
    assert mine["scope"] == f"patient {users.patient_id}"
    assert [p["name"] for p in mine["tables"]["patient"]] == ["Ada Patient"]
    backup = client.get(f"{API}/export", headers=users.auth(UserRole.ADMIN)).json()
    assert backup["scope"] == "clinic" and len(backup["tables"]["user_account"]) == 5
    error(client.get(f"{API}/export", headers=users.auth(UserRole.CLINICIAN)), 403, "forbidden")
    bundle = client.get(f"{API}/patients/{users.patient_id}/fhir", params={"version": "R4B"},
                        headers=users.auth(UserRole.PATIENT)).json()
    assert bundle["resourceType"] == "Bundle" and bundle["entry"][0]["resource"]["id"] == \
        f"patient-{users.patient_id}"
    wrong = client.get(f"{API}/patients/{users.patient_id}/fhir", params={"version": "R6"},
                       headers=users.auth(UserRole.PATIENT))
    assert error(wrong, 422, "invalid")["field"] == "version"


def test_a_refused_fhir_bundle_stores_nothing(clinic: Clinic, client: TestClient,
                                             users: Users) -> None:
    """A Bundle the import refuses (no order for the patient; an unknown drug) answers 422
    naming the element, before any pump is asked: no proposal is pending and the audit
    trail has not grown."""
    admin, doctor = users.auth(UserRole.ADMIN), users.auth(UserRole.CLINICIAN)
    before = client.get(f"{API}/audit/verify", headers=admin).json()["records"]
    empty = client.get(f"{API}/patients/{users.patient_id}/fhir",
                       headers=users.auth(UserRole.NURSE)).json()
    order = program_resources(program_row(Therapy(Continuous(q("0.5 mg/day")))), "mg/day",
                              FhirVersion.R5)[0]
    order["subject"]["reference"] = f"Patient/patient-{users.patient_id}"
    order["medication"]["concept"]["text"] = "heroin 10 mg/mL"
    unknown = {**empty, "entry": [*empty["entry"], {"resource": order}]}
    url = f"{API}/patients/{users.patient_id}/implants/1/programs/proposals/fhir"
    for body, words in ((empty, "Bundle.entry: no MedicationRequest"),
                        (unknown, "medication.concept.text: 'heroin 10 mg/mL' names no drug")):
        answer = client.post(url, headers={**doctor, "content-type": "application/fhir+json"},
                             content=fhir_json(body))
        assert words in error(answer, 422, "refused")["message"]
    assert not clinic.proposals._pending  # nothing planned
    assert client.get(f"{API}/audit/verify", headers=admin).json()["records"] == before


def test_logout_ends_the_session(client: TestClient, users: Users) -> None:
    me = users.auth(UserRole.NURSE)
    assert client.get(f"{API}/session", headers=me).json()["role"] == "nurse"
    assert client.delete(f"{API}/session", headers=me).status_code == 204
    error(client.get(f"{API}/patients", headers=me), 401, "unauthenticated")


def test_the_openapi_is_published(client: TestClient) -> None:
    spec = client.get(f"{API}/openapi.json").json()
    assert spec["info"]["title"] == "IDDS clinic API"
    assert f"{API}/patients/{{patient_id}}/implants/{{implant_id}}/programs/proposals" in \
        spec["paths"]


@pytest.mark.parametrize("role", [UserRole.RESEARCHER])
def test_a_researcher_reads_the_diary_without_identity(client: TestClient, users: Users,
                                                        role: UserRole) -> None:
    client.post(f"{API}/patients/{users.patient_id}/diary", headers=users.auth(UserRole.NURSE),
                json={"felt_at": "2026-03-02T08:00:00Z", "pain": 5})
    rows = client.get(f"{API}/research/diary", headers=users.auth(role)).json()
    assert [(r["pain"], r["day"]) for r in rows] == [(5, 0)]
    assert "Ada" not in str(rows) and "MRN" not in str(rows)
