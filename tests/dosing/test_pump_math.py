"""Pump arithmetic: rates, catheter volume and refill dates, at the boundaries."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from idds.dosing import catheter_volume, dose_from_rate, plan_refill, rate_from_dose, refill_due
from idds.dosing.pump_math import ArithmeticInputError
from idds.units import parse_quantity as q

START = date(2026, 12, 1)


def test_rate_and_back() -> None:
    assert rate_from_dose(q("1 mg/day"), q("10 mg/mL")) == q("0.1 mL/day")
    assert dose_from_rate(q("0.1 mL/day"), q("10 mg/mL")) == q("1 mg/day")
    assert rate_from_dose(q("60 mcg/h"), q("1 mg/mL")) == q("1.44 mL/day")


def test_catheter_volume() -> None:
    assert catheter_volume(Fraction(110 - 62)) == q("0.1248 mL")
    with pytest.raises(ArithmeticInputError):
        catheter_volume(Fraction(0))


def test_refill_hand_computed() -> None:
    plan = plan_refill(q("18 mL"), q("2 mL"), q("10 mg/mL"), q("1 mg/day"), START)
    assert plan.days_to_alarm == 160  # 16 mL at 0.1 mL/day
    assert plan.alarm_date == date(2027, 5, 10)
    assert plan.days_to_empty == 180


def test_refill_assumes_every_bolus_is_used() -> None:
    plan = plan_refill(q("18 mL"), q("2 mL"), q("10 mg/mL"), q("1 mg/day"), START,
                       q("0.05 mg"), 4)
    assert plan.total_flow == q("0.12 mL/day")
    assert plan.days_to_alarm == Fraction(400, 3)  # 133.33 days
    assert plan.alarm_date == date(2027, 4, 13)  # 133 whole days after 2026-12-01


def test_alarm_volume_equal_to_reservoir_alarms_today() -> None:
    plan = plan_refill(q("2 mL"), q("2 mL"), q("10 mg/mL"), q("1 mg/day"), START)
    assert plan.days_to_alarm == 0
    assert plan.alarm_date == START


def test_bolus_allowance_that_empties_the_pump_first() -> None:
    # 2.5 mL over a 2 mL alarm at 1 mg/mL: 0.5 mL usable. The allowed boluses (10 x 0.5 mg
    # = 5 mL/day) would empty the whole reservoir within the first day.
    plan = plan_refill(q("2.5 mL"), q("2 mL"), q("1 mg/mL"), q("0.5 mg/day"), START,
                       q("0.5 mg"), 10)
    assert plan.total_flow == q("5.5 mL/day")
    assert plan.days_to_alarm == Fraction(1, 11)
    assert plan.days_to_empty == Fraction(5, 11)
    assert plan.alarm_date == START and plan.empty_date == START


def test_dates_are_exact_at_a_whole_day() -> None:
    plan = plan_refill(q("3 mL"), q("2 mL"), q("1 mg/mL"), q("1 mg/day"), START)
    assert plan.days_to_alarm == 1
    assert plan.alarm_date == date(2026, 12, 2)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"volume": q("1 mL"), "alarm_volume": q("2 mL")}, "above the reservoir volume"),
        ({"volume": q("41 mL")}, "more than the reservoir holds"),
        ({"volume": q("0 mL")}, "above zero"),
        ({"alarm_volume": q("-1 mL")}, "must not be negative"),
        ({"daily_dose": q("0 mg/day")}, "dose must be above zero"),
        ({"concentration": q("0 mg/mL")}, "concentration must be above zero"),
        ({"bolus": q("0.1 mg")}, "give both"),
        ({"max_boluses_per_day": 3}, "give both"),
    ],
)
def test_refill_refusals(kwargs: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {
        "volume": q("18 mL"), "alarm_volume": q("2 mL"), "concentration": q("10 mg/mL"),
        "daily_dose": q("1 mg/day"), "start": START,
    }
    arguments.update(kwargs)
    with pytest.raises(ArithmeticInputError, match=message):
        plan_refill(**arguments)  # type: ignore[arg-type]


@given(dose_mcg=st.integers(1, 15_000), interval_days=st.integers(1, 365))
def test_refill_is_due_by_the_earlier_of_alarm_and_stability(dose_mcg: int,
                                                              interval_days: int) -> None:
    """Never later than the alarm, never later than the drug's stability allows, and one of
    the two exactly."""
    start = date(2026, 12, 1)
    plan = plan_refill(q("18 mL"), q("2 mL"), q("10 mg/mL"), q(f"{dose_mcg} mcg/day"), start)
    due = refill_due(plan, q(f"{interval_days} day"), "test stability")
    stable_until = date.fromordinal(start.toordinal() + interval_days)
    assert due.date == min(plan.alarm_date, stable_until)
    assert ("test stability" in due.reason) == (stable_until < plan.alarm_date)
