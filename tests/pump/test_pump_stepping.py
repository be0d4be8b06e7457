"""Advancing by one big step or many small ones gives identical results (property test)."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from idds.pump import (
    Flex,
    FlexStep,
    HardwareSpec,
    Pump,
    Refusal,
    Therapy,
    interrogate,
    snapshot,
)
from idds.pump.clock import DAY, HOUR
from tests.pump.pump_helpers import MORPHINE, demand, q

SPEC = HardwareSpec(stroke_nl=5_000, stall_hazard_per_day=0.5, eri_at_s=Fraction(2 * DAY))
ACTIONS = {
    2 * HOUR: "press", 7 * HOUR: "press", 9 * HOUR: "mri", 30 * HOUR: "interrogate",
    31 * HOUR: "press", 40 * HOUR: "clinician",
}
END = 3 * DAY


def build() -> Pump:
    pump = Pump.implant(SPEC, seed=7)
    pump.refill(q("3 mL"), MORPHINE)
    pump.priming_bolus()
    steps = (FlexStep(0, q("2 mg/day")), FlexStep(7 * 60 + 30, q("6 mg/day")),
             FlexStep(20 * 60, q("1 mg/day")))
    pump.set_therapy(Therapy(Flex((steps,)), demand(lockout="1 h")))
    return pump


def act(pump: Pump, action: str) -> None:
    try:
        if action == "press":
            pump.patient_bolus()
        elif action == "mri":
            pump.mri_exposure()
        elif action == "interrogate":
            interrogate(pump)
        else:
            pump.clinician_bolus(q("0.2 mg"), q("20 min"))
    except Refusal:
        pass


def run(cuts: list[Fraction]) -> bytes:
    pump = build()
    points = sorted({*cuts, *ACTIONS, END})
    for t in points:
        pump.advance(t)
        if t in ACTIONS:
            act(pump, ACTIONS[t])
    return snapshot(pump)


REFERENCE = run([])


@settings(max_examples=25, deadline=None)
@given(st.lists(st.fractions(min_value=0, max_value=END, max_denominator=1000), max_size=60))
def test_many_small_steps_equal_one_big_step(cuts: list[Fraction]) -> None:
    assert run(cuts) == REFERENCE


def test_fine_regular_steps_equal_one_big_step() -> None:
    assert run([Fraction(k * 97) for k in range(int(END // 97))]) == REFERENCE
