"""The emulated pump's calendar clock (issue 14: log and interrogation times were "day 3
22:44:31+0.200s"): set at implant from the wall clock, pump time 0 = that day's midnight, a
fixed UTC offset; what the programmer accepts as the pump's epoch."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from fractions import Fraction
from pathlib import Path

import pytest

from idds.emulator.secure import SecureElement
from idds.emulator.server import open_pump
from idds.emulator.statedir import StateDir
from idds.link.atomic import dump_json
from idds.programmer.status import parse_epoch, parse_status
from idds.protocol.wire import WireError
from idds.pump.clock import clock_offset, format_clock, format_time

BERLIN_WINTER = timezone(timedelta(hours=1))


def test_calendar_times_read_as_dates_with_milliseconds_only_when_needed() -> None:
    epoch = datetime(2026, 12, 2, tzinfo=BERLIN_WINTER)
    assert format_clock(Fraction(8 * 3600 + 30 * 60), epoch) == "2026-12-02 08:30:00"
    assert format_clock(3 * 86400 + Fraction(1, 5), epoch) == "2026-12-05 00:00:00.200"
    assert format_clock(Fraction(3600), None) == format_time(Fraction(3600)) == "day 1 01:00:00"
    assert clock_offset(epoch) == "UTC+01:00" and clock_offset(None) == ""
    far = format_clock(Fraction(10**12), epoch)  # past year 9999: simulation days, no crash
    assert far.startswith("day ")


def _state(tmp_path: Path) -> StateDir:
    state = StateDir(tmp_path / "state", SecureElement(tmp_path / "se", tmp_path / "state"))
    state.lock()
    state.open_element()
    return state


def test_the_pump_starts_at_the_time_of_day_it_is_and_keeps_its_epoch(tmp_path: Path) -> None:
    now = datetime(2026, 12, 2, 10, 41, 31, tzinfo=BERLIN_WINTER)  # a Wednesday
    state = _state(tmp_path)
    pump, identity, restarted = open_pump(state, 3, now)
    assert not restarted
    assert identity.clock_epoch == datetime(2026, 12, 2, tzinfo=BERLIN_WINTER)
    assert pump.now == 10 * 3600 + 41 * 60 + 31 and pump.state.epoch_weekday == 2
    assert format_clock(pump.now, identity.clock_epoch) == "2026-12-02 10:41:31"
    later = now + timedelta(days=3)  # a restart: the epoch is the implant day's, kept
    _, again, restarted = open_pump(state, 3, later)
    assert restarted and again == identity


def test_a_directory_made_before_the_calendar_has_no_epoch(tmp_path: Path) -> None:
    state = _state(tmp_path)
    state.sealed.write(state.identity_path, dump_json({"pump_id": "pump-old", "seed": 1}))
    identity, made = state.identity(1, datetime(2026, 12, 2, tzinfo=BERLIN_WINTER))
    assert not made and identity.clock_epoch is None and identity.pump_id == "pump-old"


@pytest.mark.parametrize("text", ["2026-12-02T00:00:00", "9999-12-31T00:00:00+00:00",
                                  "not a date", "x" * 41, 1234])
def test_the_programmer_refuses_an_epoch_it_cannot_show(text: object) -> None:
    with pytest.raises(WireError, match="clock_epoch"):
        parse_epoch(text)


def test_alarm_times_from_seconds_or_from_an_older_pumps_text() -> None:
    from tests.emulator.test_service_atomic import Bench

    raw = Bench().send("interrogate")
    raw = {**raw, "clock_epoch": "2026-12-02T00:00:00+01:00",
           "alarms": [{"kind": "low reservoir", "raised_s": 3600},
                      {"kind": "end of service", "raised": "day 2 00:00:00"}]}
    status = parse_status(raw)
    assert "since 2026-12-02 01:00:00" in status.alarms[0]
    assert "since day 2 00:00:00" in status.alarms[1]
