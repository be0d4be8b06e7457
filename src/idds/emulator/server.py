"""Run one emulated pump: firmware model + link endpoint + TCP on loopback, paced in real or
accelerated time, persisted in a state directory (see `idds.emulator.statedir`).

Start: lock the directory, open its secure element (`--secure-element`); on first start implant
a pump (seeded, its log keyed by the secure element) and store it; on a restart restore the
stored pump (sealed files authentic and current, log verified under its key) and log the
restart (`Pump.power_loss`). Stored state that is missing, altered, rolled back or a symbolic
link raises the critical memory error alarm (recorded in the secure element): the emulator
does not serve the link and exits with one line (`MemoryFault`). Then
serve: every tick (0.1 wall s) the pump runs up to the paced time, processed wake-ups are
charged to its battery, a pending near-field record (the wand) opens a pairing window, and
about once a wall second the pump image is stored. Every command is stored before its reply
(`PumpService`).
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from idds.drugs import VersionRecord, load_library
from idds.emulator.pacing import PacedClock
from idds.emulator.secure import DEFAULT_SECURE_ELEMENT, MemoryFault, SecureElement
from idds.emulator.securitylog import SecurityLog
from idds.emulator.service import PumpService
from idds.emulator.statedir import Identity, StateDir, StateDirError
from idds.errors import IddsError
from idds.link import (
    AggregatingSink,
    JsonValue,
    LinkError,
    PumpEndpoint,
    SecurityEvent,
    SecurityEventKind,
    TcpServer,
)
from idds.link.nearfield import take as take_nearfield
from idds.pump import AlarmKind, Pump, power_loss

Announce = Callable[[str], None]


class EmulatorError(IddsError):
    """The emulator cannot start as asked (its port is taken)."""


@dataclass(frozen=True)
class EmulatorOptions:
    """How to run: state directory, TCP port (0 = any), speed (pump s per wall s), implant
    seed, drug library file (None = $IDDS_LIBRARY or the reference library), tick and save
    periods (wall s), and the secure element's directory (`idds.emulator.secure`)."""

    state: Path
    port: int = 0
    speed: float = 1.0
    seed: int = 0
    library: Path | None = None
    tick_s: float = 0.1
    save_every_s: float = 1.0
    secure_element: Path = DEFAULT_SECURE_ELEMENT


class EmulatorSink:
    """Security events: to `security.jsonl` (bounded, `SecurityLog`); commands the link
    refused from a paired key (authenticated), pairings and unpairings also into the pump's
    own log; pairing windows, pairings, unpairings and aggregate summaries announced on the
    console. Wrapped in an `AggregatingSink` by `run_emulator`, so unauthenticated input
    (rejected frames, refused pairing requests, budget drops) arrives here only as one SUMMARY
    a minute at most: no per-frame line, pump-log entry or pump.json rewrite (issue 13)."""

    def __init__(self, log: SecurityLog, announce: Announce) -> None:
        self.log = log
        self.announce = announce
        self.service: PumpService | None = None

    def record(self, event: SecurityEvent) -> None:
        self.log.record(event)
        if event.kind is SecurityEventKind.REFUSED and self.service:
            self.service.note_link_refusal(event.peer, event.code.name,
                                           event.detail or event.code.meaning)
        if event.kind in (SecurityEventKind.PAIRED, SecurityEventKind.UNPAIRED) and self.service:
            self.service.note_link_pairing(event.kind.value, event.peer, event.detail)
        if event.kind in (SecurityEventKind.PAIRING_OPENED, SecurityEventKind.PAIRED,
                          SecurityEventKind.SUMMARY, SecurityEventKind.UNPAIRED,
                          SecurityEventKind.PAIRING_FAILED):
            self.announce(f"{event.kind.value}: {event.detail or event.code.meaning}")


def open_pump(state: StateDir, seed: int, now: datetime) -> tuple[Pump, Identity, bool]:
    """(pump, identity, restarted): restore the stored pump, or implant one at first start,
    its clock set from `now` (local wall time): pump time 0 is that day's midnight, so a flex
    schedule's 08:00 is 08:00 on the calendar. After a restart the pump continues from its
    stored time: the time it was down is not simulated (a pump that was powered off), so its
    calendar then runs behind the wall clock, as the interrogation shows."""
    identity, _ = state.identity(seed, now)
    stored = state.load_pump()
    if stored is None:
        epoch = identity.clock_epoch
        start = 0 if epoch is None else round((now - epoch).total_seconds())
        pump = Pump.implant(seed=identity.seed, log_key=state.log_key, start=start,
                            epoch_weekday=epoch.weekday() if epoch is not None else 0)
        restarted = False
    else:
        pump = power_loss(stored)
        restarted = True
    state.save_pump(pump)
    return pump, identity, restarted


async def run_emulator(
    options: EmulatorOptions, announce: Announce, stop: asyncio.Event | None = None
) -> None:
    """Serve until `stop` is set (or SIGTERM / SIGINT)."""
    fresh = not Path(options.state).exists()
    element = SecureElement(options.secure_element, options.state)
    state = StateDir(options.state, element)
    try:
        lock = state.lock()
    except MemoryFault as exc:  # the lock file is a symbolic link
        raise memory_error(element, str(exc)) from None
    unbound = made = False
    try:
        try:
            state.check_links()
            made = state.open_element()
        except (MemoryFault, LinkError, StateDirError) as exc:
            raise memory_error(element, str(exc)) from None
        # the library's version never goes back; its record is in the secure element
        library = load_library(options.library,
                               record=VersionRecord(element.slot / "library-version.json"))
        try:
            pump, identity, restarted = open_pump(state, options.seed,
                                                  datetime.now().astimezone())
            pump_id = identity.pump_id
            counters, pairings = state.counters(), state.pairings()
        except (MemoryFault, LinkError, StateDirError) as exc:
            raise memory_error(element, str(exc)) from None
        clock = PacedClock(pump.now, options.speed)
        service = PumpService(pump, library, clock, state.save_pump, pump_id,
                              calendar=identity.clock_epoch)
        sink = EmulatorSink(SecurityLog(state.security_path), announce)
        events = AggregatingSink(sink)
        endpoint = PumpEndpoint(pump_id, service.handle, time.time,
                                counters=counters, pairings=pairings, events=events)
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
            await _tick(options, state, service, endpoint, events, stop)
        finally:
            await server.close()
            events.flush(time.time())
            service.catch_up()
            state.save_pump(service.pump)
    finally:
        lock.close()
        if unbound and fresh:  # refused means nothing happened: no half-made state folder
            shutil.rmtree(state.path, ignore_errors=True)
            if made:
                element.remove()


def memory_error(element: SecureElement, reason: str) -> MemoryFault:
    """The critical memory error alarm for stored state that cannot be trusted: recorded in
    the secure element (which the state's attacker cannot reach) and returned as the one-line
    refusal. The pump does not serve the link from such a state."""
    alarm = AlarmKind.CRITICAL_MEMORY_ERROR.value
    with contextlib.suppress(OSError, MemoryFault):
        element.record_alarm(time.time(), alarm, reason)
    return MemoryFault(f"{alarm} alarm: {reason}; the pump does not serve the link (put back "
                       "the state it wrote last, or replace the pump)")


async def _tick(options: EmulatorOptions, state: StateDir, service: PumpService,
                endpoint: PumpEndpoint, events: AggregatingSink, stop: asyncio.Event) -> None:
    last_save = time.monotonic()
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), options.tick_s)
        service.catch_up()
        events.tick(time.time())
        wand = take_nearfield(state.path, time.time())
        if wand is not None:
            endpoint.presence(wand.role, wand.secret)
        if time.monotonic() - last_save >= options.save_every_s:
            state.save_pump(service.pump)
            last_save = time.monotonic()


def _stats(endpoint: PumpEndpoint) -> dict[str, JsonValue]:
    s = endpoint.stats
    return {"processed": s.processed, "dropped": s.dropped_unauthenticated + s.dropped_paired,
            "rejected": s.rejected, "delivered": s.delivered,
            "pairing_filtered": endpoint.filtered}
