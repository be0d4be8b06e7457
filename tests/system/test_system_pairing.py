"""Issue 13, findings 1 and 2 through real processes (`python -m idds pump serve`, the `idds`
CLI): under a flood of pairing requests from several TCP connections, started before the wand
is applied, only the programmer holding the wand pairs; a replayed pairing request gets
nothing; a role edited in pairings.json is not honoured; a device id cannot be re-paired under
another role; `pairings` / `unpair` through the CLI, refused to a patient remote."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from pathlib import Path

import pytest

from idds.link import ErrorCode, FrameType, RefusedError, Role, TransportError
from idds.link.session import start_pairing
from idds.link.tcp import encode_prefixed
from tests.system.system_helpers import Emulator, call, idds, programmer, remote


class Flood:
    """`connections` attackers on the radio, each sending PAIR_REQUESTs (random secrets, both
    roles, the programmer's id among others) and garbage as fast as TCP takes them, and
    recording every answer's frame type."""

    def __init__(self, port: int, connections: int = 4) -> None:
        self.port = port
        self.stop = threading.Event()
        self.sent = 0
        self.answers: list[int] = []
        self.threads = [threading.Thread(target=self._run, args=(i,), daemon=True)
                        for i in range(connections)]

    def __enter__(self) -> Flood:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(10)

    def _frames(self, i: int) -> list[bytes]:
        frames = [start_pairing(f"attacker-{i}-{n}", role, os.urandom(16)).request
                  for n, role in enumerate([Role.CLINICIAN, Role.PATIENT] * 4)]
        frames.append(start_pairing("programmer-victim", Role.CLINICIAN, os.urandom(16)).request)
        return [*frames, os.urandom(60), b"ID\x02\x01" + bytes(18)]

    def _read(self, sock: socket.socket) -> None:
        buffer = b""
        while not self.stop.is_set():
            try:
                chunk = sock.recv(4096)
            except (TimeoutError, OSError):
                return
            if not chunk:
                return
            buffer += chunk
            while len(buffer) >= 2 and len(buffer) >= 2 + int.from_bytes(buffer[:2], "big"):
                size = int.from_bytes(buffer[:2], "big")
                self.answers.append(buffer[2 + 3])
                buffer = buffer[2 + size:]

    def _run(self, i: int) -> None:
        frames = self._frames(i)
        while not self.stop.is_set():
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=2) as sock:
                    reader = threading.Thread(target=self._read, args=(sock,), daemon=True)
                    reader.start()
                    while not self.stop.is_set():
                        sock.sendall(encode_prefixed(frames[self.sent % len(frames)]))
                        self.sent += 1
            except OSError:
                time.sleep(0.01)


def security_events(state: Path) -> list[dict[str, str]]:
    return [json.loads(line) for line in (state / "security.jsonl").read_text().splitlines()]


def test_under_a_pairing_flood_only_the_wand_holder_pairs(tmp_path: Path) -> None:
    state, prog_dir = tmp_path / "pump", tmp_path / "prog"
    emu = Emulator(state, speed=60)
    port = emu.start()
    try:
        with Flood(port) as flood:
            time.sleep(1.0)  # the flood is under way before the wand is applied
            done = idds("program", "pair", "--port", str(port), "--wand", str(state),
                        "--device", str(prog_dir), "--json")
            time.sleep(0.5)
        assert done.returncode == 0, done.stderr
        assert flood.sent >= 1000
        assert FrameType.PAIR_ACCEPT not in flood.answers  # the attacker never paired
        device_id = json.loads(done.stdout)["device_id"]
        listed = idds("program", "pairings", "--json", "--device", str(prog_dir))
        assert listed.returncode == 0, listed.stderr
        assert [(p["device_id"], p["role"]) for p in json.loads(listed.stdout)["pairings"]] == [
            (device_id, "clinician")]
        events = security_events(state)
        opened = [e for e in events if e["kind"] == "pairing_opened"]
        paired = [e for e in events if e["kind"] == "paired"]
        assert len(opened) == 1 and len(paired) == 1  # nothing the attacker sent opened it
        assert paired[0]["detail"].startswith(f"{device_id} as clinician programmer")
        assert not any(e["kind"] == "pairing_refused" and e["time"] >= opened[0]["time"]
                       and e["code"] != "PAIRING_NOT_OPEN" for e in events)
        assert not (state / "nearfield.json").exists()
    finally:
        emu.stop()


def test_a_replayed_pairing_request_gets_nothing(tmp_path: Path) -> None:
    state, prog_dir = tmp_path / "pump", tmp_path / "prog"
    emu = Emulator(state, speed=60)
    emu.start()
    try:
        prog = programmer(prog_dir, emu.port)
        sent: list[bytes] = []
        original = prog.client.transport.exchange

        async def capture(frame: bytes) -> bytes | None:
            sent.append(frame)
            return await original(frame)

        prog.client.transport.exchange = capture  # type: ignore[method-assign]
        call(prog, prog.pair("programmer-real", emu.wand(Role.CLINICIAN)))
        emu.wand(Role.PATIENT)  # even with a new window open (for another secret)
        for _ in range(3):
            with socket.create_connection(("127.0.0.1", emu.port), timeout=3) as sock:
                sock.sendall(encode_prefixed(sent[0]))
                sock.settimeout(1.0)
                try:
                    answer = sock.recv(4096)
                except TimeoutError:
                    answer = b""
            assert len(answer) < 6 or answer[2 + 3] != FrameType.PAIR_ACCEPT
        prog = programmer(prog_dir, emu.port)
        listed = call(prog, prog.pairings())
        assert [p["device_id"] for p in listed] == ["programmer-real"]
    finally:
        emu.stop()


def test_an_edited_role_and_a_cross_role_re_pair_are_not_honoured(tmp_path: Path) -> None:
    state, prog_dir, rem_dir = tmp_path / "pump", tmp_path / "prog", tmp_path / "rem"
    emu = Emulator(state, speed=60)
    emu.start()
    try:
        prog = programmer(prog_dir, emu.port)
        call(prog, prog.pair("programmer-1", emu.wand(Role.CLINICIAN)))
        # finding 2: the programmer's id (sent in clear) re-paired in a patient window
        rem = remote(tmp_path / "thief", emu.port)
        with pytest.raises(RefusedError) as caught:
            call(rem, rem.pair("programmer-1", emu.wand(Role.PATIENT)))
        assert caught.value.code is ErrorCode.PAIRING_ROLE_TAKEN
        rem = remote(rem_dir, emu.port)
        call(rem, rem.pair("remote-1", emu.wand(Role.PATIENT)))
        prog = programmer(prog_dir, emu.port)
        assert call(prog, prog.interrogate()).raw  # the clinician pairing still works
        # patient remote: no pairings, no unpair
        for command, args in (("pairings", {}), ("unpair", {"device": "programmer-1"})):
            rem = remote(rem_dir, emu.port)
            with pytest.raises(RefusedError) as caught:
                call(rem, rem.send(command, args))
            assert caught.value.code is ErrorCode.NOT_PERMITTED
        # finding 5 (role half): the remote's role edited to clinician in pairings.json
        emu.stop()
        path = state / "pairings.json"
        seal, _, content = path.read_bytes().partition(b"\n")  # the seal line, then the JSON
        records = json.loads(content)
        for record in records:
            if record["device_id"] == "remote-1":
                record["role"] = "clinician"
        path.write_bytes(seal + b"\n" + json.dumps(records).encode())
        started = idds_serve_refuses(emu)
        if not started:  # the file's integrity seal caught the edit (state at rest)
            return
        for command in ("program", "bolus_request"):
            rem = remote(rem_dir, emu.port)
            with pytest.raises(TransportError) as silent:  # AUTH_FAILED: silence
                call(rem, rem.send(command, {}))
            assert silent.value.code is ErrorCode.NO_REPLY
        assert "AUTH_FAILED" in (state / "security.jsonl").read_text()
    finally:
        emu.stop()


def idds_serve_refuses(emu: Emulator) -> bool:
    """Restart the emulator; False if it refused the edited state (exit 2), True if it runs."""
    try:
        emu.start()
    except AssertionError:
        assert emu.proc is not None and emu.proc.wait(10) == 2
        return False
    return True


def test_pairings_and_unpair_through_the_cli(tmp_path: Path) -> None:
    state, prog_dir, rem_dir = tmp_path / "pump", tmp_path / "prog", tmp_path / "rem"
    emu = Emulator(state, speed=60)
    port = emu.start()
    try:
        dev = ["--device", str(prog_dir)]
        assert idds("program", "pair", "--port", str(port), "--wand", str(state), *dev
                    ).returncode == 0
        done = idds("remote", "pair", "--port", str(port), "--wand", str(state), "--json",
                    "--device", str(rem_dir))
        assert done.returncode == 0, done.stderr
        remote_id = json.loads(done.stdout)["device_id"]
        listed = idds("program", "pairings", *dev)
        assert listed.returncode == 0 and remote_id in listed.stdout
        done = idds("program", "unpair", remote_id, "--yes", "--json", *dev)
        assert done.returncode == 0, done.stderr
        assert [p["device_id"] for p in json.loads(done.stdout)["unpaired"]] == [remote_id]
        again = idds("program", "unpair", remote_id, "--yes", *dev)
        assert again.returncode == 2 and "no pairing for" in again.stderr
        bolus = idds("remote", "bolus", "--device", str(rem_dir))
        assert bolus.returncode == 2 and "NO_REPLY" in bolus.stderr  # revoked
        # audited: security log, the pump's own log, the programmer's device log
        assert any(e["kind"] == "unpaired" and remote_id in e["detail"]
                   for e in security_events(state))
        log = idds("program", "log", "--json", *dev)
        entries = json.loads(log.stdout)["entries"]
        assert any(e["kind"] == "link pairing" and e["details"].get("action") == "unpaired"
                   for e in entries)
        device_log = (prog_dir / "device-log.jsonl").read_text()
        assert '"kind": "unpaired"' in device_log and remote_id in device_log
    finally:
        emu.stop()
