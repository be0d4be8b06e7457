"""Atheris fuzz target for the secure link's frame parser and pump-side endpoint.

ref, security: "fuzzing every external interface (frame parser, ...) finds no crash or hang".
`make test` runs it for 100,000 inputs (`fuzz/run_fuzz.py`, atheris from the `fuzz` extra);
IDDS_FUZZ_LONG=1 runs it for long. By hand:

    pip install -e '.[fuzz]'
    python fuzz/fuzz_frame.py CORPUS_DIR fuzz/seeds/frame -max_len=2200 -timeout=5 -runs=100000

A crash is any exception other than `FrameError` from `parse_frame`, any exception at all
from `PumpEndpoint.handle_frame`, or a command reaching the handler (forging a frame that
authenticates is not a fuzzer's job: `fuzz/fuzz_messages.py` fuzzes the authenticated path).

Each input is used two ways: as a whole frame, and spliced into a real sealed COMMAND frame
from a paired device, so the fuzzer explores the authenticated path's edges too.
"""

from __future__ import annotations

import contextlib
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import atheris

with atheris.instrument_imports():
    from fuzz_common import NOW, paired_endpoint

    from idds.link import CommandRequest, FrameError, parse_frame
    from idds.link.session import seal_command


def _refuse(request: CommandRequest) -> dict[str, object]:
    raise AssertionError(f"a fuzzed frame reached the handler: {request}")


ENDPOINT, _PAIRING, EVENTS = paired_endpoint(_refuse)
_, GOOD = seal_command(_PAIRING, "interrogate", {}, NOW + 30.0)


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
