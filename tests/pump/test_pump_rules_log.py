"""The pure rule functions, alarm tones and the hash-chained log."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

import pytest

from idds.pump import ALARM_SPECS, ActiveAlarm, AlarmKind, EventKind, EventLog, Priority, rules
from idds.pump.alarms import tone_times
from idds.pump.clock import DAY, HOUR, MINUTE
from idds.pump.errors import Limit
from idds.pump.log import verify_chain
from idds.pump.program import Continuous, Flex, FlexStep, MinimumRate, Stopped
from tests.pump.pump_helpers import q


def test_flex_step_lookup_and_boundaries() -> None:
    day = (FlexStep(0, q("1 mg/day")), FlexStep(480, q("2 mg/day")), FlexStep(1200,
                                                                              q("3 mg/day")))
    assert rules.flex_step_at((day,), 3, Fraction(479 * 60)).start_minute == 0
    assert rules.flex_step_at((day,), 3, Fraction(480 * 60)).start_minute == 480
    assert rules.flex_step_at((day,), 3, Fraction(86399)).start_minute == 1200
    assert rules.next_flex_boundary((day,), 0, Fraction(0)) == 480 * MINUTE
    assert rules.next_flex_boundary((day,), 0, Fraction(1300 * 60)) == DAY - 1300 * MINUTE
    assert rules.flex_schedule_problem((day,), 13) is None
    assert rules.flex_schedule_problem((day[1:],), 13) is not None
    assert rules.flex_schedule_problem((day, day), 13) is not None


def test_basal_flow_modes() -> None:
    conc = Fraction(10)  # 10 mg/mL = 10 ng/nL
    assert rules.basal_flow(Stopped(), conc, 0, Fraction(0), Fraction(1)) == 0
    assert rules.basal_flow(MinimumRate(), conc, 0, Fraction(0), Fraction(1)) == 1
    # 1 mg/day at 10 mg/mL = 0.1 mL/day = 100000 nL/day
    assert rules.basal_flow(Continuous(q("1 mg/day")), conc, 0, Fraction(0),
                            Fraction(1)) == Fraction(100_000) / DAY
    flex = Flex(((FlexStep(0, q("1 mg/day")), FlexStep(720, q("3 mg/day"))),))
    assert rules.mean_basal_flow(flex, conc, Fraction(0)) == Fraction(200_000) / DAY


def test_lockout_and_max_per_24h() -> None:
    starts = [Fraction(0), Fraction(2 * HOUR)]
    assert rules.lockout_ends_at(None, HOUR) is None
    assert rules.demand_refusal(starts, Fraction(2 * HOUR + 1), HOUR, 4, DAY) \
        is Limit.LOCKOUT_ACTIVE
    assert rules.demand_refusal(starts, Fraction(3 * HOUR), HOUR, 4, DAY) is None
    assert rules.demand_refusal(starts, Fraction(3 * HOUR), HOUR, 2, DAY) \
        is Limit.MAX_PER_24H_REACHED
    assert rules.boluses_in_window(starts, DAY, DAY) == 1  # the one at 0 is exactly 24 h old


def test_stroke_volume_never_negative_and_bounded() -> None:
    assert rules.stroke_volume_nl(2000, 0.0, 0.0) == 2000
    assert rules.stroke_volume_nl(2000, 0.145, 1.0) == round(2000 * 1.145 * 1.06)
    assert rules.stroke_volume_nl(2000, -0.145, -5.0) > 0
    assert rules.next_stroke_at(Fraction(0), Fraction(0), 2000, Fraction(0)) is None
    assert rules.next_stroke_at(Fraction(10), Fraction(500), 2000, Fraction(3)) == 510


def test_catheter_volume_and_refill_mismatch() -> None:
    assert rules.catheter_volume_nl(Fraction(40)) == 182_000
    assert not rules.refill_mismatch(10_000_000, 9_500_000, 10_000_000)
    assert rules.refill_mismatch(10_000_000, 0, 10_000_000)
    assert rules.refill_mismatch(16_000_000, 2_000_000, 4_000_000)  # the 14 mL gap


def test_alarm_table_priorities() -> None:
    critical = {k for k, s in ALARM_SPECS.items() if s.critical}
    assert critical == {AlarmKind.EMPTY_RESERVOIR, AlarmKind.END_OF_SERVICE,
                        AlarmKind.MOTOR_STALL, AlarmKind.CRITICAL_MEMORY_ERROR}
    assert all(ALARM_SPECS[k].priority is Priority.HIGH and ALARM_SPECS[k].stops_infusion
               for k in critical)
    assert ALARM_SPECS[AlarmKind.LOW_RESERVOIR].repeat_s == HOUR


def test_tones_repeat_and_acknowledgement_only_snoozes() -> None:
    alarm = ActiveAlarm(AlarmKind.LOW_RESERVOIR, Fraction(0))
    assert len(tone_times(alarm, Fraction(0), 5 * HOUR)) == 5
    acked = replace(alarm, acknowledged_at=Fraction(30 * MINUTE))
    assert tone_times(acked, Fraction(0), DAY) == [Fraction(0)]
    later = tone_times(acked, DAY, 2 * DAY)
    assert len(later) == 23  # resumes after the 24 h snooze: never silenced for good
    critical = ActiveAlarm(AlarmKind.EMPTY_RESERVOIR, Fraction(5))
    assert len(tone_times(critical, Fraction(0), HOUR)) == 6


def make_log() -> EventLog:
    log = EventLog()
    for i in range(5):
        log.append(Fraction(i * 60), EventKind.PROGRAM_CHANGED, {"old": i, "new": i + 1})
    return log


def test_log_verifies_and_detects_edit_insert_delete() -> None:
    log = make_log()
    entries = list(log.entries)
    assert log.verify(log.head).ok
    edited = entries.copy()
    edited[2] = replace(edited[2], details=(("new", "99"), ("old", "2")))
    assert verify_chain(edited).bad_index == 2
    inserted = [*entries[:2], entries[1], *entries[2:]]
    assert not verify_chain(inserted).ok
    deleted = entries[:2] + entries[3:]
    assert not verify_chain(deleted).ok
    truncated = entries[:-1]
    assert verify_chain(truncated).ok  # a chain alone cannot see a cut tail...
    assert not verify_chain(truncated, head=log.head).ok  # ...the recorded head can
    rehashed = entries.copy()
    rehashed[4] = replace(rehashed[4], time=Fraction(1))
    assert not verify_chain(rehashed).ok


@pytest.mark.parametrize("kind", list(AlarmKind))
def test_every_alarm_has_behaviour(kind: AlarmKind) -> None:
    spec = ALARM_SPECS[kind]
    assert spec.repeat_s > 0 and spec.snooze_s > 0 and spec.resolved_by
