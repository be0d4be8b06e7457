"""One home per rule: the firmware and the vectorised twin call the same rule functions."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

import numpy as np
import pytest

from idds.dosing import plan_refill, time_to_alarm
from idds.pump import LIMITS, Limit, rules
from idds.pump import twin as pump_twin
from idds.pump.clock import DAY, HOUR
from idds.pump.rules import firmware_ranges
from tests.pump.pump_helpers import q


def test_lockout_and_window_rules_work_on_exact_times_and_arrays() -> None:
    assert rules.lockout_ends_at(Fraction(HOUR), 2 * HOUR) == 3 * HOUR
    ends = rules.lockout_ends_at(np.array([-np.inf, 60.0]), np.array([120.0, 120.0]))
    assert ends.tolist() == [-np.inf, 180.0]
    assert rules.in_window(Fraction(0), DAY, DAY) is False  # exactly 24 h old: out
    assert rules.in_window(Fraction(1), DAY, DAY) is True
    starts = np.array([[0.0, 1.0, 1440.0, -np.inf]])
    assert rules.in_window(starts, 1440.0, 1440.0).tolist() == [[False, True, True, False]]
    assert rules.lockout_left(None, Fraction(5)) == 0
    assert rules.lockout_left(Fraction(65), Fraction(5)) == 60


def test_range_rules_work_on_exact_values_and_arrays() -> None:
    ranges = firmware_ranges(LIMITS)
    assert not rules.outside(LIMITS.min_flow, ranges.flow)
    assert rules.outside(LIMITS.min_flow - Fraction(1, 10**9), ranges.flow)
    assert rules.outside(0, ranges.max_per_24h) and not rules.outside(24, ranges.max_per_24h)
    flows = np.array([0.047, 0.048, 24.0, 24.1])
    assert rules.outside(flows, pump_twin.RANGES.flow).tolist() == [True, False, False, True]
    assert rules.above_max_flow(LIMITS.max_flow, Fraction(1, 10**9), LIMITS.max_flow)
    assert rules.above_max_flow(np.array([23.0, 23.0]), np.array([1.0, 1.5]),
                                24.0).tolist() == [False, True]


def test_twin_limits_are_the_firmware_limits() -> None:
    """Through `idds.pump.convert`, the same floats the twin had by dividing by 1e6."""
    assert pump_twin.MIN_FLOW_ML_PER_DAY == LIMITS.min_flow_nl_per_day / 1e6 == 0.048
    assert LIMITS.max_flow_nl_per_day / 1e6 == pump_twin.MAX_FLOW_ML_PER_DAY
    assert LIMITS.min_bolus_nl / 1e6 == pump_twin.MIN_BOLUS_ML
    assert LIMITS.max_bolus_nl / 1e6 == pump_twin.MAX_BOLUS_ML
    assert float(LIMITS.min_lockout_s) / 60 == pump_twin.MIN_LOCKOUT_MIN
    assert float(LIMITS.max_bolus_duration_s) / 60 == pump_twin.MAX_BOLUS_DURATION_MIN


def test_array_codes_are_limits_in_one_mapping() -> None:
    assert pump_twin.code_of(None) == pump_twin.GIVEN == 0
    assert pump_twin.outcome(pump_twin.GIVEN) is None
    for limit in Limit:
        code = pump_twin.code_of(limit)
        assert code > 0 and pump_twin.outcome(code) is limit is pump_twin.limit_of(code)
    with pytest.raises(ValueError):
        pump_twin.outcome(pump_twin.NOT_PRESSED)
    with pytest.raises(ValueError):
        pump_twin.limit_of(pump_twin.GIVEN)


def test_one_refill_rule_for_the_programmer_the_firmware_and_the_twin() -> None:
    plan = plan_refill(q("18 mL"), q("2 mL"), q("10 mg/mL"), q("1.5 mg/day"), date(2024, 1, 1),
                       bolus=q("0.1 mg"), max_boluses_per_day=4)
    total = q("0.19 mL/day")  # (1.5 + 4 x 0.1) mg/day at 10 mg/mL
    assert plan.days_to_alarm == time_to_alarm(q("18 mL"), q("2 mL"), total).value_in("day")
    nl_per_s = Fraction(190_000) / DAY
    seconds = rules.refill_due_in(18_000_000, 2_000_000, Fraction(150_000) / DAY,
                                  Fraction(40_000))
    assert seconds == time_to_alarm(18_000_000, 2_000_000, nl_per_s)
    assert seconds is not None and seconds / DAY == plan.days_to_alarm
    days = time_to_alarm(np.array([18.0]), 2.0, np.array([0.19]))
    assert days[0] == pytest.approx(float(plan.days_to_alarm))
