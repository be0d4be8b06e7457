"""State at rest, through real `idds pump serve` processes (issue 13, finding 5): someone
holding the pump's state directory (not its secure element) cannot re-open replay, reuse a
nonce, raise a bolus, change a role, drop the log's boluses, wipe the pump or redirect a write
through a symbolic link. Each refused start raises the critical memory error alarm, serves
nothing and exits 2 with one line; putting back the files the pump wrote last starts it again.
A rollback of the whole state, secure element included, is caught by the programmer's anchor.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import socket
from pathlib import Path
from typing import Any

import pytest

from idds.emulator.sealed import seal
from idds.emulator.secure import SecureElement
from idds.link import Role
from idds.link.tcp import encode_prefixed
from idds.programmer import DeviceDir, Programmer
from idds.pump.log import GENESIS, canonical
from idds.pump.snapshot import decode
from tests.system.system_helpers import (
    Emulator,
    assert_one_line_error,
    call,
    idds,
    programmer,
    remote,
)
from tests.system.test_system_crash_attacks_flood import setup_pump

ALARM = "critical memory error alarm"


def refused(emu: Emulator, *fragments: str) -> None:
    """The emulator refuses to start: exit 2, one line naming the alarm and `fragments`, no
    port (nothing served), and the alarm recorded in the secure element."""
    (emu.state / "port").unlink(missing_ok=True)
    done = emu.refused()
    assert_one_line_error(done, ALARM)
    for fragment in fragments:
        assert fragment in done.stderr, done.stderr
    assert not (emu.state / "port").exists()
    slot = SecureElement(emu.secure_element, emu.state).slot
    assert ALARM.removesuffix(" alarm") in (slot / "alarms.jsonl").read_text()


def split(path: Path) -> tuple[bytes, Any]:
    """(seal header line, content JSON) of a sealed state file."""
    header, _, content = path.read_bytes().partition(b"\n")
    return header, json.loads(content)


def captured(prog: Programmer, command: str) -> bytes:
    """Send `command` and return the frame as it went over the air."""
    sent: list[bytes] = []
    transport = prog.client.transport
    original = transport.exchange

    async def spy(frame: bytes) -> bytes | None:
        sent.append(frame)
        return await original(frame)

    transport.exchange = spy  # type: ignore[method-assign]
    call(prog, prog.send(command, read=True))
    return sent[-1]


def silent(port: int, frame: bytes) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=3) as sock:
        sock.sendall(encode_prefixed(frame))
        sock.settimeout(1.5)
        try:
            return sock.recv(10) == b""
        except TimeoutError:
            return True


def test_deleted_or_older_counters_are_refused_so_no_replay_and_no_nonce_reuse(
        tmp_path: Path) -> None:
    state, prog_dir = tmp_path / "pump", tmp_path / "prog"
    emu = Emulator(state, speed=60)
    emu.start()
    try:
        secret = emu.wand(Role.CLINICIAN)
        prog = programmer(prog_dir, emu.port)
        call(prog, prog.pair("programmer-test", secret))
        call(programmer(prog_dir, emu.port), programmer(prog_dir, emu.port).interrogate())
        emu.stop()
        older = (state / "counters.json").read_bytes()
        emu.start()
        frame = captured(programmer(prog_dir, emu.port), "alarm_test")
        emu.stop()
        newest = (state / "counters.json").read_bytes()

        (state / "counters.json").write_bytes(older)  # put back an older copy
        refused(emu, "counters.json", "older copy")
        (state / "counters.json").unlink()  # or delete it
        refused(emu, "counters.json", "missing")
        (state / "counters.json").write_bytes(newest)
        other = Emulator(state, speed=60, secure_element=tmp_path / "other-se")
        refused(other, "secure element")  # the state without its own secure element

        port = emu.start()  # the files it wrote last: it serves again
        assert silent(port, frame)  # and the captured frame is still a replay
        assert "REPLAYED" in (state / "security.jsonl").read_text()
        status = call(programmer(prog_dir, port), programmer(prog_dir, port).interrogate())
        assert status.log_warning is None
    finally:
        emu.stop()


def test_edited_or_deleted_pump_and_pairing_files_are_refused(tmp_path: Path) -> None:
    state, prog_dir, rem_dir = tmp_path / "pump", tmp_path / "prog", tmp_path / "rem"
    emu = Emulator(state, speed=60)
    emu.start()
    try:
        setup_pump(emu, prog_dir)  # morphine 10 mg/mL, patient bolus 0.1 mg
        secret = emu.wand(Role.PATIENT)
        rem = remote(rem_dir, emu.port)
        call(rem, rem.pair("remote-test", secret))
        emu.stop()
        pump_json, pairings = (state / "pump.json").read_bytes(), (state / "pairings.json")
        pairing_bytes = pairings.read_bytes()

        header, tree = split(state / "pump.json")  # the patient bolus edited to 10 mg
        demand = tree["state"]["f"]["therapy"]["f"]["demand"]["f"]
        base, unit = demand["dose"]["$Q"]
        assert decode(demand["dose"]).display("mg") == "0.1 mg"
        demand["dose"]["$Q"] = [str(100 * int(base.split("/")[0])) + "/" + base.split("/")[1],
                                unit]
        assert decode(demand["dose"]).display("mg") == "10 mg"
        edited = json.dumps(tree, separators=(",", ":"), sort_keys=True).encode()
        (state / "pump.json").write_bytes(header + b"\n" + edited)
        refused(emu, "pump.json", "integrity check")
        (state / "pump.json").write_bytes(edited)  # or written as a plain, unsealed image
        refused(emu, "pump.json", "integrity check")
        (state / "pump.json").unlink()  # or deleted: no fresh pump
        refused(emu, "pump.json", "missing")
        (state / "pump.json").write_bytes(pump_json)

        header, records = split(pairings)  # the remote's role edited to clinician
        assert [r["role"] for r in records] == ["clinician", "patient"]
        records[1]["role"] = "clinician"
        pairings.write_bytes(header + b"\n" + json.dumps(records, indent=1).encode())
        refused(emu, "pairings.json", "integrity check")
        pairings.write_bytes(pairing_bytes)

        emu.start()
        outcome = call(remote(rem_dir, emu.port), remote(rem_dir, emu.port).bolus())
        assert outcome.given and outcome.details["volume"] == "0.01 mL"  # 0.1 mg, not 10
    finally:
        emu.stop()


def rechained(entries: list[Any]) -> tuple[list[Any], str]:
    """Entries with the unkeyed SHA-256 chain recomputed (what the old log accepted)."""
    prev, out = GENESIS, []
    for seq, tree in enumerate(entries):
        e = decode(tree)
        body = canonical(seq, e.time, e.kind, e.details)
        digest = hashlib.sha256(prev.encode() + body).hexdigest()
        fields = dict(tree["f"], seq=seq, prev_hash=prev, hash=digest)
        out.append({"$D": "LogEntry", "f": fields})
        prev = digest
    return out, prev


def test_a_rewritten_log_is_refused_and_a_rolled_back_pump_is_seen_by_the_programmer(
        tmp_path: Path) -> None:
    state, prog_dir, rem_dir = tmp_path / "pump", tmp_path / "prog", tmp_path / "rem"
    emu = Emulator(state, speed=60)
    emu.start()
    try:
        setup_pump(emu, prog_dir)
        secret = emu.wand(Role.PATIENT)
        call(remote(rem_dir, emu.port), remote(rem_dir, emu.port).pair("remote-test", secret))
        assert call(remote(rem_dir, emu.port), remote(rem_dir, emu.port).bolus()).given
        emu.stop()
        backup = tmp_path / "backup"
        shutil.copytree(state, backup / "pump")
        shutil.copytree(emu.secure_element, backup / "se")

        # the log rewritten without its boluses, the chain recomputed: refused by the pump,
        # even re-sealed by someone who had the seal key (the chain key is another one)
        pump_json = (state / "pump.json").read_bytes()
        header, tree = split(state / "pump.json")
        kept = [e for e in tree["log"]["$T"] if "bolus" not in e["f"]["kind"]["$E"][1].lower()]
        assert len(kept) < len(tree["log"]["$T"])
        tree["log"]["$T"], tree["head"] = rechained(kept)
        content = json.dumps(tree, separators=(",", ":"), sort_keys=True).encode()
        (state / "pump.json").write_bytes(header + b"\n" + content)
        refused(emu, "pump.json", "integrity check")
        element = SecureElement(emu.secure_element, state)
        generation = element.generation("pump.json")
        (state / "pump.json").write_bytes(seal(element.seal_key, "pump.json", generation,
                                               content))
        refused(emu, "pump.json", "log fails verification")
        (state / "pump.json").write_bytes(pump_json)

        port = emu.start()  # carry on: another bolus, and the programmer looks
        call(remote(rem_dir, port), remote(rem_dir, port).bolus())
        status = call(programmer(prog_dir, port), programmer(prog_dir, port).interrogate())
        assert status.log_warning is None
        emu.stop()

        # the whole state put back, secure element included: the pump cannot tell ...
        shutil.rmtree(state)
        shutil.rmtree(emu.secure_element)
        shutil.copytree(backup / "pump", state)
        shutil.copytree(backup / "se", emu.secure_element)
        port = emu.start()
        (prog_dir / "target.json").unlink()  # its reply counter went back: pair again
        secret = emu.wand(Role.CLINICIAN)
        prog = programmer(prog_dir, port)
        call(prog, prog.pair("programmer-test", secret))
        # ... the programmer's anchor can
        status = call(programmer(prog_dir, port), programmer(prog_dir, port).interrogate())
        assert status.log_warning is not None and "ROLLED BACK" in status.log_warning
        device_log = DeviceDir(prog_dir, "programmer", lambda: "t").log.entries()
        assert any("ROLLED BACK" in str(e["details"].get("warning")) for e in device_log)
        done = idds("program", "log", "--verify", "--device", str(prog_dir), "--port", str(port))
        assert_one_line_error(done, "does NOT verify")
        assert "ROLLED BACK" in done.stderr
        shown = idds("program", "interrogate", "--device", str(prog_dir), "--port", str(port))
        assert shown.returncode == 0 and "WARNING" in shown.stdout
    finally:
        emu.stop()


@pytest.mark.parametrize("name", ["security.jsonl", "pump.json", "lock"])
def test_a_symbolic_link_in_the_state_directory_is_refused(tmp_path: Path, name: str) -> None:
    state = tmp_path / "pump"
    emu = Emulator(state, speed=60)
    emu.start()
    emu.stop()
    target = tmp_path / "elsewhere"
    target.write_bytes((state / name).read_bytes() if (state / name).exists() else b"")
    before = target.read_bytes()
    (state / name).unlink(missing_ok=True)
    (state / name).symlink_to(target)
    refused(emu, name, "symbolic link")
    assert target.read_bytes() == before  # nothing written through it
