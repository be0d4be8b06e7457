"""Issue 13, findings 1 and 2 in process: pairing needs the near-field secret (SPAKE2, filter
MAC, one attempt per window), the role and device id are bound into every sealed frame, a
device id cannot be re-paired under another role, and `pairings` / `unpair` are clinician-only
link commands, audited."""

from __future__ import annotations

import os
from dataclasses import replace

import pytest

from idds.link import (
    ErrorCode,
    FrameType,
    MemoryPairingStore,
    PairingError,
    RefusedError,
    Role,
    SecurityEventKind,
)
from idds.link.frame import HEADER_SIZE
from idds.link.session import open_reply, start_pairing
from tests.link.link_helpers import Rig, make_rig


def test_requests_without_the_secret_are_dropped_unlogged_and_leave_the_window_open(
    rig: Rig,
) -> None:
    secret = rig.open(Role.CLINICIAN)
    logged = len(rig.events.events)
    for _ in range(200):  # an attacker on the radio, guessing
        attempt = start_pairing("attacker", Role.CLINICIAN, os.urandom(16))
        assert rig.endpoint.handle_frame(attempt.request, "attacker") is None
    assert len(rig.events.events) == logged  # counted, never logged one by one
    assert rig.endpoint.filtered == 200 and rig.endpoint.paired() == []
    assert rig.endpoint.window_open(rig.clock())
    genuine = start_pairing("programmer-1", Role.CLINICIAN, secret)
    answer = rig.endpoint.handle_frame(genuine.request, "programmer")
    assert answer is not None
    pairing = genuine.finish(answer)
    assert [p.device_id for p in rig.endpoint.paired()] == ["programmer-1"]
    assert "200 requests without the near-field secret" in rig.events.events[-1].detail
    assert not rig.endpoint.window_open(rig.clock())  # one success closes it
    _, frame = rig.command(pairing, "interrogate")
    assert rig.endpoint.handle_frame(frame) is not None


def test_a_failed_attempt_by_the_secret_holder_closes_the_window(rig: Rig) -> None:
    secret = rig.open(Role.PATIENT)
    bad = bytearray(start_pairing("remote-1", Role.PATIENT, secret).request)
    spake_at = len(bad) - 32 - 33 + 1  # the SPAKE2 element, after its side byte
    bad[spake_at : spake_at + 32] = bytes(32)  # not a usable element (MAC recomputed below)
    from idds.link.keys import filter_key, request_mac

    bad[-32:] = request_mac(filter_key(secret), bytes(bad[:-32]))
    answer = rig.endpoint.handle_frame(bytes(bad), "remote")
    assert answer is not None and answer[3] == FrameType.ERROR
    assert rig.events.events[-1].code is ErrorCode.PAIRING_FAILED
    assert rig.endpoint.window is None
    again = start_pairing("remote-1", Role.PATIENT, secret)  # a second try needs the wand again
    with pytest.raises(RefusedError) as caught:
        again.finish(rig.endpoint.handle_frame(again.request, "remote") or b"")
    assert caught.value.code is ErrorCode.PAIRING_NOT_OPEN


def test_a_replayed_pairing_request_gives_the_attacker_nothing(rig: Rig) -> None:
    # replayed after the genuine pairing: the window is closed
    secret = rig.open(Role.CLINICIAN)
    genuine = start_pairing("programmer-1", Role.CLINICIAN, secret)
    answer = rig.endpoint.handle_frame(genuine.request, "programmer")
    assert answer is not None
    pairing = genuine.finish(answer)
    before = rig.state()
    replayed = rig.endpoint.handle_frame(genuine.request, "attacker")
    assert replayed is not None and replayed[3] == FrameType.ERROR
    assert rig.state() == before

    # replayed first (the genuine frame jammed): the pump answers, but nobody without the
    # device's SPAKE2 state and the secret can use the answer
    other = make_rig()
    secret2 = other.open(Role.CLINICIAN)
    captured = start_pairing("programmer-2", Role.CLINICIAN, secret2)
    accept = other.endpoint.handle_frame(captured.request, "attacker")
    assert accept is not None and accept[3] == FrameType.PAIR_ACCEPT
    for guess in (os.urandom(16), secret):  # even the secret alone does not give the key
        attacker = start_pairing("programmer-2", Role.CLINICIAN, guess)
        forged = replace(attacker, request=captured.request)
        with pytest.raises(PairingError):
            forged.finish(accept)
    assert pairing.key_id not in {p.key_id for p in other.endpoint.paired()}


def test_an_edited_stored_role_or_device_id_fails_authentication() -> None:
    store = MemoryPairingStore()
    rig = make_rig(pairings=store)
    remote = rig.pair(Role.PATIENT, "remote-1")
    (record,) = store.pairings.values()
    for edited in (replace(record, role=Role.CLINICIAN),
                   replace(record, device_id="programmer-1")):
        store.pairings[record.key_id] = edited  # someone with the state files
        restarted = make_rig(pairings=store, counters=rig.counters, clock=rig.clock)
        for command in ("program", "bolus_request"):
            remote, frame = restarted.command(remote, command)
            assert restarted.endpoint.handle_frame(frame, "remote") is None
            assert restarted.events.events[-1].code is ErrorCode.AUTH_FAILED
        assert restarted.handler.calls == []
    # and the device cannot promote itself by editing its own record either
    store.pairings[record.key_id] = record
    restarted = make_rig(pairings=store, counters=rig.counters, clock=rig.clock)
    promoted, frame = restarted.command(replace(remote, role=Role.CLINICIAN), "program")
    assert restarted.endpoint.handle_frame(frame, "remote") is None
    assert restarted.handler.calls == []
    remote = replace(promoted, role=Role.PATIENT)  # the genuine record still works
    _, frame = restarted.command(remote, "bolus_request")
    answer = restarted.endpoint.handle_frame(frame, "remote")
    assert answer is not None and [c.command for c in restarted.handler.calls] == [
        "bolus_request"]


def test_a_device_id_paired_as_clinician_cannot_be_re_paired_as_patient(rig: Rig) -> None:
    programmer = rig.pair(Role.CLINICIAN, "programmer-1")
    secret = rig.open(Role.PATIENT)
    attempt = start_pairing("programmer-1", Role.PATIENT, secret)
    answer = rig.endpoint.handle_frame(attempt.request, "patient-window")
    assert answer is not None
    with pytest.raises(RefusedError) as caught:
        attempt.finish(answer)
    assert caught.value.code is ErrorCode.PAIRING_ROLE_TAKEN
    assert "unpair it first" in caught.value.reason
    assert [(p.device_id, p.role) for p in rig.endpoint.paired()] == [
        ("programmer-1", Role.CLINICIAN)]
    assert rig.endpoint.window is None  # a failed attempt closes the window
    _, frame = rig.command(programmer, "program")
    assert rig.endpoint.handle_frame(frame) is not None
    assert [c.command for c in rig.handler.calls] == ["program"]


def test_re_pairing_in_the_same_role_replaces_and_is_audited(rig: Rig) -> None:
    old = rig.pair(Role.PATIENT, "remote-1")
    new = rig.pair(Role.PATIENT, "remote-1")
    assert [p.key_id for p in rig.endpoint.paired()] == [new.key_id]
    unpaired = [e for e in rig.events.events if e.kind is SecurityEventKind.UNPAIRED]
    assert [e.peer for e in unpaired] == [old.key_id.hex()]
    assert "re-pairing remote-1" in unpaired[0].detail


def send(rig: Rig, pairing: object, command: str, args: dict[str, object] | None = None
         ) -> tuple[object, object]:
    advanced, frame = rig.command(pairing, command, args)  # type: ignore[arg-type]
    answer = rig.endpoint.handle_frame(frame, "device")
    assert answer is not None
    return open_reply(advanced, answer)


def test_pairings_and_unpair_are_clinician_link_commands_and_audited(rig: Rig) -> None:
    programmer = rig.pair(Role.CLINICIAN, "programmer-1")
    remote = rig.pair(Role.PATIENT, "remote-1")
    spare = rig.pair(Role.PATIENT, "remote-2")
    programmer, reply = send(rig, programmer, "pairings")
    listed = reply.result["pairings"]  # type: ignore[attr-defined]
    assert [(p["device_id"], p["role"]) for p in listed] == [
        ("programmer-1", "clinician"), ("remote-1", "patient"), ("remote-2", "patient")]
    assert all(set(p) == {"key_id", "device_id", "role", "paired_at"} for p in listed)
    # a patient remote may do neither
    for command, args in (("pairings", {}), ("unpair", {"device": "programmer-1"})):
        remote, reply = send(rig, remote, command, args)
        assert reply.code == ErrorCode.NOT_PERMITTED  # type: ignore[attr-defined]
    assert len(rig.endpoint.paired()) == 3
    # by device id, then by key id
    programmer, reply = send(rig, programmer, "unpair", {"device": "remote-1"})
    assert reply.ok  # type: ignore[attr-defined]
    programmer, reply = send(rig, programmer, "unpair", {"device": spare.key_id.hex()})
    assert reply.ok  # type: ignore[attr-defined]
    assert [p.device_id for p in rig.endpoint.paired()] == ["programmer-1"]
    unpaired = [e for e in rig.events.events if e.kind is SecurityEventKind.UNPAIRED]
    assert [e.peer for e in unpaired] == [
        remote.key_id.hex(), spare.key_id.hex()]  # type: ignore[attr-defined]
    assert all("by programmer-1 (clinician programmer)" in e.detail for e in unpaired)
    _, frame = rig.command(remote, "bolus_request")  # type: ignore[arg-type]
    assert rig.endpoint.handle_frame(frame) is None  # revoked: UNKNOWN_KEY, silence
    # nothing to unpair: refused, nothing changed
    programmer, reply = send(rig, programmer, "unpair", {"device": "nobody"})
    assert reply.code == ErrorCode.COMMAND_REFUSED  # type: ignore[attr-defined]
    # a programmer may unpair itself: it still gets its (sealed) answer
    _, reply = send(rig, programmer, "unpair", {"device": "programmer-1"})
    assert reply.ok and rig.endpoint.paired() == []  # type: ignore[attr-defined]
    assert rig.handler.calls == []  # the pump's handler never saw a link command


def test_the_window_and_secret_never_show_the_secret(rig: Rig) -> None:
    secret = rig.open(Role.CLINICIAN)
    assert secret.hex() not in repr(rig.endpoint.window)
    assert secret.hex() not in str(rig.events.events)
    assert HEADER_SIZE == 22


def test_under_the_default_budgets_a_pairing_flood_cannot_starve_the_wand_holder() -> None:
    from idds.link import RateLimits

    rig = make_rig(limits=RateLimits())
    spam = [start_pairing(f"attacker-{i}", Role.CLINICIAN, os.urandom(16)).request
            for i in range(4)]
    for i in range(200):  # before the wand: drains the shared budget
        rig.endpoint.handle_frame(spam[i % 4], "attacker")
    secret = rig.open(Role.CLINICIAN)
    for i in range(2000):  # during the window: every request is examined, none answered
        assert rig.endpoint.handle_frame(spam[i % 4], "attacker") is None
    genuine = start_pairing("programmer-1", Role.CLINICIAN, secret)
    answer = rig.endpoint.handle_frame(genuine.request, "programmer")
    assert answer is not None
    assert genuine.finish(answer).pump_id == "pump-1"
    assert rig.endpoint.filtered == 2000
