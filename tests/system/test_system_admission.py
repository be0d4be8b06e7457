"""Pre-authentication denial of service through real processes (issue 13, finding 3):
16 connections holding the pump with garbage, a sustained stream of refused pairing requests
and garbage (log growth), and forged frames naming the remote's key id at 4/s."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

from idds.emulator.securitylog import DEFAULT_MAX_BYTES
from idds.link import FrameType, Role
from idds.link.frame import MAGIC, VERSION
from idds.link.session import start_pairing
from idds.link.tcp import encode_prefixed
from tests.system.system_helpers import Emulator, call, programmer, remote
from tests.system.test_system_crash_attacks_flood import setup_pump


def attackers(count: int, port: int, send: Callable[[socket.socket, int], float],
              stop: threading.Event) -> list[threading.Thread]:
    """`count` threads, each holding one connection (reopened when the pump closes it) and
    calling `send(sock, n)`, which returns how long to wait before the next frame."""

    def hold() -> None:
        n = 0
        while not stop.is_set():
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=3) as sock:
                    while not stop.is_set():
                        stop.wait(send(sock, n))
                        n += 1
            except OSError:
                stop.wait(0.05)

    threads = [threading.Thread(target=hold, daemon=True) for _ in range(count)]
    for thread in threads:
        thread.start()
    return threads


def garbage_every(seconds: float) -> Callable[[socket.socket, int], float]:
    def send(sock: socket.socket, n: int) -> float:
        sock.sendall(encode_prefixed(os.urandom(30)))
        return seconds
    return send


def test_sixteen_connections_sending_garbage_do_not_lock_out_paired_devices(
    tmp_path: Path,
) -> None:
    state, prog_dir, rem_dir = tmp_path / "pump", tmp_path / "prog", tmp_path / "rem"
    emu = Emulator(state, speed=60)
    emu.start()
    stop = threading.Event()
    threads: list[threading.Thread] = []
    try:
        setup_pump(emu, prog_dir)
        secret = emu.wand(Role.PATIENT)
        rem = remote(rem_dir, emu.port)
        call(rem, rem.pair("remote-test", secret))
        threads = attackers(16, emu.port, garbage_every(2.0), stop)
        time.sleep(1.5)  # all 16 hold a connection, each resending within the idle timeout
        for _ in range(3):
            status = call(prog := programmer(prog_dir, emu.port), prog.interrogate())
            assert status.infusing
            rem = remote(rem_dir, emu.port)
            assert "lockout_minutes_left" in call(rem, rem.send("bolus_status"))
            time.sleep(1.0)
    finally:
        stop.set()
        for thread in threads:
            thread.join(5)
        emu.stop()


def log_length(state: Path) -> int:
    content = (state / "pump.json").read_bytes().partition(b"\n")[2]  # after the seal line
    return len(json.loads(content)["log"]["$T"])


def security_size(state: Path) -> int:
    return sum(p.stat().st_size for p in state.glob("security.jsonl*"))


def test_refused_pairing_and_garbage_stream_leaves_logs_and_state_unchanged(
    tmp_path: Path,
) -> None:
    state, prog_dir = tmp_path / "pump", tmp_path / "prog"
    emu = Emulator(state, speed=60)
    emu.start()
    stop = threading.Event()
    threads: list[threading.Thread] = []
    try:
        setup_pump(emu, prog_dir, boluses=False)
        time.sleep(1.5)  # the pump image is saved about once a second
        entries, size = log_length(state), (state / "pump.json").stat().st_size
        lines = (state / "security.jsonl").read_text().count("\n")
        requests = [start_pairing(f"intruder-{i}", Role.CLINICIAN, os.urandom(16)).request
                for i in range(8)]

        def pairing_spam(sock: socket.socket, n: int) -> float:
            frame = requests[n % 8] if n % 2 else os.urandom(40)
            sock.sendall(encode_prefixed(frame))
            return 0.0005

        threads = attackers(4, emu.port, pairing_spam, stop)
        time.sleep(4.0)
        stop.set()
        for thread in threads:
            thread.join(5)
        time.sleep(1.5)
        # no pump-log entry and no growth of pump.json for unauthenticated input
        assert log_length(state) == entries
        assert abs((state / "pump.json").stat().st_size - size) < 300
        # the security log got aggregate summaries only (at most one a minute, plus the first)
        added = (state / "security.jsonl").read_text().splitlines()[lines:]
        assert 1 <= len(added) <= 2, added
        assert all(json.loads(line)["kind"] == "summary" for line in added)
        prog = programmer(prog_dir, emu.port)
        assert call(prog, prog.interrogate()).infusing  # the programmer is answered
    finally:
        stop.set()
        emu.stop()
    added = (state / "security.jsonl").read_text().splitlines()[lines:]  # flushed at stop
    assert len(added) <= 3 and all(json.loads(line)["kind"] == "summary" for line in added)
    assert "PAIRING_NOT_OPEN" in "".join(added) and "BAD_MAGIC" in "".join(added)
    assert security_size(state) <= DEFAULT_MAX_BYTES
    started = time.monotonic()
    port = emu.start()
    try:
        assert time.monotonic() - started < 10.0
        prog = programmer(prog_dir, port)
        download = call(prog, prog.read_log())
        assert download.verified
        assert not [e for e in download.entries if e.kind.value == "link refused"]
    finally:
        emu.stop()


def test_forged_frames_naming_the_remote_at_4_per_second_do_not_deny_its_boluses(
    tmp_path: Path,
) -> None:
    state, prog_dir, rem_dir = tmp_path / "pump", tmp_path / "prog", tmp_path / "rem"
    emu = Emulator(state, speed=60)
    emu.start()
    stop = threading.Event()
    threads: list[threading.Thread] = []
    try:
        setup_pump(emu, prog_dir)
        secret = emu.wand(Role.PATIENT)
        rem = remote(rem_dir, emu.port)
        key_id = call(rem, rem.pair("remote-test", secret)).key_id
        sent: list[float] = []
        start = time.monotonic()

        def forge(sock: socket.socket, n: int) -> float:
            payload = os.urandom(80)  # a well-formed header naming the key, a random 'tag'
            counter = 10**6 + len(sent)
            frame = (MAGIC + bytes([VERSION, FrameType.COMMAND]) + key_id
                     + counter.to_bytes(8, "big") + len(payload).to_bytes(2, "big") + payload)
            sock.sendall(encode_prefixed(frame))
            sent.append(time.monotonic())
            return max(0.0, start + len(sent) / 4.0 - time.monotonic())  # 4 per second

        threads = attackers(1, emu.port, forge, stop)
        time.sleep(3.0)  # enough to empty the old per-key bucket (burst 10)
        answered = 0
        for _ in range(6):
            rem = remote(rem_dir, emu.port)
            outcome = call(rem, rem.bolus())  # given, or refused by the firmware: answered
            answered += 1
            assert outcome.given or outcome.message.startswith("Bolus NOT given: ")
            time.sleep(1.5)
        elapsed = sent[-1] - sent[0]
        assert answered == 6 and len(sent) / elapsed >= 3.9 and elapsed >= 10
    finally:
        stop.set()
        for thread in threads:
            thread.join(5)
        emu.stop()
    security = (state / "security.jsonl").read_text()
    assert "AUTH_FAILED" in security  # every forgery verified and counted
