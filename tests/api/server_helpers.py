"""A real `idds console` process on a free loopback port, and HTTP calls to it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

API = "/api/v1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Console:
    """`idds console ARGS --port P`, its output in a file; `start` waits until it answers."""

    def __init__(self, args: list[str], out: Path, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.args = [*args, "--port", str(self.port)]
        self.out = out
        self.env = {**os.environ, **(env or {})}
        self.proc: subprocess.Popen[bytes] | None = None
        self.base = f"http://127.0.0.1:{self.port}{API}"

    def start(self, wait: float = 120) -> str:
        """Start it; its output so far once the server answers."""
        with open(self.out, "wb") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "idds", "console", *self.args],
                                         stdout=log, stderr=subprocess.STDOUT, env=self.env)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.out.read_text()
            try:
                if httpx.get(f"{self.base}/openapi.json", timeout=2).status_code == 200:
                    return self.out.read_text()
            except httpx.TransportError:
                time.sleep(0.1)
        raise AssertionError(f"the console did not start: {self.out.read_text()}")

    def login(self, username: str, password: str) -> dict[str, str]:
        answer = httpx.post(f"{self.base}/session", json={"username": username,
                                                          "password": password}, timeout=30)
        assert answer.status_code == 201, answer.text
        return {"Authorization": f"Bearer {answer.json()['token']}"}

    def kill(self) -> None:
        """SIGKILL: no clean shutdown."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> int:
        """Ctrl-C, as a user stops it; the exit status."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()
        return int(self.proc.returncode)
