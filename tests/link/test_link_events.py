"""Aggregated security events (issue 13, finding 3): unauthenticated input becomes counters,
written at most once a minute; the emulator's security log is bounded in bytes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from idds.emulator.securitylog import SecurityLog
from idds.link import (
    AggregatingSink,
    ErrorCode,
    MemoryEventSink,
    RateLimits,
    Role,
    SecurityEvent,
    SecurityEventKind,
)
from idds.link.session import start_pairing
from tests.link.link_helpers import FakeClock, make_rig

DAY = 86400.0


def test_three_days_of_refused_pairing_requests_are_bounded_summaries() -> None:
    """The finding: one refused request every 6 s (the old budget's rate) for three days was
    43 200 pump-log entries and pump.json rewrites. Now: at most one summary a minute."""
    clock = FakeClock(0.0)
    inner = MemoryEventSink()
    rig = make_rig(limits=RateLimits(), clock=clock, events=AggregatingSink(inner))
    request = start_pairing("intruder", Role.CLINICIAN, os.urandom(16)).request
    frames = 0
    while clock() < 3 * DAY:
        rig.endpoint.handle_frame(request, "attacker")
        frames += 1
        clock.advance(6.0)
    assert frames == 43_200
    assert all(e.kind is SecurityEventKind.SUMMARY for e in inner.events)
    assert len(inner.events) <= 3 * 1440 + 1
    refused = sum(int(part.split("=")[1]) for e in inner.events
                  for part in e.detail.split(";")[0].split(", ")
                  if part.startswith("pairing_refused:PAIRING_NOT_OPEN="))
    assert refused >= 0.99 * frames  # counted (a few fell just short of a token: dropped)


def test_aggregating_sink_passes_audit_events_and_summarises_at_most_once_a_minute() -> None:
    inner = MemoryEventSink()
    sink = AggregatingSink(inner)
    audit = SecurityEvent(0.0, "k", SecurityEventKind.PAIRED, ErrorCode.OK, "remote")
    sink.record(audit)
    for i in range(1000):
        sink.record(SecurityEvent(1.0 + i * 0.01, f"tcp:{i}", SecurityEventKind.REJECTED,
                                  ErrorCode.BAD_MAGIC))
    assert inner.events[0] == audit
    assert len(inner.events) == 2  # the first counted event is summarised at once
    sink.tick(30.0)
    assert len(inner.events) == 2
    sink.tick(61.0)
    assert len(inner.events) == 3
    assert inner.events[2].detail == "rejected:BAD_MAGIC=999; from 999 peers"
    sink.flush(62.0)
    assert len(inner.events) == 3  # nothing pending


def test_security_log_rotates_under_its_byte_cap(tmp_path: Path) -> None:
    log = SecurityLog(tmp_path / "security.jsonl", max_bytes=16 * 1024)
    for i in range(2000):
        log.record(SecurityEvent(float(i), "k", SecurityEventKind.REFUSED,
                                 ErrorCode.NOT_PERMITTED, "x" * (i % 300)))
    files = list(tmp_path.glob("security.jsonl*"))
    assert {p.name for p in files} == {"security.jsonl", "security.jsonl.1"}
    assert sum(p.stat().st_size for p in files) <= 16 * 1024
    last = json.loads(log.path.read_text().splitlines()[-1])
    assert last["time"] == 1999.0 and log.rotations > 0
    huge = SecurityEvent(0.0, "k", SecurityEventKind.REFUSED, ErrorCode.OK, "y" * 100_000)
    log.record(huge)
    assert sum(p.stat().st_size for p in tmp_path.glob("security.jsonl*")) <= 16 * 1024
    with pytest.raises(ValueError):
        SecurityLog(tmp_path / "other.jsonl", max_bytes=100)
