"""Reading the console's pages as a user's browser does: the forms' CSRF tokens, the
messages beside fields, and the accessibility basics every page must meet."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import httpx
from fastapi.testclient import TestClient

from tests.api.api_helpers import PASSWORD


def csrf(page: str, action: str | None = None) -> str:
    """The CSRF token in the form posting to `action` (None: the first form's)."""
    start = 0
    if action is not None:
        start = page.find(f'action="{action}"')
        assert start >= 0, f"the page has no form posting to {action}"
    found = re.compile(r'name="csrf_token" value="([^"]*)"').search(page, start)
    assert found and found.group(1), f"the form posting to {action} has no CSRF token"
    return found.group(1)


def log_in(client: TestClient, username: str, password: str = PASSWORD) -> httpx.Response:
    form = client.get("/login")
    answer = client.post("/login", data={"csrf_token": csrf(form.text), "username": username,
                                         "password": password, "next": "/"})
    assert answer.status_code == 303, answer.text
    return answer


def field_error(page: str, field: str) -> str:
    """The message shown beside `field` ('' when none)."""
    found = re.search(rf'id="e-{re.escape(field)}"[^>]*>([^<]*)<', page)
    return found.group(1) if found else ""


class _Audit(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.inputs: list[str] = []
        self.labels: set[str] = set()
        self.headings = 0
        self.wrapped = 0  # inputs inside a <label>
        self._in_label = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "label":
            self._in_label += 1
            if a.get("for"):
                self.labels.add(str(a["for"]))
        elif tag in ("input", "select", "textarea") and a.get("type") != "hidden":
            if self._in_label:
                self.wrapped += 1
            else:
                self.inputs.append(str(a.get("id") or "<no id>"))
        elif tag == "h1":
            self.headings += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self._in_label -= 1


def assert_accessible(page: str) -> None:
    """Every input has a label, the page has one main heading, and micrograms are "mcg"."""
    audit = _Audit()
    audit.feed(page)
    unlabelled = [i for i in audit.inputs if i not in audit.labels]
    assert unlabelled == [], f"inputs without a label: {unlabelled}"
    assert audit.headings == 1, f"{audit.headings} h1 headings"
    assert "µg" not in page and "μg" not in page
    assert "not a medical device" in page
