"""Issue 13 with real processes (`idds pump serve`, the `idds` CLI), as an attacker holding a
clinician or patient key would try them:

- finding 1: two priming boluses (about 1.8 mg morphine each) and 200 mg/day morphine with
  override reason "x": the second prime and the program are refused, the pump unchanged;
- finding 4: a 13-step flex program with long decimal doses made every later interrogation
  fail: it is refused at parse, and the longest program the link accepts still interrogates;
- finding 6: a bolus request held back 20 s and then released (jam and release) was given: it
  is refused by the pump's own timer, and the remote tells the patient it cannot know.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path

import pytest

from idds.link import JsonValue, RefusedError, Role
from idds.link.tcp import encode_prefixed, read_prefixed
from idds.pump import EventKind
from idds.units import parse_quantity as q
from tests.system.system_helpers import Emulator, call, idds, programmer, remote
from tests.system.test_system_crash_attacks_flood import setup_pump

HOLD_S = 20.0  # the finding's figure: a request released 20 s after it was sent


def test_second_prime_and_unlimited_morphine_are_refused(tmp_path: Path) -> None:
    emu = Emulator(tmp_path / "pump", speed=1)
    emu.start()
    try:
        prog = setup_pump(emu, tmp_path / "prog")
        dev = ["--device", str(tmp_path / "prog")]
        first = idds("program", "prime", "--reason", "implant", "--yes", "--json", *dev)
        assert first.returncode == 0, first.stderr
        shown = json.loads(first.stdout)
        assert shown["mass"] == "1.82 mg" and "EMPTY catheter" in shown["caution"]
        time.sleep(0.5)
        again = idds("program", "prime", "--reason", "implant", "--yes", *dev)
        assert again.returncode == 2 and "no priming bolus is due" in again.stderr
        # an attacker's programmer skips its own check: the firmware refuses the second one
        prog = programmer(tmp_path / "prog", emu.port)
        with pytest.raises(RefusedError, match="no priming bolus is due"):
            call(prog, prog.send("prime", {"reason": "implant"}))
        prog = programmer(tmp_path / "prog", emu.port)
        with pytest.raises(RefusedError, match="above the hard limit 15 mg/day"):
            call(prog, prog.send("program", {
                "drug": "morphine", "concentration": "10 mg/mL", "opioid_tolerant": True,
                "override_reason": "x", "therapy": {"mode": "continuous", "dose": "200 mg/day"}}))
        prog = programmer(tmp_path / "prog", emu.port)
        with pytest.raises(RefusedError, match="too short"):  # a soft limit: "x" is no reason
            call(prog, prog.send("program", {
                "drug": "morphine", "concentration": "10 mg/mL", "override_reason": "x",
                "therapy": {"mode": "continuous", "dose": "5 mg/day"}}))
        prog = programmer(tmp_path / "prog", emu.port)
        status = call(prog, prog.interrogate())
        assert status.therapy.basal.dose_rate == q("0.5 mg/day")  # type: ignore[union-attr]
        log = call(prog, programmer(tmp_path / "prog", emu.port).read_log())
        starts = [e for e in log.entries if e.kind is EventKind.BOLUS_STARTED]
        assert [e.detail("kind") for e in starts] == ["priming"]
    finally:
        emu.stop()


def test_thirteen_long_decimal_steps_are_refused_and_interrogate_keeps_working(
        tmp_path: Path) -> None:
    emu = Emulator(tmp_path / "pump", speed=1)
    emu.start()
    try:
        prog = setup_pump(emu, tmp_path / "prog", dose="1 mg/day", boluses=False)
        long_steps: list[JsonValue] = [[f"{h:02d}:00", f"1.{h:02d}34567891234 mg/day"]
                                       for h in range(13)]
        prog = programmer(tmp_path / "prog", emu.port)
        with pytest.raises(RefusedError, match="more than 8 characters"):
            call(prog, prog.send("program", {
                "drug": "morphine", "concentration": "10 mg/mL", "opioid_tolerant": True,
                "override_reason": "titration-agreed",
                "therapy": {"mode": "flex", "steps": long_steps}}))
        done = idds("program", "interrogate", "--json", "--device", str(tmp_path / "prog"))
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["therapy"]["dose"] == "1 mg/day"  # unchanged
        # the longest program the link accepts: 13 steps, 8-character numbers
        steps: list[JsonValue] = [[f"{h:02d}:00", f"1.{h:02d}1234 mg/day"] for h in range(13)]
        prog = programmer(tmp_path / "prog", emu.port)
        call(prog, prog.send("program", {
            "drug": "morphine", "concentration": "10 mg/mL", "opioid_tolerant": True,
            "override_reason": "titration-agreed", "therapy": {"mode": "flex", "steps": steps}}))
        done = idds("program", "interrogate", "--json", "--device", str(tmp_path / "prog"))
        assert done.returncode == 0, done.stderr
        assert len(json.loads(done.stdout)["therapy"]["steps"]) == 13
    finally:
        emu.stop()


class HoldingProxy:
    """A man in the middle on loopback: forwards every frame, except that it holds back the
    `hold`-th frame from the device (counting from 1) for `delay` s and then releases it to
    the pump on a fresh connection (the attacker jams the pump, records, and replays later)."""

    def __init__(self, upstream: int, hold: int, delay: float) -> None:
        self.upstream, self.hold, self.delay = upstream, hold, delay
        self.seen = 0
        self.released = threading.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self.release_answered = False
        self.port = 0
        self._ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> int:
        self._thread.start()
        assert self._ready.wait(10)
        return self.port

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(
            asyncio.start_server(self._client, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream)

        async def down() -> None:
            while data := await up_reader.read(65536):
                writer.write(data)
                await writer.drain()

        piping = asyncio.create_task(down())
        try:
            while True:
                frame = await read_prefixed(reader)
                self.seen += 1
                if self.seen == self.hold:
                    self._tasks.add(asyncio.create_task(self._release_later(frame)))
                    continue
                up_writer.write(encode_prefixed(frame))
                await up_writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            piping.cancel()
            up_writer.close()
            writer.close()

    async def _release_later(self, frame: bytes) -> None:
        await asyncio.sleep(self.delay)
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream)
        up_writer.write(encode_prefixed(frame))
        await up_writer.drain()
        try:
            await asyncio.wait_for(read_prefixed(up_reader), 5)
            self.release_answered = True
        except (TimeoutError, asyncio.IncompleteReadError):
            pass
        up_writer.close()
        self.released.set()


def test_jam_and_release_of_a_bolus_request_is_refused(tmp_path: Path) -> None:
    emu = Emulator(tmp_path / "pump", speed=1)
    port = emu.start()
    try:
        setup_pump(emu, tmp_path / "prog")
        secret = emu.wand(Role.PATIENT)
        rem = remote(tmp_path / "rem", port)
        call(rem, rem.pair("remote-test", secret))
        proxy = HoldingProxy(port, hold=2, delay=HOLD_S)  # frame 1: ticket, 2: the request
        proxy_port = proxy.start()
        try:
            pressed = idds("remote", "bolus", "--json", "--port", str(proxy_port),
                           "--device", str(tmp_path / "rem"))
            assert pressed.returncode == 3, pressed.stdout + pressed.stderr
            outcome = json.loads(pressed.stdout)
            assert outcome["given"] is None
            assert "may or may not have been given" in outcome["message"]
            assert "idds remote status" in outcome["message"]
            assert proxy.released.wait(HOLD_S + 15) and proxy.release_answered
        finally:
            proxy.stop()
        status = idds("remote", "status", "--json", "--port", str(port),
                      "--device", str(tmp_path / "rem"))
        assert status.returncode == 0, status.stderr
        assert json.loads(status.stdout)["last_bolus"] is None  # nothing was given
        prog = programmer(tmp_path / "prog", port)
        log = call(prog, prog.read_log())
        assert not [e for e in log.entries if e.kind is EventKind.BOLUS_STARTED
                    and e.detail("kind") == "patient"]
        refused = [e for e in log.entries if e.kind is EventKind.LINK_REFUSED
                   and "after its ticket" in (e.detail("reason") or "")]
        assert refused, "the released request was not refused by the pump's own timer"
        # an honest press right away is given
        now = idds("remote", "bolus", "--json", "--port", str(port),
                   "--device", str(tmp_path / "rem"))
        assert now.returncode == 0 and json.loads(now.stdout)["given"] is True, now.stdout
    finally:
        emu.stop()
