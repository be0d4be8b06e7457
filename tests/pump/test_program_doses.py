"""The dose a daily limit holds: the most any 24 hours of a program deliver, differential
against a minute-by-minute sliding window (issue 14 review: a weekly flex schedule's calendar
days can each pass a limit that a 24 h window across midnight breaks)."""

from __future__ import annotations

from fractions import Fraction
from itertools import accumulate

from hypothesis import given, settings
from hypothesis import strategies as st

from idds.pump import Continuous, Flex, FlexStep, Stopped
from idds.pump.program import peak_daily_dose
from idds.units import Quantity


def _day(starts_and_rates: list[tuple[int, int]]) -> tuple[FlexStep, ...]:
    starts = sorted({0, *(s for s, _ in starts_and_rates[1:])})
    rates = [r for _, r in starts_and_rates] + [1] * len(starts)
    return tuple(FlexStep(start, Quantity.of(rates[i], "mcg/day"))
                 for i, start in enumerate(starts))


days = st.lists(st.tuples(st.integers(0, 1439), st.integers(1, 5000)), min_size=1, max_size=4)


def _brute_force(flex: Flex) -> Fraction:
    """mcg in the worst 24 h window, windows starting at every minute of the week."""
    per_minute = [rate.value_in("mcg/day") / 1440 for day in range(len(flex.days))
                  for start, end, rate in flex.spans(day) for _ in range(end - start)]
    twice = per_minute * 2
    sums = [Fraction(0), *accumulate(twice)]
    week = len(per_minute)
    return max(sums[t + 1440] - sums[t] for t in range(week))


@settings(max_examples=40, deadline=None)
@given(st.lists(days, min_size=7, max_size=7))
def test_weekly_peak_is_the_worst_24_hours_anywhere_in_the_week(week: list) -> None:
    flex = Flex(tuple(_day(d) for d in week))
    peak = flex.largest_24h_dose("mcg/day")
    assert peak.value_in("mcg/day") == _brute_force(flex)
    assert all(peak >= flex.day_dose(day, "mcg/day") for day in range(7))
    assert peak >= flex.mean_dose_rate("mcg/day")


def test_a_high_evening_then_a_high_morning_is_caught_across_midnight() -> None:
    """Mon 00:00 1, 12:00 29 mg/day; Tue 00:00 29, 12:00 1: each calendar day gives 15 mg,
    but Monday noon to Tuesday noon gives 29 mg."""
    mg = lambda v: Quantity.of(v, "mg/day")  # noqa: E731
    mon = (FlexStep(0, mg(1)), FlexStep(720, mg(29)))
    tue = (FlexStep(0, mg(29)), FlexStep(720, mg(1)))
    rest = (FlexStep(0, mg(1)),)
    flex = Flex((mon, tue, rest, rest, rest, rest, rest))
    assert flex.day_dose(0) == flex.day_dose(1) == mg(15)
    assert peak_daily_dose(flex) == mg(29)


def test_daily_and_continuous_peaks_are_the_day_dose() -> None:
    flex = Flex((_day([(0, 100), (480, 300)]),))
    assert peak_daily_dose(flex, "mcg/day") == flex.day_dose(0, "mcg/day") == (
        flex.mean_dose_rate("mcg/day"))
    assert peak_daily_dose(Continuous(Quantity.of(2, "mg/day"))) == Quantity.of(2, "mg/day")
    assert peak_daily_dose(Stopped()) is None
