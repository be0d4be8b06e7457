"""Wake-up rate limiting (ref, security, Halperin 2008: repeated requests drain the battery)."""

from __future__ import annotations

import os

import pytest

from idds.link import ErrorCode, RateLimits, Role, SecurityEventKind
from idds.link.ratelimit import TokenBucket
from tests.link.link_helpers import make_rig


def test_token_bucket_burst_then_refill_in_seconds() -> None:
    bucket = TokenBucket.full(3, per_minute=6.0)  # one token per 10 s
    assert [bucket.take(0.0) for _ in range(4)] == [True, True, True, False]
    assert not bucket.take(9.9)
    assert bucket.take(10.0)
    assert not bucket.take(10.0)


def test_token_bucket_does_not_mint_tokens_when_the_clock_steps_back() -> None:
    bucket = TokenBucket.full(1, per_minute=60.0)
    assert bucket.take(100.0)
    assert not bucket.take(50.0)
    assert not bucket.take(100.5)
    assert bucket.take(101.0)


def test_stated_bound() -> None:
    limits = RateLimits()
    # shared 10/min + 4 keys x verification 300/min for a day, plus the bursts (10 + 4 x 20)
    assert limits.max_processed_per_day() == 1210 * 1440 + 90 == 1_742_490
    assert limits.max_processed(0.0) == 90
    # each pairing window (60 s) adds at most what the radio can carry in it (500 frames/s)
    assert limits.max_processed_per_day(windows=1) == 1_742_490 + 60 * 500
    assert limits.tolerates_forgery(4.0) and not limits.tolerates_forgery(4.6)
    with pytest.raises(ValueError):
        RateLimits(paired_per_minute=0)
    with pytest.raises(ValueError):
        RateLimits(verify_burst=0)


def test_excess_frames_are_dropped_before_parsing_or_crypto(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import idds.link.endpoint as endpoint_module

    parsed: list[int] = []
    real_parse = endpoint_module.parse_frame

    def counting_parse(data: bytes) -> object:
        parsed.append(len(data))
        return real_parse(data)

    monkeypatch.setattr(endpoint_module, "parse_frame", counting_parse)
    rig = make_rig(limits=RateLimits())
    for _ in range(1000):
        assert rig.endpoint.handle_frame(os.urandom(60), "flood") is None
    stats = rig.endpoint.stats
    assert len(parsed) == stats.processed == RateLimits().unauthenticated_burst
    assert stats.dropped_unauthenticated == 1000 - stats.processed
    limited = [e for e in rig.events.events if e.kind is SecurityEventKind.RATE_LIMITED]
    assert len(limited) == 1 and limited[0].code is ErrorCode.RATE_LIMITED  # once per dry spell
    assert limited[0].kind.aggregated  # and the emulator's sink only counts it


def test_garbage_flood_does_not_starve_a_paired_device() -> None:
    limits = RateLimits()
    rig = make_rig(limits=limits)
    remote = rig.pair(Role.PATIENT)
    start = rig.clock()
    delivered = 0
    for _ in range(60):  # ten minutes, a command every 10 s, 200 bad frames in between
        for i in range(200):
            junk = os.urandom(40) if i % 2 else b"ID\x02\x03" + os.urandom(60)
            rig.endpoint.handle_frame(junk, "flood")
        remote, frame = rig.command(remote)
        assert rig.endpoint.handle_frame(frame, "remote") is not None
        delivered += 1
        rig.clock.advance(10.0)
    assert len(rig.handler.calls) == delivered == 60
    elapsed = rig.clock() - start
    assert rig.endpoint.stats.processed <= limits.max_processed(elapsed)
    assert rig.endpoint.stats.dropped_unauthenticated > 10_000


def test_a_chatty_paired_device_is_bounded_too() -> None:
    limits = RateLimits()
    rig = make_rig(limits=limits)
    remote = rig.pair(Role.PATIENT)
    answered = 0
    for _ in range(100):
        remote, frame = rig.command(remote)
        answered += rig.endpoint.handle_frame(frame) is not None
    assert answered == limits.paired_burst
    assert rig.endpoint.stats.dropped_paired == 100 - limits.paired_burst
