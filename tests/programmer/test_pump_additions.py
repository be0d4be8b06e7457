"""The small firmware additions the emulator needs: radio wake-ups charged to the battery,
annotations limited to their kinds, the alarm test, and snapshots that keep them."""

from __future__ import annotations

from fractions import Fraction

import pytest

from idds.link import RateLimits
from idds.pump import EventKind, HardwareSpec, Pump, Refusal, restore, snapshot
from idds.pump.clock import DAY


def test_wake_cost_and_daily_bound() -> None:
    spec = HardwareSpec()
    assert spec.wake_cost_s == Fraction(228, 1000)  # 30 uJ x 7600 s/J
    per_day = RateLimits().max_processed_per_day() * spec.wake_cost_s / DAY
    # at most ~4.6 days of battery life per day (docs/protocol.md, "Rate limiting": the
    # verification budgets that let 4 forged frames/s never deny a paired device)
    assert 4.59 < float(per_day) < 4.61


def test_charged_wakeups_bring_eri_earlier_and_survive_snapshot() -> None:
    pump = Pump.implant(seed=0)
    before = pump.eri_at()
    pump.charge_wakeups(1000)
    assert before - pump.eri_at() == 228
    assert restore(snapshot(pump)).eri_at() == pump.eri_at()
    with pytest.raises(Refusal):
        pump.charge_wakeups(-1)


def test_eri_event_fires_at_the_charged_time() -> None:
    pump = Pump.implant(seed=0, spec=HardwareSpec(stall_hazard_per_day=0))
    pump.charge_wakeups(1_000_000)  # 228 000 s of life
    pump.advance(pump.spec.eri_at_s - 228_000)
    assert pump.state.eri


def test_annotations_only_of_their_kinds_and_alarm_test_logged() -> None:
    pump = Pump.implant(seed=0)
    pump.annotate(EventKind.LIBRARY_OVERRIDE, device_reason="tolerant")
    with pytest.raises(Refusal):
        pump.annotate(EventKind.BOLUS_STARTED, kind="patient")
    assert pump.alarm_test()
    kinds = [e.kind for e in pump.log]
    assert EventKind.LIBRARY_OVERRIDE in kinds and EventKind.ALARM_TEST in kinds
    assert EventKind.BOLUS_STARTED not in kinds and pump.log.verify().ok
