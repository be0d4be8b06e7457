"""Admission (issue 13, finding 3): forged frames naming a paired key cannot use up its
commands, replays cost no budget, pairing requests have their own budget only while a window is
open, and, whatever an unauthenticated sender does, a paired device within its budget is
always answered (hypothesis)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from idds.link import ErrorCode, FrameType, RateLimits, Role, SecurityEventKind
from idds.link.frame import HEADER_SIZE, MAGIC, VERSION
from idds.link.ratelimit import SPOOF_TOLERANCE_PER_SECOND, TokenBucket
from idds.link.session import start_pairing
from tests.link.link_helpers import Rig, make_rig


def forged(key_id: bytes, counter: int, size: int = 60) -> bytes:
    """A COMMAND frame naming `key_id` with a well-formed header and a random 'tag'."""
    payload = os.urandom(size)
    return (MAGIC + bytes([VERSION, FrameType.COMMAND]) + key_id + counter.to_bytes(8, "big")
            + len(payload).to_bytes(2, "big") + payload)


def test_forged_frames_naming_a_key_at_4_per_second_do_not_deny_its_boluses() -> None:
    limits = RateLimits()
    rig = make_rig(limits=limits)
    remote = rig.pair(Role.PATIENT)
    answered = 0
    for second in range(600):  # ten minutes of 4 forged frames a second
        for quarter in range(4):
            assert rig.endpoint.handle_frame(forged(remote.key_id, 10**6 + second), "forger") \
                is None
            rig.clock.advance(0.25)
            if quarter == 0 and second % 20 == 0:  # a bolus request every 20 s
                remote, frame = rig.command(remote)
                answered += rig.endpoint.handle_frame(frame, "remote") is not None
    assert answered == 30 == len(rig.handler.calls)
    codes = rig.events.codes()
    assert codes.count(ErrorCode.AUTH_FAILED) == 2400  # every forgery was verified: the cost
    assert ErrorCode.RATE_LIMITED not in codes


def test_a_faster_forger_can_only_deny_like_jamming_and_the_budget_bounds_it() -> None:
    limits = RateLimits()
    rig = make_rig(limits=limits)
    remote = rig.pair(Role.PATIENT)
    start = rig.clock()
    for _ in range(6000):  # 100 forged frames a second for a minute
        rig.endpoint.handle_frame(forged(remote.key_id, 5), "forger")
        rig.clock.advance(0.01)
    stats = rig.endpoint.stats
    assert stats.processed <= limits.max_processed(rig.clock() - start) + 2  # + the pairing
    assert stats.dropped_paired >= 6000 - 20 - 300
    assert len(rig.handler.calls) == 0
    rig.clock.advance(10.0)  # the forger stops: the device is answered at once
    remote, frame = rig.command(remote)
    assert rig.endpoint.handle_frame(frame, "remote") is not None


def test_replays_of_a_paired_key_cost_no_budget_and_no_crypto() -> None:
    rig = make_rig(limits=RateLimits())
    remote = rig.pair(Role.PATIENT)
    remote, frame = rig.command(remote)
    assert rig.endpoint.handle_frame(frame) is not None
    processed = rig.endpoint.stats.processed
    for _ in range(1000):
        assert rig.endpoint.handle_frame(frame, "replayer") is None
    assert rig.endpoint.stats.processed == processed  # not even the verification budget
    assert rig.events.codes()[-1] is ErrorCode.REPLAYED
    remote, frame = rig.command(remote)
    assert rig.endpoint.handle_frame(frame) is not None


def test_pairing_requests_are_examined_only_while_a_window_is_open() -> None:
    limits = RateLimits()
    rig = make_rig(limits=limits)
    spam = start_pairing("spammer", Role.CLINICIAN, os.urandom(16)).request
    for _ in range(200):  # no window: the shared budget, answered PAIRING_NOT_OPEN at most 10x
        rig.endpoint.handle_frame(spam, "spammer")
    assert rig.endpoint.stats.processed == limits.unauthenticated_burst
    secret = rig.open(Role.CLINICIAN)
    for _ in range(200):  # in a window: each examined (one HMAC), dropped by the filter
        assert rig.endpoint.handle_frame(spam, "spammer") is None
    assert rig.endpoint.stats.processed == limits.unauthenticated_burst + 200
    assert rig.endpoint.filtered == 200
    answer = rig.endpoint.handle_frame(start_pairing("programmer", Role.CLINICIAN,
                                                     secret).request)
    assert answer is not None and answer[3] == FrameType.PAIR_ACCEPT  # never starved
    garbage_after = rig.endpoint.handle_frame(os.urandom(40), "flood")
    assert garbage_after is None and rig.endpoint.stats.dropped_unauthenticated > 0


def test_authenticated_frames_spend_the_command_budget_after_verifying() -> None:
    limits = RateLimits()
    rig = make_rig(limits=limits)
    remote = rig.pair(Role.PATIENT)
    answers = []
    for _ in range(15):
        remote, frame = rig.command(remote)
        answers.append(rig.endpoint.receive(frame, "remote"))
    assert [a.answer is not None for a in answers] == [True] * 10 + [False] * 5
    assert all(a.authenticated for a in answers)  # authentic even when dropped
    assert rig.counters.get(remote.key_id, _device_to_pump()) == remote.send_counter  # hwm stored
    limited = [e for e in rig.events.events if e.kind is SecurityEventKind.RATE_LIMITED]
    assert len(limited) == 1 and limited[0].detail.startswith("command")


def _device_to_pump() -> object:
    from idds.link.aead import Direction

    return Direction.DEVICE_TO_PUMP


ATTACKS = st.sampled_from(["garbage", "unknown", "pair", "replay", "forge", "truncated"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.floats(0.0, 3.0), ATTACKS, st.integers(1, 40),
                          st.booleans()), min_size=1, max_size=60),
       st.booleans())
def test_a_paired_device_within_its_budget_is_always_admitted(
    steps: list[tuple[float, str, int, bool]], window: bool,
) -> None:
    """Any unauthenticated traffic (unlimited garbage, unknown keys, pairing requests, replays;
    forgeries naming the device's key at up to 4/s, burst 4): every command the device sends
    within its own command budget is answered."""
    limits = RateLimits()
    rig = make_rig(limits=limits)
    remote = rig.pair(Role.PATIENT)
    if window:
        rig.open(Role.CLINICIAN)
    device = TokenBucket.full(limits.paired_burst, limits.paired_per_minute)
    forger = TokenBucket.full(int(SPOOF_TOLERANCE_PER_SECOND), SPOOF_TOLERANCE_PER_SECOND * 60)
    sent: list[bytes] = []
    for gap, attack, repeat, legit in steps:
        rig.clock.advance(gap)
        for _ in range(repeat):
            frame = _attack(rig, attack, remote.key_id, sent, forger)
            if frame is not None:
                rig.endpoint.handle_frame(frame, "attacker")
        if legit and device.take(rig.clock()):  # the device keeps to its budget
            remote, frame = rig.command(remote)
            sent.append(frame)
            assert rig.endpoint.handle_frame(frame, "remote") is not None


def _attack(rig: Rig, attack: str, key_id: bytes, sent: list[bytes],
            forger: TokenBucket) -> bytes | None:
    if attack == "garbage":
        return os.urandom(50)
    if attack == "unknown":
        return forged(os.urandom(8), 7)
    if attack == "pair":
        return start_pairing("intruder", Role.CLINICIAN, os.urandom(16)).request
    if attack == "replay":
        return sent[-1] if sent else None
    if attack == "truncated":
        return forged(key_id, 10**9)[: HEADER_SIZE + 3]
    return forged(key_id, 10**9) if forger.take(rig.clock()) else None
