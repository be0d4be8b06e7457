"""Real processes: the emulator (`python -m idds pump serve`), the `idds` CLI, and an
in-process programmer over TCP for checks that need no extra process start-up."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Coroutine
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from idds.drugs import load_library
from idds.link import LinkClient, Role, TcpTransport
from idds.link.nearfield import new_secret, write_wand
from idds.programmer import DeviceDir, Programmer, Remote
from idds.programmer.anchor import AnchorStore

T = TypeVar("T")


def idds(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run the real `idds` command."""
    return subprocess.run([sys.executable, "-m", "idds", *args], capture_output=True,
                          text=True, timeout=timeout, check=False)


def assert_one_line_error(done: subprocess.CompletedProcess[str], fragment: str) -> None:
    assert done.returncode == 2, (done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0], done.stderr
    assert "Traceback" not in done.stderr


class Emulator:
    """One `idds pump serve` process on a state directory; its secure element is the
    directory `<state>.se` beside it (under the test's tmp directory, never ~/.idds)."""

    def __init__(self, state: Path, speed: float, seed: int = 3,
                 secure_element: Path | None = None) -> None:
        self.state = state
        self.speed = speed
        self.seed = seed
        self.secure_element = secure_element or state.parent / f"{state.name}.se"
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0

    def command(self) -> list[str]:
        return [sys.executable, "-m", "idds", "pump", "serve", "--state", str(self.state),
                "--speed", str(self.speed), "--seed", str(self.seed), "--secure-element",
                str(self.secure_element)]

    def start(self) -> int:
        (self.state / "port").unlink(missing_ok=True)
        log = open(self.state.parent / f"{self.state.name}.out", "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            text = (self.state / "port").read_text() if (self.state / "port").exists() else ""
            if text.strip():
                self.port = int(text)
                return self.port
            assert self.proc.poll() is None, "emulator exited at start"
            time.sleep(0.05)
        raise AssertionError("emulator did not start")

    def refused(self, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """Start it in the foreground, expecting a refusal (the completed process)."""
        return subprocess.run(self.command(), capture_output=True, text=True,
                              timeout=timeout, check=False)

    def kill(self) -> None:
        """SIGKILL: no clean shutdown."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def wand(self, role: Role) -> bytes:
        """The wand over the pump without a CLI start-up: the same near-field file
        `idds program pair --wand` writes; returns the one-time secret."""
        secret = new_secret()
        path = write_wand(self.state, role, secret, time.time())
        deadline = time.monotonic() + 10
        while path.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not path.exists(), "the emulator did not take the wand"
        return secret


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def programmer(device: Path, port: int) -> Programmer:
    """An in-process programmer using the device directory the CLI uses."""
    dev = DeviceDir(device, "programmer", lambda: "t")
    target = dev.target(port) if (device / "target.json").exists() else None
    store = dev.store(target) if target else dev.capture("127.0.0.1", port)
    client = LinkClient(TcpTransport("127.0.0.1", port), store, time.time)
    return Programmer(client, dev.log, load_library(), date.today, sleep=asyncio.sleep,
                      anchors=AnchorStore(device))


def remote(device: Path, port: int) -> Remote:
    dev = DeviceDir(device, "remote", lambda: "t")
    target = dev.target(port) if (device / "target.json").exists() else None
    store = dev.store(target) if target else dev.capture("127.0.0.1", port)
    return Remote(LinkClient(TcpTransport("127.0.0.1", port), store, time.time), dev.log,
                  sleep=asyncio.sleep)


async def once(device: Programmer | Remote, coro: Coroutine[Any, Any, T]) -> T:
    try:
        return await coro
    finally:
        await device.client.aclose()


def call(device: Programmer | Remote, coro: Coroutine[Any, Any, T]) -> T:
    """Run one API call and close its connection."""
    return run(once(device, coro))


def load_json(text: str) -> Any:
    return json.loads(text)
