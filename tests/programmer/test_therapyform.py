"""The one converter between the pump's exact `Therapy` and the control layer's one-patient
`Prescription`: what the pump runs is what the controllers read, and what is programmed for a
controller's setting is never more than the setting."""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from idds.control.advice import Setting
from idds.programmer.therapyform import (
    MAX_STEPS,
    RESOLUTION,
    TherapyFormError,
    is_flat,
    to_prescription,
    to_pump_therapy,
)
from idds.pump import Continuous, DemandBolus, Flex, FlexStep, Stopped, Therapy
from idds.units import Quantity
from idds.units import parse_quantity as q

RATES = st.integers(1, 20_000).map(lambda k: Fraction(k, RESOLUTION))  # 0.001-20 mg/day


@st.composite
def pump_therapies(draw: st.DrawFn) -> Therapy:
    """Therapies the converter can represent exactly: hour-aligned daily flex of at most
    MAX_STEPS distinct neighbouring steps and not near flat, doses at 1/RESOLUTION mg,
    whole-minute lockouts."""
    if draw(st.booleans()):
        basal: Continuous | Flex = Continuous(Quantity.of(draw(RATES), "mg/day"))
    else:
        hours = sorted(draw(st.sets(st.integers(1, 23), min_size=1, max_size=MAX_STEPS - 1)))
        starts = [0, *hours]
        rates = draw(st.lists(RATES, min_size=len(starts), max_size=len(starts)))
        assume(all(a != b for a, b in itertools.pairwise(rates)))  # equal neighbours merge
        basal = Flex((tuple(FlexStep(h * 60, Quantity.of(r, "mg/day"))
                            for h, r in zip(starts, rates, strict=True)),))
        shape = to_prescription(Therapy(basal), 0.0, 0.0).flex[0]
        assume(not is_flat(shape))  # a shape within FLAT of flat is programmed continuous
    demand = None
    if draw(st.booleans()):
        demand = DemandBolus(Quantity.of(Fraction(draw(st.integers(1, 2000)), RESOLUTION), "mg"),
                             q("10 min"), Quantity.of(draw(st.integers(10, 600)), "min"),
                             draw(st.integers(1, 24)))
    return Therapy(basal, demand)


@settings(max_examples=150, deadline=None)
@given(pump_therapies())
def test_a_representable_therapy_comes_back_exactly(therapy: Therapy) -> None:
    """pump -> prescription -> setting -> pump is the identity, also when the pump held
    another program (so nothing is taken over from the current one)."""
    setting = Setting.of(to_prescription(therapy, 0.0, 0.0), 0)
    assert to_pump_therapy(setting, therapy) == therapy
    back = to_pump_therapy(setting, Therapy(Stopped()))
    assert back.basal == therapy.basal
    assert (back.demand is None) == (therapy.demand is None)
    if therapy.demand and back.demand:
        assert back.demand.dose == therapy.demand.dose
        assert back.demand.lockout == therapy.demand.lockout
        assert back.demand.max_per_24h == therapy.demand.max_per_24h


SHAPES = st.lists(st.floats(0.2, 3.0), min_size=24, max_size=24).map(
    lambda xs: tuple(float(x) for x in np.asarray(xs) / np.mean(xs)))


@settings(max_examples=200, deadline=None)
@given(daily=st.floats(0.01, 30.0), flex=SHAPES, bolus=st.floats(0.0, 2.0),
       lockout=st.floats(10.0, 600.0), count=st.integers(0, 24))
def test_what_is_programmed_is_never_more_than_the_setting(
        daily: float, flex: tuple[float, ...], bolus: float, lockout: float,
        count: int) -> None:
    setting = Setting(daily, flex, bolus, lockout, count)
    program = to_pump_therapy(setting, Therapy(Stopped()))
    got = Setting.of(to_prescription(program, 0.0, 0.0), 0)
    assert got.daily_mg <= daily + 1e-12
    assert daily - got.daily_mg <= 1.0 / RESOLUTION + 1e-9  # rounding down once: one step
    if isinstance(program.basal, Flex):
        assert len(program.basal.days[0]) <= MAX_STEPS
    if program.demand is not None:
        assert got.bolus_mg <= bolus + 1e-12
        assert got.lockout_min >= lockout - 1e-9  # the lockout rounds up, to the safe side
        assert got.max_boluses_per_day == count


def test_a_stopped_pump_is_zero_and_a_weekly_flex_is_refused_by_name() -> None:
    stopped = to_prescription(Therapy(Stopped()), 30.0, 5.0)
    assert stopped.it_mg_per_day[0] == 0 and stopped.oral_mg_per_day[0] == 30.0
    day = (FlexStep(0, q("1 mg/day")),)
    with pytest.raises(TherapyFormError, match="weekly flex"):
        to_prescription(Therapy(Flex((day,) * 7)), 0.0, 0.0)
