"""Roles (one permission table) and pairing (presence, key agreement, role binding)."""

from __future__ import annotations

import asyncio

import pytest

from idds.link import (
    PERMISSIONS,
    ErrorCode,
    LinkClient,
    MemoryClientStore,
    MemoryTransport,
    RefusedError,
    Role,
)
from idds.link.errors import ErrorCode as Codes
from idds.link.roles import permitted, refusal
from idds.link.session import start_pairing
from tests.link.link_helpers import Rig, make_rig

CLINICIAN_ONLY = ["interrogate", "program", "refill", "prime", "alarm_test", "read_log",
                  "record_advice"]


def test_permission_table() -> None:
    for command in CLINICIAN_ONLY:
        assert permitted(Role.CLINICIAN, command)
        assert not permitted(Role.PATIENT, command)
    for command in ("bolus_request", "bolus_status"):
        assert permitted(Role.PATIENT, command) and permitted(Role.CLINICIAN, command)
    assert not permitted(Role.CLINICIAN, "no_such_command")
    for command in ("pairings", "unpair"):  # answered by the link endpoint itself
        assert permitted(Role.CLINICIAN, command) and not permitted(Role.PATIENT, command)
    assert set(PERMISSIONS) == {*CLINICIAN_ONLY, "bolus_ticket", "bolus_request",
                                "bolus_status", "pairings", "unpair"}
    assert "only request a bolus" in refusal(Role.PATIENT, "program")


def test_every_code_has_a_readable_meaning() -> None:
    for code in Codes:
        assert code.meaning and code.meaning[0].islower()
        assert 0 <= int(code) < 2**16


def test_clinician_can_give_every_command_and_handler_sees_role_and_args(rig: Rig) -> None:
    pairing = rig.pair(Role.CLINICIAN, "programmer-1")
    for command in [*CLINICIAN_ONLY, "bolus_request", "bolus_status"]:
        pairing, frame = rig.command(pairing, command, {"value": "1 mL"})
        assert rig.endpoint.handle_frame(frame) is not None
    assert [c.command for c in rig.handler.calls] == [
        *CLINICIAN_ONLY,
        "bolus_request",
        "bolus_status",
    ]
    first = rig.handler.calls[0]
    assert (first.role, first.device_id, first.args) == (
        Role.CLINICIAN,
        "programmer-1",
        {"value": "1 mL"},
    )
    assert [c.counter for c in rig.handler.calls] == list(range(1, len(CLINICIAN_ONLY) + 3))


def test_patient_remote_requests_a_bolus_and_reads_its_outcome(rig: Rig) -> None:
    secret = rig.open(Role.PATIENT)
    remote = LinkClient(MemoryTransport(rig.endpoint), MemoryClientStore(), rig.clock)
    asyncio.run(remote.pair("remote-1", Role.PATIENT, secret))
    assert asyncio.run(remote.send("bolus_request"))["command"] == "bolus_request"
    assert asyncio.run(remote.send("bolus_status"))["command"] == "bolus_status"
    assert [c.role for c in rig.handler.calls] == [Role.PATIENT, Role.PATIENT]


def test_handler_refusal_comes_back_encrypted_with_its_message(rig: Rig) -> None:
    from idds.errors import IddsError
    from idds.link import CommandRequest

    def lockout(request: CommandRequest) -> dict[str, object]:
        raise IddsError("bolus refused: lockout interval, next bolus allowed in 42 min")

    rig.endpoint._handler = lockout  # type: ignore[assignment]
    secret = rig.open(Role.PATIENT)
    remote = LinkClient(MemoryTransport(rig.endpoint), MemoryClientStore(), rig.clock)
    asyncio.run(remote.pair("remote-1", Role.PATIENT, secret))
    with pytest.raises(RefusedError) as caught:
        asyncio.run(remote.send("bolus_request"))
    assert caught.value.code is ErrorCode.COMMAND_REFUSED
    assert "lockout interval" in caught.value.reason


def test_both_sides_derive_the_same_keys(rig: Rig) -> None:
    pairing = rig.pair(Role.PATIENT, "remote-1")
    (pump_side,) = rig.endpoint.paired()
    assert pump_side.key_id == pairing.key_id
    assert pump_side.receive_key == pairing.send_key
    assert pump_side.send_key == pairing.receive_key
    assert pump_side.send_key != pump_side.receive_key
    assert pump_side.role is Role.PATIENT and pairing.role is Role.PATIENT
    assert pairing.send_key.hex() not in str(rig.events.events)  # no key material logged


def test_each_pairing_gets_fresh_keys(rig: Rig) -> None:
    first = rig.pair(Role.PATIENT, "remote-1")
    second = rig.pair(Role.PATIENT, "remote-2")
    assert first.key_id != second.key_id and first.send_key != second.send_key


def test_role_is_bound_to_the_key_until_unpaired(rig: Rig) -> None:
    remote = rig.pair(Role.PATIENT, "remote-1")
    rig.open(Role.CLINICIAN)  # a clinician window does not promote the remote
    remote, frame = rig.command(remote, "program")
    answer = rig.endpoint.handle_frame(frame)
    assert answer is not None and rig.handler.calls == []
    assert rig.events.codes()[-1] is ErrorCode.NOT_PERMITTED


def test_repairing_a_device_replaces_its_old_keys(rig: Rig) -> None:
    old = rig.pair(Role.PATIENT, "remote-1")
    new = rig.pair(Role.PATIENT, "remote-1")
    assert [p.key_id for p in rig.endpoint.paired()] == [new.key_id]
    _, frame = rig.command(old)
    assert rig.endpoint.handle_frame(frame) is None
    assert rig.events.codes()[-1] is ErrorCode.UNKNOWN_KEY


def test_pairing_table_is_bounded() -> None:
    rig = make_rig()
    for i in range(rig.endpoint.limits.max_pairings):
        rig.pair(Role.PATIENT, f"remote-{i}")
    secret = rig.open(Role.PATIENT)
    answer = rig.endpoint.handle_frame(start_pairing("one-too-many", Role.PATIENT, secret).request)
    assert answer is not None
    assert rig.events.codes()[-1] is ErrorCode.PAIRING_FULL


def test_window_accepts_until_its_last_second(rig: Rig) -> None:
    secret = rig.open(Role.PATIENT)
    window = rig.endpoint.window
    assert window is not None and repr(secret) not in repr(window)
    assert window.closes_at - window.opened_at == 60.0
    rig.clock.advance(60.0)
    attempt = start_pairing("remote-1", Role.PATIENT, secret)
    answer = rig.endpoint.handle_frame(attempt.request)
    assert answer is not None
    attempt.finish(answer)


def test_pairing_refusal_reaches_the_client_in_plain_words(rig: Rig) -> None:
    client = LinkClient(MemoryTransport(rig.endpoint), MemoryClientStore(), rig.clock)
    with pytest.raises(RefusedError) as caught:
        asyncio.run(client.pair("programmer-1", Role.CLINICIAN, bytes(16)))
    assert caught.value.code is ErrorCode.PAIRING_NOT_OPEN
    assert "wand (or the remote) over the pump" in str(caught.value)
