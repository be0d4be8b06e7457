"""The console in a real browser (Debian's Chromium driven by Playwright) on a real
`idds console --demo` process with its emulated pumps: log in, the triaged dashboard, a change
a hard limit blocks and one a soft limit allows with a reason, the Finish screen old beside
new, the confirm with the password again, the pump reporting the new program, the audit view,
a refill whose volumes do not match, what the patient role cannot reach, a form without its
CSRF token. Every page is screenshotted and checked for labels, headings and "mcg", and the
browser's console must stay free of errors throughout."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect, sync_playwright

from tests.api.server_helpers import Console
from tests.console.browser_helpers import assert_page_accessible, chromium, screenshot_dir

pytestmark = pytest.mark.skipif(os.environ.get("IDDS_SKIP_BROWSER") == "1",
                                reason="IDDS_SKIP_BROWSER=1: browser tests skipped")


#: How Chromium reports a document that answered with a refusal's status.
REFUSAL_STATUS = re.compile(r"^Failed to load resource: the server responded with a status "
                            r"of (403|422) ")


class Demo:
    def __init__(self, server: Console, logins: dict[str, str], shots: Path) -> None:
        self.server, self.logins, self.shots = server, logins, shots
        self.root = server.base.removesuffix("/api/v1")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    tmp = tmp_path_factory.mktemp("console-browser")
    # the tests sync when they need to: the demo's own periodic sync would race them
    server = Console(["--demo", "--sync-every", "3600"], tmp / "console.out")
    try:
        shown = server.start()
        logins = dict(re.findall(r"^  (\S+)\s+\w+\s+(\S+)$", shown, re.MULTILINE))
        yield Demo(server, logins, screenshot_dir(tmp / "screenshots"))
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium (never a downloaded browser), for this module only: Playwright's
    sync API runs an event loop in this thread while it is open, and the later tests' own
    `asyncio.run` must not find one (so not pytest-playwright's session-wide fixtures)."""
    path = chromium()
    assert path, "Debian's chromium is missing: `make test` installs it (apt-get install " \
                 "-y chromium); set IDDS_SKIP_BROWSER=1 to skip these tests"
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=path, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    yield context.new_page()
    context.close()


@pytest.fixture
def tab(page: Page) -> Iterator[Page]:
    """A page of the browser, every console error and uncaught exception recorded: none
    may happen. A refusal page's own status (a form sent back with its messages, 422; a
    page not permitted, 403) is the page answering, not an error of it: Chromium logs that
    status for the document itself, and only that is let through."""
    errors: list[str] = []

    def console(message: ConsoleMessage) -> None:
        own_status = message.location.get("url") == page.url and REFUSAL_STATUS.search(
            message.text)
        if message.type == "error" and not own_status:
            errors.append(f"{page.url}: {message.text} ({message.location})")

    page.on("console", console)
    page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc}"))
    yield page
    assert errors == [], "the browser's console showed errors"


def log_in(page: Page, demo: Demo, username: str) -> None:
    page.goto(f"{demo.root}/login")
    assert_page_accessible(page)
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(demo.logins[username])
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".who")).to_contain_text(username)


def shot(page: Page, demo: Demo, name: str) -> None:
    assert_page_accessible(page)
    page.screenshot(path=str(demo.shots / f"{name}.png"), full_page=True)


def test_the_dashboard_lists_the_alarming_patient_first(tab: Page, demo: Demo) -> None:
    page = tab
    page.goto(f"{demo.root}/login")
    shot(page, demo, "login")
    log_in(page, demo, "clinician")
    first = page.locator("#triage-rows tr").first
    expect(first).to_contain_text("Demo Patient C")
    expect(first).to_contain_text("alarm(s) not acknowledged: low reservoir")
    shot(page, demo, "dashboard")
    page.get_by_label("Search name or identifier").fill("seed")
    expect(page.locator("#triage-rows tr")).to_have_count(1)  # htmx swapped the rows
    expect(page.locator("#triage-rows")).to_contain_text("Seed Case")


def test_a_change_is_blocked_by_a_hard_limit_then_sent_with_a_soft_override(
        tab: Page, demo: Demo) -> None:
    page = tab
    log_in(page, demo, "clinician")
    page.get_by_role("link", name="Seed Case (renal cancer, bone metastases)").click()
    expect(page.locator("h1")).to_have_text("Seed Case (renal cancer, bone metastases)")
    shot(page, demo, "patient")
    page.get_by_role("link", name="Change therapy").click()
    shot(page, demo, "program")
    page.get_by_label("Dose per day (continuous)").fill("50 mg/day")
    page.get_by_label("Reason for the change").fill("pain not controlled")
    page.get_by_role("button", name=re.compile("Check and review")).click()
    expect(page.locator("#e-dose")).to_contain_text("hard limit")
    shot(page, demo, "program-hard-limit")
    page.get_by_label("Dose per day (continuous)").fill("0.6 mg/day")
    page.get_by_role("button", name=re.compile("Check and review")).click()
    expect(page.locator("#e-override_reason")).to_be_visible()  # a soft limit wants a reason
    page.get_by_label("Reason to override a soft limit").fill("titration-agreed")
    page.get_by_role("button", name=re.compile("Check and review")).click()
    expect(page.locator("h1")).to_contain_text("Finish")
    dose_row = page.locator("table.finish tr", has_text="Basal dose per DAY")
    expect(dose_row).to_contain_text("0.6 mg/day")
    expect(dose_row).to_contain_text("0.5 mg/day")  # old beside new
    outlook = page.locator("table.outlook")  # what-if from the patient's own estimate
    expect(outlook).to_contain_text("7 days")
    expect(outlook).to_contain_text("14 days")
    expect(outlook).to_contain_text("chance one limits the day")  # side effects forecast
    expect(outlook.locator("tr", has_text="Next refill")).to_contain_text("20")
    shot(page, demo, "finish")
    page.get_by_label(re.compile("I confirm the override")).check()
    page.get_by_label(re.compile("Your password again")).fill(demo.logins["clinician"])
    page.get_by_role("button", name="Confirm and send to the pump").click()
    expect(page.locator("h1")).to_have_text("Sent and read back")
    expect(page.locator(".ok")).to_contain_text("0.6 mg/day")
    shot(page, demo, "sent")
    # the emulated pump itself, interrogated again through the API, runs the new program
    token = httpx.post(f"{demo.server.base}/session", timeout=30, json={
        "username": "nurse", "password": demo.logins["nurse"]}).json()["token"]
    synced = httpx.post(f"{demo.server.base}/patients/1/implants/1/sync", timeout=60,
                        headers={"Authorization": f"Bearer {token}"})
    assert synced.status_code == 200, synced.text
    assert "0.6 mg/day" in synced.json()["therapy"]


def test_advice_is_recorded_with_its_reasons_and_rejected_with_one(tab: Page,
                                                                    demo: Demo) -> None:
    page = tab
    log_in(page, demo, "clinician")
    page.goto(f"{demo.root}/patients/2")
    page.get_by_role("button", name=re.compile("Ask the intelligent controller")).click()
    advice = page.locator("article.advice").first
    expect(advice).to_contain_text("Safety supervisor")
    expect(advice).to_contain_text("Maximal relief")  # what it believes, with its interval
    expect(advice).to_contain_text("Predicted in")
    shot(page, demo, "advice")
    advice.get_by_label("Reason for rejecting").fill("waiting for the oncology review")
    advice.get_by_role("button", name="Reject").click()
    expect(page.locator("article.advice").first).to_contain_text(
        "Rejected by clinician")
    expect(page.locator("article.advice").first).to_contain_text("oncology review")


def test_the_audit_view_shows_the_change(tab: Page, demo: Demo) -> None:
    page = tab
    log_in(page, demo, "admin")
    page.get_by_role("navigation").get_by_role("link", name="Audit trail").click()
    expect(page.locator(".ok")).to_contain_text("Hash chain intact")
    expect(page.locator("table.audit")).to_contain_text("change therapy")
    expect(page.locator("table.audit")).to_contain_text("decide recommendation")
    shot(page, demo, "audit")


def test_a_refill_with_a_volume_mismatch_warns(tab: Page, demo: Demo) -> None:
    page = tab
    log_in(page, demo, "nurse")
    page.get_by_role("link", name=re.compile("Demo Patient C")).click()
    page.get_by_role("link", name="Refill").click()
    expect(page.locator(".cautions")).to_contain_text("Pocket fill")
    page.get_by_label("Volume withdrawn").fill("6 mL")
    page.get_by_label("Concentration").fill("10 mg/mL")
    page.get_by_label("Volume filled").fill("20 mL")
    page.get_by_label("Lot").fill("LOT-42")
    shot(page, demo, "refill")
    page.get_by_role("button", name=re.compile("Check")).click()
    expect(page.locator(".warning")).to_contain_text("Volume mismatch")
    shot(page, demo, "refill-mismatch")
    page.get_by_role("button", name="Confirm the refill").click()  # not accepted: refused
    expect(page.locator(".refusal")).to_contain_text("do not match")


def test_the_patient_cannot_reach_programming(tab: Page, demo: Demo) -> None:
    page = tab
    log_in(page, demo, "patient1")
    expect(page.locator("h1")).to_have_text("Seed Case (renal cancer, bone metastases)")
    expect(page.get_by_role("link", name="Change therapy")).to_have_count(0)
    response = page.goto(f"{demo.root}/patients/1/implants/1/program")
    assert response is not None and response.status == 403
    expect(page.locator("h1")).to_have_text("Not permitted")


def test_a_form_without_its_csrf_token_is_refused(tab: Page, demo: Demo) -> None:
    page = tab
    log_in(page, demo, "nurse")
    page.goto(f"{demo.root}/patients/2")
    page.evaluate("""() => document.querySelectorAll(
        'form[action$="/review"] input[name=csrf_token]').forEach(e => e.remove())""")
    page.get_by_label("Review note").fill("looked at it")
    with page.expect_response(re.compile(r"/review$")) as answer:
        page.get_by_role("button", name="Mark reviewed").click()
    assert answer.value.status == 403
    expect(page.locator(".refusal")).to_contain_text("CSRF")
    page.goto(f"{demo.root}/")
    expect(page.locator("#triage-rows tr", has_text="Demo Patient B")).to_contain_text("never")


def test_alarms_arrive_live_and_are_raised_again_while_the_condition_holds(
        tab: Page, demo: Demo) -> None:
    page = tab
    page.add_init_script("document.addEventListener('htmx:sseOpen', "
                         "() => { window.sseOpen = true; })")
    log_in(page, demo, "nurse")
    page.wait_for_function("window.sseOpen === true")  # the stream listens before the change
    row = page.locator("#triage-rows tr", has_text="Demo Patient C")
    expect(row).to_contain_text("low reservoir")
    api = demo.server.base
    token = httpx.post(f"{api}/session", timeout=30, json={
        "username": "clinician", "password": demo.logins["clinician"]}).json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    (alarm,) = [a for a in httpx.get(f"{api}/patients/3/alarms", headers=auth).json()
                if a["acknowledged_at"] is None]
    done = httpx.post(f"{api}/alarms/{alarm['id']}/acknowledge", headers=auth, json={
        "expected_version": alarm["version"], "reason": "refill booked"})
    assert done.status_code == 200, done.text
    expect(row).not_to_contain_text("low reservoir", timeout=15_000)  # no reload: SSE
    synced = httpx.post(f"{api}/patients/3/implants/3/sync", headers=auth, timeout=60)
    assert synced.status_code == 200 and synced.json()["alarms_recorded"] == 1, synced.text
    expect(row).to_contain_text("low reservoir", timeout=15_000)  # the pump still has it
    shot(page, demo, "dashboard-live")
