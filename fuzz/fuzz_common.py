"""What the atheris targets share: a pump endpoint with one paired clinician programmer.

Imported inside `atheris.instrument_imports()` by each target, so the link code it pulls in is
instrumented for coverage. The pairing is made the way a real device pairs (the near-field
secret, then the SPAKE2 exchange), with budgets that never throttle the fuzzer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from idds.link import (
    ClientPairing,
    CommandRequest,
    JsonValue,
    MemoryCounterStore,
    MemoryEventSink,
    MemoryPairingStore,
    PumpEndpoint,
    RateLimits,
    Role,
)
from idds.link.session import start_pairing

NOW = 1_000.0
UNLIMITED = RateLimits(
    unauthenticated_per_minute=1e12,
    unauthenticated_burst=2**62,
    paired_per_minute=1e12,
    paired_burst=2**62,
    verify_per_minute=1e12,
    verify_burst=2**62,
)

Handler = Callable[[CommandRequest], Mapping[str, JsonValue]]


def paired_endpoint(handler: Handler) -> tuple[PumpEndpoint, ClientPairing, MemoryEventSink]:
    """An endpoint (link clock fixed at NOW) and the client side of one clinician pairing."""
    events = MemoryEventSink()
    endpoint = PumpEndpoint(
        "pump-fuzz",
        handler,
        lambda: NOW,
        counters=MemoryCounterStore(),
        pairings=MemoryPairingStore(),
        events=events,
        limits=UNLIMITED,
    )
    secret = bytes(range(16))  # fixed: the fuzz targets are deterministic
    endpoint.presence(Role.CLINICIAN, secret)
    attempt = start_pairing("programmer-fuzz", Role.CLINICIAN, secret)
    answer = endpoint.handle_frame(attempt.request)
    assert answer is not None
    return endpoint, attempt.finish(answer), events
