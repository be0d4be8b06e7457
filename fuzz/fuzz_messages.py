"""Atheris fuzz target for the decoded-message parser (`decode_command`, `decode_reply`), the
unit parser, and the pump-side endpoint's authenticated path.

ref, security: "fuzzing every external interface (frame parser, API, file formats) finds no
crash or hang". Each input is used three ways:

1. as a COMMAND plaintext and as a REPLY plaintext: only `ProtocolError(MALFORMED_PAYLOAD)`
   may come out, and whatever decodes has only finite numbers within +/-2^64 and an
   `expires_at` within 0 to 2^53;
2. sealed with a paired clinician's key into an authentic, fresh COMMAND frame and given to
   `PumpEndpoint.handle_frame`: it must not raise, must answer, and the answer must open and
   decode on the device side (so a reply the pump makes is always one the device can read);
3. each text argument of a command that reaches the handler goes through `parse_quantity`:
   only `UnitError` may come out.

`make test` runs it for 100,000 inputs (`fuzz/run_fuzz.py`); IDDS_FUZZ_LONG=1 for long runs:

    python fuzz/fuzz_messages.py CORPUS_DIR fuzz/seeds/messages -max_len=2000 -runs=100000
"""

from __future__ import annotations

import contextlib
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import atheris

with atheris.instrument_imports():
    from fuzz_common import paired_endpoint

    from idds.link import CommandRequest, FrameType, JsonValue
    from idds.link.aead import seal_frame
    from idds.link.errors import ErrorCode, ProtocolError
    from idds.link.frame import MAX_PAYLOAD
    from idds.link.messages import (
        MAX_EXPIRES_AT,
        MAX_MAGNITUDE,
        decode_command,
        decode_reply,
    )
    from idds.link.session import open_reply
    from idds.units import UnitError, parse_quantity

TAG = 16


def _numbers_bounded(value: object) -> None:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return
    if isinstance(value, int | float):
        assert math.isfinite(value) and abs(value) <= MAX_MAGNITUDE, value
        return
    items = value.values() if isinstance(value, dict) else value
    for item in items:  # type: ignore[union-attr]
        _numbers_bounded(item)


def _texts(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [t for item in value.values() for t in _texts(item)]
    if isinstance(value, list):
        return [t for item in value for t in _texts(item)]
    return []


def _handler(request: CommandRequest) -> dict[str, JsonValue]:
    for text in _texts(request.args):
        with contextlib.suppress(UnitError):
            parse_quantity(text)
    return {"seen": len(request.args)}


ENDPOINT, PAIRING, EVENTS = paired_endpoint(_handler)


def TestOneInput(data: bytes) -> None:
    """One input: both decoders, then the endpoint's authenticated path."""
    global PAIRING
    for decode in (decode_command, decode_reply):
        try:
            message = decode(data)
        except ProtocolError as exc:
            assert exc.code is ErrorCode.MALFORMED_PAYLOAD
            continue
        _numbers_bounded(getattr(message, "args", None) or getattr(message, "result", {}))
        expires_at = getattr(message, "expires_at", 0.0)
        assert 0 <= expires_at <= MAX_EXPIRES_AT
    plaintext = data[: MAX_PAYLOAD - TAG]
    counter = PAIRING.send_counter + 1
    frame = seal_frame(PAIRING.send_key, FrameType.COMMAND, PAIRING.key_id, counter, plaintext,
                       PAIRING.binding)
    PAIRING = PAIRING.advanced(send=counter)
    answer = ENDPOINT.handle_frame(frame, "fuzz")
    assert answer is not None, "an authentic, fresh command got no answer"
    PAIRING, _reply = open_reply(PAIRING, answer)
    EVENTS.events.clear()


def main() -> None:
    """Start libFuzzer with the command-line arguments."""
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
