"""The frame layout, the strict parser, and property fuzzing (ref, security: fuzzing every
external interface finds no crash)."""

from __future__ import annotations

import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from idds.link import MAX_FRAME, MAX_PAYLOAD, ErrorCode, FrameError, FrameType, Role, parse_frame
from idds.link.aead import Direction, nonce, open_frame, seal_frame
from idds.link.errors import ProtocolError
from idds.link.frame import HEADER_SIZE, ZERO_KEY_ID, build_frame
from idds.link.messages import decode_command, decode_reply
from idds.link.pairing import decode_error, decode_hello
from tests.link.link_helpers import OPEN_LIMITS, make_rig

KEY = bytes(range(32))
KEY_ID = bytes.fromhex("0102030405060708")
BINDING = bytes(32)


def sealed(counter: int = 7, plaintext: bytes = b'{"x":1}') -> bytes:
    return seal_frame(KEY, FrameType.COMMAND, KEY_ID, counter, plaintext, BINDING)


def test_header_layout_is_big_endian_at_documented_offsets() -> None:
    frame = sealed(counter=0x0102030405060708)
    assert HEADER_SIZE == 22
    assert frame[0:2] == b"ID"
    assert frame[2] == 2  # link version 2 (SPAKE2 pairing, bound associated data)
    assert frame[3] == FrameType.COMMAND == 3
    assert frame[4:12] == KEY_ID
    assert frame[12:20] == bytes.fromhex("0102030405060708")
    assert struct.unpack(">H", frame[20:22])[0] == len(frame) - 22 == 7 + 16


def test_nonce_is_direction_then_counter() -> None:
    assert nonce(Direction.DEVICE_TO_PUMP, 5) == b"\x01\x00\x00\x00" + (5).to_bytes(8, "big")
    assert nonce(Direction.PUMP_TO_DEVICE, 5) != nonce(Direction.DEVICE_TO_PUMP, 5)


def test_seal_and_open_round_trip() -> None:
    frame = parse_frame(sealed(plaintext=b"hello"))
    assert frame.header.counter == 7
    assert open_frame(KEY, frame, BINDING) == b"hello"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", ErrorCode.TRUNCATED),
        (b"ID\x01", ErrorCode.TRUNCATED),
        (b"XX" + sealed()[2:], ErrorCode.BAD_MAGIC),
        (b"ID\x01" + sealed()[3:], ErrorCode.BAD_VERSION),
        (b"ID\x02\x09" + sealed()[4:], ErrorCode.BAD_TYPE),
        (sealed()[:-1], ErrorCode.TRUNCATED),
        (sealed() + b"!", ErrorCode.TRAILING_BYTES),
        (bytes(MAX_FRAME + 1), ErrorCode.OVERSIZED),
        (
            struct.pack(">2sBB8sQH", b"ID", 2, 3, KEY_ID, 1, MAX_PAYLOAD + 1),
            ErrorCode.OVERSIZED,
        ),
        (struct.pack(">2sBB8sQH", b"ID", 2, 3, KEY_ID, 1, 4) + bytes(4), ErrorCode.BAD_LENGTH),
        (struct.pack(">2sBB8sQH", b"ID", 2, 3, KEY_ID, 0, 16) + bytes(16), ErrorCode.BAD_COUNTER),
        (
            struct.pack(">2sBB8sQH", b"ID", 2, 3, ZERO_KEY_ID, 1, 16) + bytes(16),
            ErrorCode.BAD_KEY_ID,
        ),
        (struct.pack(">2sBB8sQH", b"ID", 2, 1, ZERO_KEY_ID, 1, 0), ErrorCode.BAD_COUNTER),
        (struct.pack(">2sBB8sQH", b"ID", 2, 1, KEY_ID, 0, 0), ErrorCode.BAD_KEY_ID),
        (struct.pack(">2sBB8sQH", b"ID", 2, 2, ZERO_KEY_ID, 0, 0), ErrorCode.BAD_KEY_ID),
    ],
)
def test_parser_rejects_with_a_code(data: bytes, code: ErrorCode) -> None:
    with pytest.raises(FrameError) as caught:
        parse_frame(data)
    assert caught.value.code is code


def test_build_frame_refuses_what_the_parser_refuses() -> None:
    with pytest.raises(FrameError):
        build_frame(FrameType.COMMAND, ZERO_KEY_ID, 1, bytes(16))
    with pytest.raises(FrameError):
        build_frame(FrameType.ERROR, ZERO_KEY_ID, 0, bytes(MAX_PAYLOAD + 1))


def _only_frame_errors(data: bytes) -> None:
    try:
        frame = parse_frame(data)
    except FrameError as exc:
        assert isinstance(exc.code, ErrorCode)
        return
    assert frame.encode() == data  # what parses re-encodes to the same bytes


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=MAX_FRAME + 8))
def test_fuzz_parser_random_bytes(data: bytes) -> None:
    _only_frame_errors(data)


@st.composite
def mutated_frames(draw: st.DrawFn) -> bytes:
    """Valid frames of every type, then mutated: flips, cuts, splices, length lies."""
    ftype = draw(st.sampled_from(list(FrameType)))
    payload = draw(st.binary(min_size=16 if ftype.sealed else 0, max_size=64))
    key_id = ZERO_KEY_ID if ftype in (FrameType.PAIR_REQUEST, FrameType.ERROR) else KEY_ID
    counter = draw(st.integers(1, 2**64 - 1)) if ftype.sealed else 0
    data = bytearray(build_frame(ftype, key_id, counter, payload).encode())
    for _ in range(draw(st.integers(0, 4))):
        action = draw(st.sampled_from(["flip", "cut", "insert", "length"]))
        if action == "flip" and data:
            i = draw(st.integers(0, len(data) - 1))
            data[i] ^= draw(st.integers(1, 255))
        elif action == "cut" and data:
            del data[draw(st.integers(0, len(data) - 1)) :]
        elif action == "insert":
            i = draw(st.integers(0, len(data)))
            data[i:i] = draw(st.binary(min_size=1, max_size=8))
        elif action == "length" and len(data) >= HEADER_SIZE:
            data[20:22] = draw(st.integers(0, 65535)).to_bytes(2, "big")
    return bytes(data)


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_frames())
def test_fuzz_parser_mutated_frames(data: bytes) -> None:
    _only_frame_errors(data)


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=300))
def test_fuzz_payload_decoders_raise_only_protocol_errors(data: bytes) -> None:
    for decode in (decode_command, decode_reply, decode_hello, decode_error):
        try:
            decode(data)
        except ProtocolError as exc:
            assert exc.code is ErrorCode.MALFORMED_PAYLOAD


def test_deeply_nested_json_is_malformed_not_a_crash() -> None:
    bombs = [b"[" * 5000, b'{"a":' * 2000, b"NaN", b'{"command":"x","args":{},"expires_at":NaN}']
    for data in bombs:
        with pytest.raises(ProtocolError):
            decode_command(data)


def test_fuzz_endpoint_never_raises_and_delivers_nothing() -> None:
    rig = make_rig(limits=OPEN_LIMITS)
    pairing = rig.pair(Role.CLINICIAN)
    _, good = rig.command(pairing, "interrogate")

    @settings(max_examples=1000, deadline=None)
    @given(st.one_of(st.binary(max_size=200), mutated_frames()), st.integers(0, len(good) - 1))
    def run(noise: bytes, i: int) -> None:
        for data in (noise, good[:i] + noise + good[i + 1 :]):
            if data != good:
                assert rig.endpoint.handle_frame(data, "fuzz") is None

    run()
    assert rig.handler.calls == []
    assert rig.endpoint.handle_frame(good) is not None
