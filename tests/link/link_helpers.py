"""Helpers for link tests: a fake clock, a recording handler and a pump endpoint."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from idds.link import (
    ClientPairing,
    CommandRequest,
    CounterStore,
    EventSink,
    JsonValue,
    MemoryCounterStore,
    MemoryEventSink,
    MemoryPairingStore,
    PairingStore,
    PumpEndpoint,
    RateLimits,
    Role,
)
from idds.link.session import seal_command, start_pairing

# Generous budgets so attack loops are not cut short by the rate limiter (tested separately).
OPEN_LIMITS = RateLimits(
    unauthenticated_per_minute=1e9,
    unauthenticated_burst=10**9,
    paired_per_minute=1e9,
    paired_burst=10**9,
    max_pairings=4,
    verify_per_minute=1e9,
    verify_burst=10**9,
)


class FakeClock:
    """Link-clock seconds that move only when a test says so."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Recorder:
    """A handler that records each command it receives."""

    calls: list[CommandRequest] = field(default_factory=list)

    def __call__(self, request: CommandRequest) -> Mapping[str, JsonValue]:
        self.calls.append(request)
        return {"command": request.command, "calls": len(self.calls)}


@dataclass
class Rig:
    clock: FakeClock
    handler: Recorder
    events: MemoryEventSink
    counters: Any
    pairings: Any
    endpoint: PumpEndpoint

    def open(self, role: Role) -> bytes:
        """The wand over the pump: a fresh near-field secret opens a window for `role`."""
        secret = os.urandom(16)
        self.endpoint.presence(role, secret)
        return secret

    def pair(self, role: Role, device_id: str = "device-1") -> ClientPairing:
        """The wand for `role`, then a whole pairing exchange (synchronous)."""
        secret = self.open(role)
        attempt = start_pairing(device_id, role, secret)
        answer = self.endpoint.handle_frame(attempt.request, "test")
        assert answer is not None
        return attempt.finish(answer)

    def command(
        self,
        pairing: ClientPairing,
        command: str = "bolus_request",
        args: Mapping[str, JsonValue] | None = None,
        ttl: float = 30.0,
    ) -> tuple[ClientPairing, bytes]:
        """A sealed COMMAND frame from `pairing`, valid for `ttl` seconds from now."""
        return seal_command(pairing, command, args or {}, self.clock() + ttl)

    def state(self) -> tuple[object, ...]:
        """Everything an attack must leave unchanged."""
        return (
            sorted(self.pairings.load()),
            {k: self.counters.get(k, d) for k in self.pairings.load() for d in _directions()},
            len(self.handler.calls),
        )


def _directions() -> list[Any]:
    from idds.link.aead import Direction

    return list(Direction)


def make_rig(
    counters: CounterStore | None = None,
    pairings: PairingStore | None = None,
    limits: RateLimits = OPEN_LIMITS,
    clock: FakeClock | None = None,
    events: EventSink | None = None,
) -> Rig:
    """A rig; `events` (default: the rig's memory sink) is what the endpoint writes to."""
    clock = clock or FakeClock()
    handler = Recorder()
    memory = MemoryEventSink()
    counters = counters if counters is not None else MemoryCounterStore()
    pairings = pairings if pairings is not None else MemoryPairingStore()
    endpoint = PumpEndpoint(
        "pump-1",
        handler,
        clock,
        counters=counters,
        pairings=pairings,
        events=events if events is not None else memory,
        limits=limits,
    )
    return Rig(clock, handler, memory, counters, pairings, endpoint)
