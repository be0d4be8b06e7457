"""Real emulator processes: kill -9 mid-session loses no acknowledged change; attacks over TCP
deliver nothing; a flood of bad frames leaves therapy on schedule within the battery bound."""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path

import pytest

from idds.link import ErrorCode, LinkError, RateLimits, RefusedError, Role, TransportError
from idds.link.tcp import encode_prefixed
from idds.programmer import Programmer, RefillRequest, TherapyRequest
from idds.pump import Continuous, DemandBolus, HardwareSpec, Therapy
from idds.units import parse_quantity as q
from tests.system.system_helpers import Emulator, call, programmer, remote, run


def setup_pump(emu: Emulator, prog_dir: Path, dose: str = "0.5 mg/day",
               conc: str = "10 mg/mL", boluses: bool = True) -> Programmer:
    secret = emu.wand(Role.CLINICIAN)
    prog = programmer(prog_dir, emu.port)
    call(prog, prog.pair("programmer-test", secret))
    prog = programmer(prog_dir, emu.port)
    change = call(prog, prog.plan_refill(RefillRequest(q("0 mL"), q("20 mL"), q(conc),
                                                       "morphine")))
    call(prog, prog.send_refill(change))
    demand = DemandBolus(q("0.1 mg"), q("2 min"), q("10 min"), 6) if boluses else None
    therapy = Therapy(Continuous(q(dose)), demand)
    plan = call(prog, prog.plan_therapy(TherapyRequest("morphine", q(conc), therapy,
                                                       opioid_tolerant=True)))
    call(prog, prog.send_therapy(plan))
    return prog


def test_kill_9_after_ack_and_in_flight_loses_no_acknowledged_change(tmp_path: Path) -> None:
    state, prog_dir = tmp_path / "pump", tmp_path / "prog"
    emu = Emulator(state, speed=60)
    emu.start()
    try:
        prog = setup_pump(emu, prog_dir)
        emu.kill()  # right after an acknowledged program command
        port = emu.start()
        prog = programmer(prog_dir, port)
        status = call(prog, prog.interrogate())
        assert status.therapy.basal == Continuous(q("0.5 mg/day")) and status.confirmed
        assert status.infusing

        for delay in (0.0, 0.02):  # kill while a program command is in flight
            new = Therapy(Continuous(q(f"{0.6 + delay} mg/day")))
            plan = call(prog, prog.plan_therapy(TherapyRequest(
                "morphine", q("10 mg/mL"), new, override_reason="titration-agreed"))
                ).with_override_confirmed()

            async def send_and_kill(p: Programmer = prog, pl: object = plan,
                                    d: float = delay) -> bool:
                task = asyncio.create_task(p.send_therapy(pl))  # type: ignore[arg-type]
                await asyncio.sleep(d)
                emu.kill()
                try:
                    await task
                    return True
                except LinkError:
                    return False
                finally:
                    await p.client.aclose()

            acked = run(send_and_kill())
            port = emu.start()
            prog = programmer(prog_dir, port)
            status = call(prog, prog.interrogate())
            if acked:
                assert status.therapy == new
            assert status.therapy in (new, plan.status.therapy)
            download = call(prog, prog.read_log())
            assert download.verified, download.reason
            assert any(e.kind.value == "restarted after power loss" for e in download.entries)
    finally:
        emu.stop()


def test_attacks_end_to_end(tmp_path: Path) -> None:
    state, prog_dir, rem_dir = tmp_path / "pump", tmp_path / "prog", tmp_path / "rem"
    emu = Emulator(state, speed=60)
    emu.start()
    try:
        # pairing without the wand fails
        rem = remote(rem_dir, emu.port)
        with pytest.raises(RefusedError) as err:
            call(rem, rem.pair("remote-test", bytes(16)))
        assert err.value.code is ErrorCode.PAIRING_NOT_OPEN
        setup_pump(emu, prog_dir)
        secret = emu.wand(Role.PATIENT)
        rem = remote(rem_dir, emu.port)
        call(rem, rem.pair("remote-test", secret))

        # a patient key cannot program
        rem = remote(rem_dir, emu.port)
        with pytest.raises(RefusedError) as err:
            call(rem, rem.send("program", {"drug": "morphine"}))
        assert err.value.code is ErrorCode.NOT_PERMITTED

        # a captured bolus request, replayed, delivers nothing
        rem = remote(rem_dir, emu.port)
        sent: list[bytes] = []
        transport = rem.client.transport
        original = transport.exchange

        async def capture(frame: bytes) -> bytes | None:
            sent.append(frame)
            return await original(frame)

        transport.exchange = capture  # type: ignore[method-assign]
        assert call(rem, rem.bolus()).given
        with socket.create_connection(("127.0.0.1", emu.port), timeout=3) as sock:
            sock.sendall(encode_prefixed(sent[-1]))
            sock.settimeout(1.5)
            with pytest.raises(TimeoutError):
                sock.recv(10)  # silence
        prog = programmer(prog_dir, emu.port)
        log = call(prog, prog.read_log())
        patient = [e for e in log.entries if e.kind.value == "bolus started"
                   and e.detail("kind") == "patient"]
        assert len(patient) == 1 and log.verified
        assert any(e.kind.value == "link refused" for e in log.entries)
    finally:
        emu.stop()
    security = (state / "security.jsonl").read_text()  # aggregates are flushed at stop
    assert "REPLAYED" in security and "NOT_PERMITTED" in security
    assert "PAIRING_NOT_OPEN" in security


def test_flood_of_bad_frames_leaves_therapy_on_schedule(tmp_path: Path) -> None:
    state, prog_dir = tmp_path / "pump", tmp_path / "prog"
    emu = Emulator(state, speed=3600)  # 1 wall s = 1 pump h
    emu.start()
    try:
        prog = setup_pump(emu, prog_dir, dose="4 mg/day", conc="2 mg/mL",
                          boluses=False)  # 2 mL/day
        before = call(prog, programmer(prog_dir, emu.port).interrogate())
        wall0 = time.time()
        frames = 0
        garbage = [b"\x00" * 30, b"ID\x02\x03" + b"\x01" * 18 + b"x" * 16,
                   b"ID\x02\x01" + bytes(18)]
        deadline = time.monotonic() + 4.0
        while time.monotonic() < deadline:  # one connection at a time, reopened if cut
            try:
                with socket.create_connection(("127.0.0.1", emu.port), timeout=3) as sock:
                    while time.monotonic() < deadline:
                        sock.sendall(encode_prefixed(garbage[frames % 3]))
                        frames += 1
            except ConnectionError:
                continue
        time.sleep(0.3)
        prog = programmer(prog_dir, emu.port)
        try:
            after = call(prog, prog.interrogate())
        except TransportError:  # the shared budget is not ours, but retry once anyway
            after = call(prog, programmer(prog_dir, emu.port).interrogate())
        elapsed_wall = time.time() - wall0 + 1.0
        assert frames >= 1000 and after.infusing and not after.alarms
        pump_seconds = (float(after.raw["time_s"]) - float(before.raw["time_s"]))
        delivered = float((before.reservoir_estimate - after.reservoir_estimate).value_in("mL"))
        expected = 2.0 * pump_seconds / 86400  # 2 mL/day on schedule
        assert abs(delivered - expected) <= 0.004 + 0.01 * expected  # 2 strokes of 2 uL
        # battery: every processed wake-up is charged; the flood is bounded by the budgets
        bound = RateLimits().max_processed(elapsed_wall + 60)
        assert after.radio_wakeups <= bound
        stats = after.raw["link"]
        assert stats["dropped"] >= 1000  # dropped before parsing, not charged
        drain_s = after.radio_wakeups * float(HardwareSpec().wake_cost_s)
        assert drain_s <= RateLimits().max_processed_per_day() * 0.228
    finally:
        emu.stop()
