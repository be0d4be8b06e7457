"""The attack suite (ref, security): each attack is rejected, reaches no handler, changes
nothing, and is logged."""

from __future__ import annotations

import asyncio

import pytest

from idds.link import (
    MAX_FRAME,
    ErrorCode,
    FrameType,
    LinkClient,
    MemoryClientStore,
    MemoryTransport,
    PairingError,
    RefusedError,
    Role,
    SecurityEventKind,
)
from idds.link.frame import HEADER, HEADER_SIZE, MAGIC, VERSION
from idds.link.session import open_reply, start_pairing
from tests.link.link_helpers import Rig, make_rig


def assert_rejected(rig: Rig, frame: bytes, code: ErrorCode | None = None) -> ErrorCode:
    """Feed `frame`; it must be answered with silence, change nothing and be logged."""
    before = rig.state()
    logged = len(rig.events.events)
    answer = rig.endpoint.handle_frame(frame, "attacker")
    assert answer is None
    assert rig.state() == before
    assert len(rig.events.events) == logged + 1
    event = rig.events.events[-1]
    assert event.kind is SecurityEventKind.REJECTED
    assert event.time == rig.clock()
    if code is not None:
        assert event.code is code, event
    return event.code


def assert_refused(rig: Rig, frame: bytes, pairing_after: object, code: ErrorCode) -> str:
    """An authentic command the link refuses: encrypted refusal, no handler call, logged."""
    calls = len(rig.handler.calls)
    pairings = sorted(rig.pairings.load())
    answer = rig.endpoint.handle_frame(frame, "device")
    assert answer is not None
    assert answer[3] == FrameType.REPLY  # encrypted, not a plaintext error
    assert len(rig.handler.calls) == calls
    assert sorted(rig.pairings.load()) == pairings
    event = rig.events.events[-1]
    assert (event.kind, event.code) == (SecurityEventKind.REFUSED, code)
    _, reply = open_reply(pairing_after, answer)  # type: ignore[arg-type]
    assert not reply.ok and reply.code == code
    return reply.reason


def test_replayed_frame_is_rejected(rig: Rig) -> None:
    pairing = rig.pair(Role.PATIENT)
    _, frame = rig.command(pairing, "bolus_request", {"dose": "0.1 mg"})
    assert rig.endpoint.handle_frame(frame) is not None
    assert len(rig.handler.calls) == 1
    for _ in range(3):
        assert_rejected(rig, frame, ErrorCode.REPLAYED)
    assert len(rig.handler.calls) == 1


def test_captured_bolus_request_replayed_over_the_air_is_rejected(rig: Rig) -> None:
    secret = rig.open(Role.PATIENT)
    transport = MemoryTransport(rig.endpoint)
    remote = LinkClient(transport, MemoryClientStore(), rig.clock)
    asyncio.run(remote.pair("remote-1", Role.PATIENT, secret))
    result = asyncio.run(remote.send("bolus_request", {"dose": "0.1 mg"}))
    assert result["command"] == "bolus_request"
    captured = transport.sent[-1]
    rig.clock.advance(5.0)  # still within the command's expiry: only the counter stops it
    assert_rejected(rig, captured, ErrorCode.REPLAYED)
    assert len(rig.handler.calls) == 1


def test_reordered_frames_older_counter_is_rejected(rig: Rig) -> None:
    pairing = rig.pair(Role.CLINICIAN)
    pairing, first = rig.command(pairing, "interrogate")
    pairing, second = rig.command(pairing, "read_log")
    assert rig.endpoint.handle_frame(second) is not None
    assert_rejected(rig, first, ErrorCode.REPLAYED)
    assert [c.command for c in rig.handler.calls] == ["read_log"]


def test_bit_flip_at_every_byte_position_is_rejected(rig: Rig) -> None:
    pairing = rig.pair(Role.PATIENT)
    _, frame = rig.command(pairing, "bolus_request", {"dose": "0.1 mg"})
    codes = set()
    for position in range(len(frame)):
        for mask in (0x01, 0x80):
            flipped = bytearray(frame)
            flipped[position] ^= mask
            codes.add(assert_rejected(rig, bytes(flipped)))
    assert rig.handler.calls == []
    assert ErrorCode.AUTH_FAILED in codes and ErrorCode.BAD_MAGIC in codes
    # nothing changed: the untouched frame is still accepted, once
    assert rig.endpoint.handle_frame(frame) is not None
    assert len(rig.handler.calls) == 1


def test_every_truncation_is_rejected(rig: Rig) -> None:
    pairing = rig.pair(Role.PATIENT)
    _, frame = rig.command(pairing)
    for length in range(len(frame)):
        assert_rejected(rig, frame[:length], ErrorCode.TRUNCATED)
    assert rig.handler.calls == []
    assert rig.endpoint.handle_frame(frame) is not None


def test_oversized_frames_are_rejected(rig: Rig) -> None:
    pairing = rig.pair(Role.PATIENT)
    _, frame = rig.command(pairing)
    assert_rejected(rig, frame + b"\x00", ErrorCode.TRAILING_BYTES)
    assert_rejected(rig, frame + bytes(MAX_FRAME), ErrorCode.OVERSIZED)
    big_header = HEADER.pack(MAGIC, VERSION, FrameType.COMMAND, pairing.key_id, 9, 4000)
    assert_rejected(rig, big_header + bytes(4000), ErrorCode.OVERSIZED)
    assert rig.handler.calls == []


def test_frame_from_unpaired_key_is_rejected(rig: Rig) -> None:
    stranger = make_rig().pair(Role.CLINICIAN, "stranger")  # paired with another pump
    _, frame = rig.command(stranger, "program", {"rate": "1 mg/day"})
    assert_rejected(rig, frame, ErrorCode.UNKNOWN_KEY)


def test_frame_from_unpaired_device_after_unpairing_is_rejected(rig: Rig) -> None:
    pairing = rig.pair(Role.PATIENT)
    rig.endpoint.unpair(pairing.key_id)
    _, frame = rig.command(pairing)
    assert_rejected(rig, frame, ErrorCode.UNKNOWN_KEY)


def test_forged_frame_naming_a_paired_key_is_rejected(rig: Rig) -> None:
    pairing = rig.pair(Role.PATIENT)
    forged_keys = make_rig().pair(Role.PATIENT)
    from dataclasses import replace

    forged = replace(forged_keys, key_id=pairing.key_id)  # right key id, wrong key
    _, frame = rig.command(forged, "bolus_request")
    assert_rejected(rig, frame, ErrorCode.AUTH_FAILED)


def test_frames_the_pump_never_receives_are_rejected(rig: Rig) -> None:
    pairing = rig.pair(Role.PATIENT)
    _, frame = rig.command(pairing)
    as_reply = bytearray(frame)
    as_reply[3] = FrameType.REPLY
    assert_rejected(rig, bytes(as_reply), ErrorCode.WRONG_DIRECTION)


def test_patient_key_trying_to_program_is_refused(rig: Rig) -> None:
    pairing = rig.pair(Role.PATIENT)
    for command in ("program", "refill", "prime", "interrogate", "alarm_test", "read_log"):
        pairing, frame = rig.command(pairing, command, {"rate": "100 mg/day"})
        reason = assert_refused(rig, frame, pairing, ErrorCode.NOT_PERMITTED)
        assert "patient remote" in reason and "only request a bolus" in reason
    assert rig.handler.calls == []


def test_patient_refusal_reaches_the_client_as_a_typed_error(rig: Rig) -> None:
    secret = rig.open(Role.PATIENT)
    remote = LinkClient(MemoryTransport(rig.endpoint), MemoryClientStore(), rig.clock)
    asyncio.run(remote.pair("remote-1", Role.PATIENT, secret))
    with pytest.raises(RefusedError) as caught:
        asyncio.run(remote.send("program", {"rate": "1 mg/day"}))
    assert caught.value.code is ErrorCode.NOT_PERMITTED
    assert "paired as a patient remote: it can only request a bolus" in str(caught.value)
    assert rig.handler.calls == []


def test_expired_command_is_refused(rig: Rig) -> None:
    pairing = rig.pair(Role.PATIENT)
    pairing, frame = rig.command(pairing, "bolus_request", ttl=30.0)
    rig.clock.advance(30.5)
    reason = assert_refused(rig, frame, pairing, ErrorCode.EXPIRED)
    assert "expired" in reason


def test_command_valid_too_long_is_refused(rig: Rig) -> None:
    pairing = rig.pair(Role.PATIENT)
    pairing, frame = rig.command(pairing, "bolus_request", ttl=3600.0)
    assert_refused(rig, frame, pairing, ErrorCode.EXPIRY_TOO_FAR)


def test_unknown_command_is_refused(rig: Rig) -> None:
    pairing = rig.pair(Role.CLINICIAN)
    pairing, frame = rig.command(pairing, "format_memory")
    assert_refused(rig, frame, pairing, ErrorCode.UNKNOWN_COMMAND)


def assert_pairing_refused(
    rig: Rig, role: Role, code: ErrorCode, secret: bytes = bytes(16)
) -> None:
    before = rig.state()
    attempt = start_pairing("intruder", role, secret)
    answer = rig.endpoint.handle_frame(attempt.request, "attacker")
    assert answer is not None and answer[3] == FrameType.ERROR
    assert rig.state() == before
    event = rig.events.events[-1]
    unproven = code in (ErrorCode.PAIRING_NOT_OPEN, ErrorCode.PAIRING_WINDOW_CLOSED)
    kind = SecurityEventKind.PAIRING_REFUSED if unproven else SecurityEventKind.PAIRING_FAILED
    assert (event.kind, event.code) == (kind, code)  # proved the secret: logged one by one
    with pytest.raises(RefusedError) as caught:
        attempt.finish(answer)
    assert caught.value.code is code


def test_pairing_without_presence_is_refused(rig: Rig) -> None:
    assert_pairing_refused(rig, Role.CLINICIAN, ErrorCode.PAIRING_NOT_OPEN)
    assert_pairing_refused(rig, Role.PATIENT, ErrorCode.PAIRING_NOT_OPEN)


def test_pairing_in_a_window_for_another_role_is_refused(rig: Rig) -> None:
    # only the holder of the window's secret gets an answer at all; asking for the other role
    # is then refused, and closes the window (one attempt per near-field event)
    secret = rig.open(Role.PATIENT)
    assert_pairing_refused(rig, Role.CLINICIAN, ErrorCode.PAIRING_WRONG_ROLE, secret)
    assert rig.endpoint.window is None
    secret = rig.open(Role.CLINICIAN)
    assert_pairing_refused(rig, Role.PATIENT, ErrorCode.PAIRING_WRONG_ROLE, secret)


def test_pairing_after_the_window_closed_is_refused(rig: Rig) -> None:
    rig.open(Role.PATIENT)
    rig.clock.advance(60.001)
    assert_pairing_refused(rig, Role.PATIENT, ErrorCode.PAIRING_WINDOW_CLOSED)


def test_a_window_pairs_one_device_only(rig: Rig) -> None:
    rig.pair(Role.PATIENT, "remote-1")
    assert_pairing_refused(rig, Role.PATIENT, ErrorCode.PAIRING_NOT_OPEN)


def test_a_tampered_pairing_request_is_dropped_by_the_filter(rig: Rig) -> None:
    """Any byte changed (role, id, the SPAKE2 message) fails the filter MAC: silence, nothing
    logged per frame, the window stays open and the genuine request still pairs."""
    secret = rig.open(Role.PATIENT)
    attempt = start_pairing("remote-1", Role.PATIENT, secret)
    for position in range(HEADER_SIZE, len(attempt.request)):
        tampered = bytearray(attempt.request)
        tampered[position] ^= 0x01
        logged = len(rig.events.events)
        assert rig.endpoint.handle_frame(bytes(tampered), "mitm") is None
        assert len(rig.events.events) == logged
    assert rig.endpoint.filtered == len(attempt.request) - HEADER_SIZE
    answer = rig.endpoint.handle_frame(attempt.request, "remote")
    assert answer is not None
    attempt.finish(answer)


def test_a_pump_answer_tampered_in_flight_fails_key_confirmation(rig: Rig) -> None:
    secret = rig.open(Role.PATIENT)
    attempt = start_pairing("remote-1", Role.PATIENT, secret)
    answer = rig.endpoint.handle_frame(attempt.request, "remote")
    assert answer is not None
    tampered = bytearray(answer)
    tampered[-40] ^= 0x01  # inside the pump's SPAKE2 message
    with pytest.raises(PairingError) as caught:
        attempt.finish(bytes(tampered))
    assert caught.value.code is ErrorCode.PAIRING_FAILED


def test_replayed_reply_is_rejected_by_the_client(rig: Rig) -> None:
    pairing = rig.pair(Role.PATIENT)
    pairing, frame = rig.command(pairing)
    answer = rig.endpoint.handle_frame(frame)
    assert answer is not None
    advanced, reply = open_reply(pairing, answer)
    assert reply.ok
    pairing2, _frame2 = rig.command(advanced)
    from idds.link import ProtocolError

    with pytest.raises(ProtocolError) as caught:
        open_reply(pairing2, answer)
    assert caught.value.code is ErrorCode.REPLAYED
