"""Atheris fuzz target for the secure link's frame parser and pump-side endpoint.

ref, security: "fuzzing every external interface (frame parser, ...) finds no crash or hang".
The CI suite fuzzes the same interfaces with hypothesis (tests/link/test_link_frame.py); this
target is for long coverage-guided runs. It is not imported by the tests, and atheris is not a
project dependency: install it in a separate environment (CPython with clang/libFuzzer support):

    pip install atheris
    pip install -e .
    mkdir -p fuzz/corpus
    python fuzz/fuzz_frame.py fuzz/corpus -max_len=2200 -timeout=5 -rss_limit_mb=1024

(-runs=N bounds the run; -jobs=N -workers=N runs in parallel.) A crash is any exception other
than `FrameError` from `parse_frame`, any exception at all from `PumpEndpoint.handle_frame`, or
a command reaching the handler (forging a frame that authenticates is not a fuzzer's job).

Each input is used two ways: as a whole frame, and spliced into a real sealed COMMAND frame
from a paired device, so the fuzzer explores the authenticated path's edges too.
"""

from __future__ import annotations

import contextlib
import sys

import atheris

with atheris.instrument_imports():
    from idds.link import (
        CommandRequest,
        FrameError,
        MemoryCounterStore,
        MemoryEventSink,
        MemoryPairingStore,
        PumpEndpoint,
        RateLimits,
        Role,
        parse_frame,
    )
    from idds.link.session import seal_command, start_pairing

NOW = 1_000.0
EVENTS = MemoryEventSink()
UNLIMITED = RateLimits(
    unauthenticated_per_minute=1e12,
    unauthenticated_burst=2**62,
    paired_per_minute=1e12,
    paired_burst=2**62,
)


def _refuse(request: CommandRequest) -> dict[str, object]:
    raise AssertionError(f"a fuzzed frame reached the handler: {request}")


def _paired_endpoint() -> tuple[PumpEndpoint, bytes]:
    """An endpoint with one paired clinician programmer, and one real COMMAND frame from it."""
    endpoint = PumpEndpoint(
        "pump-fuzz",
        _refuse,
        lambda: NOW,
        counters=MemoryCounterStore(),
        pairings=MemoryPairingStore(),
        events=EVENTS,
        limits=UNLIMITED,
    )
    secret = bytes(range(16))  # fixed: the fuzz target is deterministic
    endpoint.presence(Role.CLINICIAN, secret)
    attempt = start_pairing("programmer-fuzz", Role.CLINICIAN, secret)
    answer = endpoint.handle_frame(attempt.request)
    assert answer is not None
    pairing = attempt.finish(answer)
    _, frame = seal_command(pairing, "interrogate", {}, NOW + 30.0)
    return endpoint, frame


ENDPOINT, GOOD = _paired_endpoint()


def TestOneInput(data: bytes) -> None:
    """One fuzz input: parser first, then the endpoint with the input whole and spliced."""
    with contextlib.suppress(FrameError):
        parse_frame(data)
    ENDPOINT.handle_frame(data, "fuzz")
    if data:
        at = data[0] % len(GOOD)
        spliced = GOOD[:at] + data[1:] + GOOD[at + len(data) - 1 :]
        if spliced != GOOD:
            ENDPOINT.handle_frame(spliced, "fuzz")
    # Bound the event log so a long run does not grow memory without limit.
    EVENTS.events.clear()


def main() -> None:
    """Start libFuzzer with the command-line arguments."""
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
