"""Run one emulated pump: firmware model + link endpoint + TCP on loopback, paced in real or
accelerated time, persisted in a state directory (see `idds.emulator.statedir`).

Start: lock the directory; on first start implant a pump (seeded) and store it; on a restart
restore the stored pump (its log must verify) and log the restart (`Pump.power_loss`). Then
serve: every tick (0.1 wall s) the pump runs up to the paced time, processed wake-ups are
charged to its battery, a pending magnet request opens a pairing window, and about once a wall
second the pump image is stored. Every command is stored before its reply (`PumpService`).
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from idds.drugs import VersionRecord, load_library
from idds.emulator.magnet import take_presence
from idds.emulator.pacing import PacedClock
from idds.emulator.service import PumpService
from idds.emulator.statedir import SecurityLog, StateDir
from idds.errors import IddsError
from idds.link import JsonValue, PumpEndpoint, SecurityEvent, SecurityEventKind, TcpServer
from idds.pump import Pump, power_loss

Announce = Callable[[str], None]


class EmulatorError(IddsError):
    """The emulator cannot start as asked (its port is taken)."""


@dataclass(frozen=True)
class EmulatorOptions:
    """How to run: state directory, TCP port (0 = any), speed (pump s per wall s), implant
    seed, drug library file (None = $IDDS_LIBRARY or the reference library), tick and save
    periods (wall s)."""

    state: Path
    port: int = 0
    speed: float = 1.0
    seed: int = 0
    library: Path | None = None
    tick_s: float = 0.1
    save_every_s: float = 1.0


class EmulatorSink:
    """Security events: to `security.jsonl`; link refusals also into the pump's own log;
    pairing windows and pairings announced on the console (with the short code)."""

    def __init__(self, log: SecurityLog, announce: Announce) -> None:
        self.log = log
        self.announce = announce
        self.service: PumpService | None = None

    def record(self, event: SecurityEvent) -> None:
        self.log.record(event)
        refused = (SecurityEventKind.REFUSED, SecurityEventKind.PAIRING_REFUSED)
        if event.kind in refused and self.service:
            self.service.note_link_refusal(event.peer, event.code.name,
                                           event.detail or event.code.meaning)
        if event.kind in (SecurityEventKind.PAIRING_OPENED, SecurityEventKind.PAIRED,
                          SecurityEventKind.PAIRING_REFUSED):
            self.announce(f"{event.kind.value}: {event.detail or event.code.meaning}")


def open_pump(state: StateDir, seed: int) -> tuple[Pump, str, bool]:
    """(pump, pump id, restarted): restore the stored pump, or implant one at first start."""
    identity, _ = state.identity(seed)
    stored = state.load_pump()
    if stored is None:
        pump = Pump.implant(seed=identity.seed)
        restarted = False
    else:
        pump = power_loss(stored)
        restarted = True
    state.save_pump(pump)
    return pump, identity.pump_id, restarted


async def run_emulator(
    options: EmulatorOptions, announce: Announce, stop: asyncio.Event | None = None
) -> None:
    """Serve until `stop` is set (or SIGTERM / SIGINT)."""
    fresh = not Path(options.state).exists()
    state = StateDir(options.state)
    lock = state.lock()
    unbound = False
    try:
        library = load_library(options.library, record=VersionRecord(
            Path(options.state) / "library-version.json"))  # the version never goes back
        pump, pump_id, restarted = open_pump(state, options.seed)
        clock = PacedClock(pump.now, options.speed)
        service = PumpService(pump, library, clock, state.save_pump, pump_id)
        sink = EmulatorSink(SecurityLog(state.security_path), announce)
        endpoint = PumpEndpoint(pump_id, service.handle, time.time,
                                counters=state.counters(), pairings=state.pairings(),
                                events=sink)
        sink.service = service
        service.wakeups = lambda: endpoint.stats.processed
        service.link_stats = lambda: _stats(endpoint)
        server = TcpServer(endpoint, port=options.port)
        try:
            await server.start()
        except OSError as exc:
            unbound = True
            raise EmulatorError(f"port {options.port} on 127.0.0.1 cannot be used "
                                f"({exc.strerror or exc}): choose another --port, or 0 for any "
                                "free port") from None
        state.write_port(server.port)
        announce(str(server.port))
        announce(f"{pump_id} {'restarted' if restarted else 'implanted'} in {state.path} at "
                 f"speed {options.speed:g}")
        stop = stop or asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        try:
            await _tick(options, state, service, endpoint, stop)
        finally:
            await server.close()
            service.catch_up()
            state.save_pump(service.pump)
    finally:
        lock.close()
        if unbound and fresh:  # refused means nothing happened: no half-made state folder
            shutil.rmtree(state.path, ignore_errors=True)


async def _tick(options: EmulatorOptions, state: StateDir, service: PumpService,
                endpoint: PumpEndpoint, stop: asyncio.Event) -> None:
    last_save = time.monotonic()
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), options.tick_s)
        service.catch_up()
        role = take_presence(state.path, time.time())
        if role is not None:
            endpoint.presence(role)
        if time.monotonic() - last_save >= options.save_every_s:
            state.save_pump(service.pump)
            last_save = time.monotonic()


def _stats(endpoint: PumpEndpoint) -> dict[str, JsonValue]:
    s = endpoint.stats
    return {"processed": s.processed, "dropped": s.dropped_unauthenticated + s.dropped_paired,
            "rejected": s.rejected, "delivered": s.delivered}
