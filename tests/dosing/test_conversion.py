"""Route conversion against hand-computed cases."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from idds.dosing import convert
from idds.dosing.conversion import ConversionError
from idds.drugs import LibraryError, Route, load_library
from idds.units import Quantity
from idds.units import parse_quantity as q

LIBRARY = load_library()


def test_oral_morphine_to_intrathecal() -> None:
    result = convert(LIBRARY, "morphine", q("300 mg/day"), Route.ORAL, Route.INTRATHECAL)
    assert result.equianalgesic == q("1 mg/day")  # 300:1
    assert result.suggested_start == q("3 mg/day")  # 100:1 from 300 mg OME
    assert result.ratio_used == 100
    assert any("100:1" in reason for reason in result.reasons)
    assert any("24-72 h" in reason for reason in result.reasons)
    assert result.breaches == ()  # 3 mg/day is inside the tolerant starting range 1-10


def test_side_effect_switch_uses_300_to_1() -> None:
    result = convert(LIBRARY, "morphine", q("60 mg/day"), Route.ORAL, Route.INTRATHECAL,
                     side_effect_switch=True)
    assert result.suggested_start == q("0.2 mg/day")


def test_frail_patient_starts_lower() -> None:
    result = convert(LIBRARY, "morphine", q("300 mg/day"), Route.ORAL, Route.INTRATHECAL,
                     frail=True)
    assert result.suggested_start == q("1.5 mg/day")
    assert any("Frail" in reason for reason in result.reasons)


def test_ladder_between_every_route() -> None:
    cases = {
        (Route.IV, Route.INTRATHECAL): "10 mg/day",  # 100:1 -> 1000/100
        (Route.EPIDURAL, Route.INTRATHECAL): "100 mg/day",  # 10:1
        (Route.ORAL, Route.IV): "333.333333 mg/day",
        (Route.INTRATHECAL, Route.ORAL): "300000 mg/day",
    }
    for (source, target), expected in cases.items():
        result = convert(LIBRARY, "morphine", q("1000 mg/day"), source, target)
        assert abs(result.equianalgesic.ratio(q(expected)) - 1) < Fraction(1, 10**6)


def test_iv_to_intrathecal_start_uses_oral_equivalent() -> None:
    result = convert(LIBRARY, "morphine", q("100 mg/day"), Route.IV, Route.INTRATHECAL)
    assert result.oral_morphine_equivalent == q("300 mg/day")
    assert result.suggested_start == q("3 mg/day")


def test_hydromorphone_through_morphine_equivalents() -> None:
    result = convert(LIBRARY, "hydromorphone", q("24 mg/day"), Route.ORAL, Route.INTRATHECAL)
    assert result.oral_morphine_equivalent == q("96 mg/day")  # 4 mg morphine per mg
    assert result.suggested_start == q("0.192 mg/day")  # 96/100 = 0.96 mg IT morphine / 5
    assert result.equianalgesic == q("0.064 mg/day")  # 24 x 4 / 1500


def test_conversion_refusals() -> None:
    with pytest.raises(ConversionError, match="nothing to convert"):
        convert(LIBRARY, "morphine", q("1 mg/day"), Route.ORAL, Route.ORAL)
    with pytest.raises(ConversionError, match="no route conversion factors"):
        convert(LIBRARY, "ziconotide", q("1 mcg/day"), Route.ORAL, Route.INTRATHECAL)
    with pytest.raises(LibraryError, match="not in the library"):
        convert(LIBRARY, "oxycodone", q("1 mg/day"), Route.ORAL, Route.INTRATHECAL)
    with pytest.raises(ConversionError, match="above zero"):
        convert(LIBRARY, "morphine", q("0 mg/day"), Route.ORAL, Route.INTRATHECAL)


def test_high_start_is_flagged_not_clamped() -> None:
    result = convert(LIBRARY, "morphine", q("3000 mg/day"), Route.ORAL, Route.INTRATHECAL)
    assert result.suggested_start == q("30 mg/day")
    assert {b.limit_name for b in result.breaches} >= {"max_daily_dose"}


@given(st.integers(min_value=1, max_value=10**6), st.sampled_from(list(Route)),
       st.sampled_from(list(Route)))
def test_ladder_round_trip(milligrams: int, source: Route, target: Route) -> None:
    if source is target:
        return
    dose = Quantity.of(milligrams, "mg/day")
    there = convert(LIBRARY, "morphine", dose, source, target).equianalgesic
    back = convert(LIBRARY, "morphine", there, target, source).equianalgesic
    assert back == dose
