"""An in-process pump (firmware + `PumpService` + `PumpEndpoint`) on the memory transport,
with a fake link clock and a pump clock the test moves, for programmer API tests."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Coroutine
from datetime import date
from fractions import Fraction
from pathlib import Path
from typing import Any, TypeVar

from idds.drugs import load_library
from idds.emulator import PumpService
from idds.link import (
    LinkClient,
    MemoryClientStore,
    MemoryCounterStore,
    MemoryEventSink,
    MemoryPairingStore,
    MemoryTransport,
    PumpEndpoint,
    Role,
)
from idds.programmer import DeviceLog, Programmer, Remote
from idds.pump import Pump, restore, snapshot

T = TypeVar("T")
LIBRARY = load_library()


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


class Rig:
    """One pump on the memory transport, implanted at pump time `start` (s). `pump_time` is
    moved by tests (s)."""

    def __init__(self, tmp: Path, seed: int = 1, start: int = 0) -> None:
        self.tmp = tmp
        self.link_now = 1_000.0
        self.pump_time = Fraction(start)
        self.images: list[bytes] = []
        pump = Pump.implant(seed=seed, start=start)
        self.service = PumpService(pump, LIBRARY, lambda: self.pump_time, self._persist,
                                   "pump-test")
        self.events = MemoryEventSink()
        self.endpoint = PumpEndpoint("pump-test", self.service.handle, self.link_clock,
                                     counters=MemoryCounterStore(),
                                     pairings=MemoryPairingStore(), events=self.events)
        self.service.wakeups = lambda: self.endpoint.stats.processed
        self.transport = MemoryTransport(self.endpoint)

    @property
    def pump(self) -> Pump:
        return self.service.pump

    def link_clock(self) -> float:
        self.link_now += 1.0  # each read moves 1 s: paired budgets refill as commands go
        return self.link_now

    def _persist(self, pump: Pump) -> None:
        self.images.append(snapshot(pump))

    def stored(self) -> Pump:
        """The pump as last persisted (what a restart would restore)."""
        return restore(self.images[-1])

    def client(self) -> LinkClient:
        return LinkClient(self.transport, MemoryClientStore(), self.link_clock)

    def programmer(self, name: str = "programmer") -> Programmer:
        prog = Programmer(self.client(), DeviceLog(self.tmp / f"{name}.jsonl", lambda: "t"),
                          LIBRARY, lambda: date(2026, 1, 1))
        secret = os.urandom(16)
        self.endpoint.presence(Role.CLINICIAN, secret)
        run(prog.pair(f"{name}-1", secret))
        return prog

    def remote(self, name: str = "remote") -> Remote:
        remote = Remote(self.client(), DeviceLog(self.tmp / f"{name}.jsonl", lambda: "t"))
        secret = os.urandom(16)
        self.endpoint.presence(Role.PATIENT, secret)
        run(remote.pair(f"{name}-1", secret))
        return remote
