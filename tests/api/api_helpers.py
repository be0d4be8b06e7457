"""Helpers of the API tests: logged-in users by role, and the typed error body."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from fastapi.testclient import TestClient

from idds.store import UserRole

PASSWORD = "correct horse battery staple"
API = "/api/v1"


@dataclass
class Users:
    """Each role's session token, and the patient the patient user is."""

    tokens: dict[UserRole, str]
    patient_id: int

    @staticmethod
    def logged_in(client: TestClient, patient_id: int) -> Users:
        tokens = {}
        for role in UserRole:
            answer = client.post(f"{API}/session", json={"username": f"{role.value}1",
                                                         "password": PASSWORD})
            assert answer.status_code == 201, answer.text
            tokens[role] = answer.json()["token"]
        return Users(tokens, patient_id)

    def auth(self, role: UserRole) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


def error(answer: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The typed error of `answer`, asserting its status and code (and no trace)."""
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert set(body) == {"error"} and body["error"]["code"] == code, body
    assert "Traceback" not in answer.text
    detail: dict[str, Any] = body["error"]
    return detail
