"""`idds export hl7v2` end to end: written to a file (ER7, read back by hl7apy and the `hl7`
package), sent over MLLP to a loopback listener (each ACK printed), and bad input (no target
or both, a bad --mllp, an unknown patient, no listener, a refused ACK): one line, exit 2,
nothing written."""

from __future__ import annotations

from pathlib import Path

import hl7
import pytest

from idds.cli.main import main
from idds.interop.hl7v2 import AckCode, parse
from idds.interop.mllp_listener import MllpListener
from idds.store import Database
from idds.store.clock import FakeClock
from tests.interop.test_hl7v2 import _record


def _url(db: Database) -> str:
    return db.engine.url.render_as_string(hide_password=False)


def test_export_hl7v2_to_a_file(db: Database, clock: FakeClock, tmp_path: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    pid = _record(db, clock)
    out = tmp_path / "pump.hl7"
    assert main(["export", "hl7v2", "--patient", str(pid), "--out", str(out),
                 "--db", _url(db)]) == 0
    assert "3 (ORU^R01 and 2 ORU^R40)" in capsys.readouterr().out
    raw = out.read_bytes().decode("utf-8")
    messages = [m for m in raw.split("\r\n") if m]
    assert len(messages) == 3 and raw.endswith("\r\n") and "\n" not in raw.replace("\r\n", "")
    for text in messages:
        parse(text)
    split = hl7.split_file(raw)  # the hl7 package's own reading of a message file
    assert [s.rstrip("\r") for s in split] == messages
    assert [str(hl7.parse(m).segment("MSH")[9]) for m in split] == [
        "ORU^R01^ORU_R01", "ORU^R40^ORU_R40", "ORU^R40^ORU_R40"]


def test_export_hl7v2_over_mllp(db: Database, clock: FakeClock,
                                capsys: pytest.CaptureFixture[str]) -> None:
    pid = _record(db, clock)
    with MllpListener() as listener:
        host, port = listener.address
        assert main(["export", "hl7v2", "--patient", str(pid), "--mllp", f"{host}:{port}",
                     "--db", _url(db)]) == 0
        received = [e.message for e in listener.exchanges]
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and all(": AA from 127.0.0.1:" in line for line in lines)
    assert lines[0].startswith("R01 ") and lines[1].startswith("R40 ")
    assert [str(hl7.parse(m).segment("MSH")[10]) for m in received] == [
        line.split()[1].rstrip(":") for line in lines]


def _fails(args: list[str], words: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "hl7v2", *args]) == 2
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and words in captured.err, captured.err
    assert "Traceback" not in captured.err


def test_bad_input_is_one_line_and_exit_2(db: Database, clock: FakeClock, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    pid = _record(db, clock)
    out = tmp_path / "x.hl7"
    base = ["--db", _url(db)]
    _fails(["--patient", str(pid), *base], "give --mllp HOST:PORT or --out FILE", capsys)
    _fails(["--patient", str(pid), "--out", str(out), "--mllp", "127.0.0.1:1", *base],
           "one of them", capsys)
    _fails(["--patient", str(pid), "--mllp", "nowhere", *base], "not HOST:PORT", capsys)
    _fails(["--patient", "99", "--out", str(out), *base], "no patient", capsys)
    assert not out.exists()
    with MllpListener() as listener:
        port = listener.address[1]
    _fails(["--patient", str(pid), "--mllp", f"127.0.0.1:{port}", "--attempts", "1", *base],
           "not acknowledged", capsys)
    with MllpListener(decide=lambda m: (AckCode.REJECTED, "no such ward")) as listener:
        _fails(["--patient", str(pid), "--mllp", f"127.0.0.1:{listener.address[1]}",
                *base], "(AR): no such ward", capsys)
