"""`idds users`, `idds audit verify` and `idds store` end to end, on both backends: in process
through `idds.cli.main.main` (as the console script runs it), and once in a real subprocess."""

from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL

from idds.cli.main import main
from idds.store.engine import make_engine
from tests.cli.helpers import assert_clean_refusal, assert_refused, idds

PASSWORD = "correct horse battery"


def _run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str,
         stdin: str = "") -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _db(url: URL) -> str:
    return url.render_as_string(hide_password=False)


def test_users_and_audit_verify_end_to_end(url: URL, capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    db = _db(url)
    code, out, err = _run(capsys, monkeypatch, "users", "add", "doc", "--role", "clinician",
                          "--password-stdin", "--db", db, stdin=PASSWORD + "\n")
    assert (code, err) == (0, "") and "Added doc (clinician)" in out and PASSWORD not in out
    _run(capsys, monkeypatch, "users", "add", "sister", "--role", "nurse", "--password-stdin",
         "--db", db, stdin=PASSWORD + "\n")
    code, out, _ = _run(capsys, monkeypatch, "users", "list", "--json", "--db", db)
    assert code == 0
    assert [(u["username"], u["role"], u["disabled"]) for u in json.loads(out)["users"]] == [
        ("doc", "clinician", False), ("sister", "nurse", False)]
    code, _, _ = _run(capsys, monkeypatch, "users", "passwd", "doc", "--password-stdin",
                      "--db", db, stdin="another long password\n")
    assert code == 0
    code, out, _ = _run(capsys, monkeypatch, "users", "disable", "sister", "--reason", "left",
                        "--db", db)
    assert code == 0 and "Disabled sister" in out
    code, out, _ = _run(capsys, monkeypatch, "users", "list", "--db", db)
    assert code == 0 and "disabled" in out
    code, out, _ = _run(capsys, monkeypatch, "audit", "verify", "--db", db)
    assert code == 0 and out.startswith("audit chain verified: 4 records (head ")
    code, _, err = _run(capsys, monkeypatch, "users", "add", "doc", "--role", "nurse",
                        "--password-stdin", "--db", db, stdin=PASSWORD + "\n")
    assert_refused(code, err, "already exists")
    code, _, err = _run(capsys, monkeypatch, "users", "add", "x", "--role", "wizard",
                        "--password-stdin", "--db", db, stdin=PASSWORD + "\n")
    assert code == 2 and "wizard" in err
    code, _, err = _run(capsys, monkeypatch, "users", "add", "shorty", "--role", "nurse",
                        "--password-stdin", "--db", db, stdin="short\n")
    assert_refused(code, err, "12 to 256 characters")
    _forge(url, "UPDATE audit_record SET reason = 'nothing to see' WHERE sequence = 2")
    code, out, err = _run(capsys, monkeypatch, "audit", "verify", "--db", db)
    assert code == 1 and "audit chain broken at record 2" in err and "altered" in err
    _forge(url, "DELETE FROM audit_record WHERE sequence = 1")
    code, _, err = _run(capsys, monkeypatch, "audit", "verify", "--db", db)
    assert code == 1 and "record 1 was removed" in err


def _forge(url: URL, statement: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        suffix = " ON audit_record" if engine.dialect.name == "postgresql" else ""
        for name in ("audit_record_no_update", "audit_record_no_delete"):
            conn.execute(text(f"DROP TRIGGER IF EXISTS {name}{suffix}"))
        conn.execute(text(statement))
    engine.dispose()


def test_store_upgrade_status_and_downgrade(empty_url: URL, capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    db = _db(empty_url)
    code, out, _ = _run(capsys, monkeypatch, "store", "status", "--db", db)
    assert code == 0 and "revision none" in out
    code, out, _ = _run(capsys, monkeypatch, "store", "upgrade", "--db", db)
    assert code == 0 and "at revision 0003" in out
    code, out, _ = _run(capsys, monkeypatch, "store", "downgrade", "--revision", "0001",
                        "--yes", "--db", db)
    assert code == 0 and "at revision 0001" in out
    code, out, _ = _run(capsys, monkeypatch, "store", "status", "--db", db)
    assert code == 0 and "revision 0001; newest 0003" in out
    code, out, _ = _run(capsys, monkeypatch, "store", "upgrade", "--db", db)
    assert code == 0 and "at revision 0003" in out
    code, _, err = _run(capsys, monkeypatch, "store", "downgrade", "--revision", "base",
                        "--db", db)
    assert_refused(code, err, "--yes")
    for verb in (["upgrade"], ["downgrade", "--yes"]):  # an unknown revision: nothing runs
        code, _, err = _run(capsys, monkeypatch, "store", *verb, "--revision", "nope",
                            "--db", db)
        assert_refused(code, err, "Can't locate revision identified by 'nope'")
    code, out, _ = _run(capsys, monkeypatch, "store", "status", "--db", db)
    assert code == 0 and "revision 0003" in out
    code, out, _ = _run(capsys, monkeypatch, "store", "downgrade", "--revision", "base",
                        "--yes", "--db", db)
    assert code == 0 and "base (no tables)" in out


@pytest.mark.parametrize(("db", "fragment"), [
    ("nope://x", "'nope' is not supported"),
    ("not a url", "is not a database URL"),
    ("sqlite://", "names no SQLite file"),
    ("postgresql+psycopg://postgres@127.0.0.1:1/x", "cannot use the database"),
])
@pytest.mark.parametrize("command", [["audit", "verify"], ["users", "list"]])
def test_a_bad_db_is_one_line_and_exit_2(db: str, fragment: str, command: list[str],
                                         capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    code, _, err = _run(capsys, monkeypatch, *command, "--db", db)
    assert_refused(code, err, fragment)


def test_a_bad_db_in_a_real_process(tmp_path: object) -> None:
    assert_clean_refusal(idds("audit", "verify", "--db", "mysql://u@h/db"), "not supported")


def test_audit_verify_on_an_empty_database_is_refused(empty_url: URL,
                                                      capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    code, _, err = _run(capsys, monkeypatch, "audit", "verify", "--db", _db(empty_url))
    assert_refused(code, err, "has no tables")
