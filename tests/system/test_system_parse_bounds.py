"""Through a real emulator process (issue 13, finding 6): a command with expires_at 10^400,
or a dose of 1,500 digits, is answered with a refusal (or silence) and the emulator keeps
serving; before, it raised OverflowError in the connection handler."""

from __future__ import annotations

import time
from pathlib import Path

from idds.link import ErrorCode, Role, TcpTransport
from idds.link.session import open_reply, seal_command
from idds.programmer import Programmer
from tests.system.system_helpers import Emulator, call, programmer, run


def _raw(prog: Programmer, port: int, command: str, args: dict[str, object],
         expires_at: object) -> tuple[bool, int] | None:
    """Send one hand-made sealed command with the programmer's pairing; (ok, code) or None."""
    store = prog.client.store
    pairing = store.load()
    assert pairing is not None
    pairing, frame = seal_command(pairing, command, args, expires_at)  # type: ignore[arg-type]
    store.save(pairing)

    async def exchange() -> bytes | None:
        transport = TcpTransport("127.0.0.1", port)
        try:
            return await transport.exchange(frame)
        finally:
            await transport.aclose()

    answer = run(exchange())
    if answer is None:
        return None
    pairing, reply = open_reply(pairing, answer)
    store.save(pairing)
    return reply.ok, reply.code


def test_overflowing_numbers_are_refused_and_the_emulator_keeps_serving(tmp_path: Path) -> None:
    emu = Emulator(tmp_path / "pump", speed=1)
    emu.start()
    try:
        secret = emu.wand(Role.CLINICIAN)
        prog = programmer(tmp_path / "prog", emu.port)
        call(prog, prog.pair("programmer-test", secret))
        prog = programmer(tmp_path / "prog", emu.port)
        soon = time.time() + 20
        attacks: list[tuple[str, dict[str, object], object]] = [
            ("interrogate", {}, 10**400),
            ("program", {"drug": "morphine", "concentration": "10 mg/mL",
                         "therapy": {"mode": "continuous", "dose": "1" * 1500 + " mg/day"},
                         "opioid_tolerant": True}, soon),
            ("program", {"drug": "morphine", "concentration": "10 mg/mL",
                         "therapy": {"mode": "continuous", "dose": "1 mg/day"},
                         "opioid_tolerant": True, "n": 10**1499}, soon),
        ]
        for command, args, expires_at in attacks:
            outcome = _raw(prog, emu.port, command, args, expires_at)
            assert outcome is None or outcome[0] is False, (command, outcome)
            if outcome is not None:
                assert outcome[1] in (ErrorCode.MALFORMED_PAYLOAD, ErrorCode.COMMAND_REFUSED)
            assert emu.proc is not None and emu.proc.poll() is None
        status = call(prog, prog.interrogate())  # still serving, therapy unchanged
        assert status.raw["time_s"] >= 0
        out = (tmp_path / "pump.out").read_bytes()
        assert b"OverflowError" not in out and b"Traceback" not in out
    finally:
        emu.stop()
