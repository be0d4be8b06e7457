"""Users, sessions, lock-out and re-authentication, on both backends."""

from __future__ import annotations

import hashlib
import threading
from collections import Counter
from datetime import date
from typing import Literal

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.engine import URL

from idds.drugs import load_library
from idds.store import patients, sessions, therapy, users
from idds.store.audit import verify_chain
from idds.store.clock import FakeClock
from idds.store.database import Database
from idds.store.errors import AccessDeniedError, FreshLoginRequiredError, LoginError, StoreError
from idds.store.model import AuditRecord, UserSession
from idds.store.permissions import FRESH_WINDOW, Actor, UserRole
from tests.conftest import SiteLibrary
from tests.store.store_helpers import CHEAP, therapy_plan
from tests.store.test_store_roundtrip import DETAILS

PASSWORD = "correct horse battery"


def _user(db: Database, admin: Actor, name: str = "doc",
          role: UserRole = UserRole.CLINICIAN) -> None:
    users.add_user(db, admin, name, role, PASSWORD, hasher=CHEAP)


def test_add_list_disable_and_passwd(db: Database, admin: Actor) -> None:
    _user(db, admin)
    _user(db, admin, "sister", UserRole.NURSE)
    listed = users.list_users(db, admin)
    assert [(u.username, u.role, u.disabled) for u in listed] == [
        ("doc", "clinician", False), ("sister", "nurse", False)]
    assert listed[0].password_hash.startswith("$argon2id$")
    with pytest.raises(StoreError, match="already exists"):
        _user(db, admin)
    with pytest.raises(StoreError, match="12 to 256"):
        users.add_user(db, admin, "short", UserRole.NURSE, "too short", hasher=CHEAP)
    with pytest.raises(StoreError, match="patient id"):
        users.add_user(db, admin, "pat", UserRole.PATIENT, PASSWORD, hasher=CHEAP)
    with pytest.raises(AccessDeniedError):
        users.list_users(db, Actor("doc", UserRole.CLINICIAN))
    token = sessions.login(db, "doc", PASSWORD, CHEAP).token
    users.set_password(db, admin, "doc", "a new long password", "rotation", hasher=CHEAP)
    with pytest.raises(LoginError):
        sessions.actor_of(db, token)  # a new password ends the sessions
    with pytest.raises(LoginError):
        sessions.login(db, "doc", PASSWORD, CHEAP)
    sessions.login(db, "doc", "a new long password", CHEAP)
    users.disable_user(db, admin, "doc", "left the clinic")
    with pytest.raises(LoginError):
        sessions.login(db, "doc", "a new long password", CHEAP)
    with db.session() as session:
        shown = [r.after or "" for r in session.scalars(select(AuditRecord))]
    assert all("$argon2" not in text for text in shown)
    assert any('"password_hash":"<redacted>"' in text for text in shown)


def test_a_session_expires(db: Database, admin: Actor, clock: FakeClock) -> None:
    _user(db, admin)
    login = sessions.login(db, "doc", PASSWORD, CHEAP, tokens=lambda n: "t" * n)
    assert login.token == "t" * 32
    with db.session() as session:
        stored = session.scalars(select(UserSession)).one()
    assert stored.token_hash == sessions.token_hash(login.token) != login.token
    assert sessions.actor_of(db, login.token) == Actor("doc", UserRole.CLINICIAN, None,
                                                       clock())
    clock.advance(seconds=sessions.SESSION_LIFETIME.total_seconds() - 1)
    sessions.actor_of(db, login.token)
    clock.advance(seconds=1)
    with pytest.raises(LoginError, match="expired"):
        sessions.actor_of(db, login.token)


def test_lockout_after_repeated_failures(db: Database, admin: Actor, clock: FakeClock) -> None:
    _user(db, admin)
    for _ in range(sessions.MAX_FAILED_LOGINS - 1):
        with pytest.raises(LoginError):
            sessions.login(db, "doc", "wrong password!", CHEAP)
    sessions.login(db, "doc", PASSWORD, CHEAP)  # a success resets the count
    for _ in range(sessions.MAX_FAILED_LOGINS):
        with pytest.raises(LoginError):
            sessions.login(db, "doc", "wrong password!", CHEAP)
    with pytest.raises(LoginError):
        sessions.login(db, "doc", PASSWORD, CHEAP)  # locked: even the right password
    clock.advance(seconds=sessions.LOCKOUT.total_seconds() - 1)
    with pytest.raises(LoginError):
        sessions.login(db, "doc", PASSWORD, CHEAP)
    clock.advance(seconds=1)
    sessions.login(db, "doc", PASSWORD, CHEAP)
    with pytest.raises(LoginError, match="wrong user name or password"):
        sessions.login(db, "nobody", PASSWORD, CHEAP)
    with db.session() as session:
        reasons = [r.reason for r in session.scalars(select(AuditRecord))]
    assert "locked out" in reasons and "account locked out" in reasons
    assert "unknown user name" in reasons


def test_a_therapy_change_needs_reauthentication(db: Database, admin: Actor,
                                                 clock: FakeClock,
                                                 site_library: SiteLibrary) -> None:
    library = load_library(site_library.path, site_library.trust)
    _user(db, admin)
    patient = patients.register_patient(db, Actor("n", UserRole.NURSE), "M-1", "P",
                                        date(1950, 1, 1))
    token = sessions.login(db, "doc", PASSWORD, CHEAP).token
    clock.advance(seconds=FRESH_WINDOW.total_seconds() + 1)
    doc = sessions.actor_of(db, token)
    implant = patients.record_implant(db, doc, patient.id, DETAILS)
    version = therapy.install_library(db, admin, library)
    plan = therapy_plan(library)
    with pytest.raises(FreshLoginRequiredError):
        therapy.record_program(db, doc, implant.id, plan, version.id, "pain", replaces=None)
    with pytest.raises(LoginError):
        sessions.reauthenticate(db, token, "wrong password!", CHEAP)
    fresh = sessions.reauthenticate(db, token, PASSWORD, CHEAP)
    assert fresh.authenticated_at == clock()
    assert therapy.record_program(db, fresh, implant.id, plan, version.id, "pain",
                                  replaces=None).id == 1
    sessions.logout(db, token)
    with pytest.raises(LoginError, match="ended"):
        sessions.actor_of(db, token)


def test_parallel_wrong_passwords_are_each_counted(url: URL, clock: FakeClock,
                                                   admin: Actor) -> None:
    """N guesses at once for one user: the account locks after exactly the threshold, every
    guess is counted or refused as locked, each leaves one audit record, the chain holds."""
    setup = Database.open(url, clock)
    _user(setup, admin)
    setup.dispose()
    guesses = sessions.MAX_FAILED_LOGINS + 3
    start = threading.Barrier(guesses)
    errors: list[BaseException] = []

    def guess() -> None:
        db = Database.open(url, clock)  # one engine each, as separate processes would have
        try:
            start.wait()
            sessions.login(db, "doc", "wrong password!", CHEAP)
        except LoginError:
            pass
        except BaseException as exc:
            errors.append(exc)
        finally:
            db.dispose()

    threads = [threading.Thread(target=guess) for _ in range(guesses)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    db = Database.open(url, clock)
    try:
        with db.session() as session:
            user = users.find_user(session, "doc")
            records = list(session.scalars(select(AuditRecord).where(
                AuditRecord.action == "log in")))
            check = verify_chain(session)
        assert user.locked_until is not None and user.locked_until > clock()
        assert Counter(r.reason for r in records) == {
            "wrong password": sessions.MAX_FAILED_LOGINS - 1, "locked out": 1,
            "account locked out": guesses - sessions.MAX_FAILED_LOGINS}
        assert (check.ok, check.count) == (True, 1 + guesses)
    finally:
        db.dispose()


def test_an_unknown_name_is_audited_as_a_digest_only(db: Database, admin: Actor) -> None:
    """A password typed into the name field must not become part of the indelible trail."""
    typed = "hunter2.secret"
    with pytest.raises(LoginError, match="wrong user name or password"):
        sessions.login(db, typed, PASSWORD, CHEAP)
    with pytest.raises(LoginError, match="wrong user name or password"):
        sessions.login(db, "Correct Horse!", PASSWORD, CHEAP)  # no user could have this name
    with db.session() as session:
        records = list(session.scalars(select(AuditRecord)))
    assert len(records) == 1  # the malformed name was refused before anything was written
    (record,) = records
    digest = hashlib.sha256(typed.encode()).hexdigest()[:sessions.NAME_DIGEST_CHARS]
    assert (record.actor, record.role, record.entity_id, record.reason) == (
        "unknown", "none", f"unknown:{digest}", "unknown user name")
    shown = " ".join(str(getattr(record, c.key)) for c in AuditRecord.__table__.columns)
    assert "hunter2" not in shown and "Correct Horse" not in shown


class _CountingHasher(PasswordHasher):
    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=8, parallelism=1)
        self.verified = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        self.verified += 1
        return super().verify(hash, password)


@pytest.mark.parametrize("state", ["locked", "disabled"])
def test_a_refused_account_costs_the_same_argon2_work(db: Database, admin: Actor,
                                                      state: str) -> None:
    """No timing oracle: a locked or disabled account's login still runs the verification."""
    _user(db, admin)
    if state == "disabled":
        users.disable_user(db, admin, "doc", "left")
    else:
        for _ in range(sessions.MAX_FAILED_LOGINS):
            with pytest.raises(LoginError):
                sessions.login(db, "doc", "wrong password!", CHEAP)
    hasher = _CountingHasher()
    with pytest.raises(LoginError):
        sessions.login(db, "doc", PASSWORD, hasher)
    assert hasher.verified == 1
    with db.session() as session:
        last = session.scalars(select(AuditRecord).order_by(
            AuditRecord.sequence.desc())).first()
    assert last is not None and last.reason == f"account {state}".replace(
        "locked", "locked out")
