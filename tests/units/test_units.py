"""Units: the allow-list, exactness, and per-hour never read as per-day."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from idds.units import Kind, Quantity, UnitError, parse_quantity, parse_unit

MASS = ["g", "mg", "mcg", "ng"]
VOLUME = ["L", "mL", "uL"]
TIME = ["min", "h", "day"]
ALL_UNITS = (
    MASS + VOLUME + TIME
    + [f"{m}/{t}" for m in MASS for t in TIME]
    + [f"{v}/{t}" for v in VOLUME for t in TIME]
    + [f"{m}/{v}" for m in MASS for v in VOLUME]
)

decimals = st.decimals(
    min_value=Decimal("-1000000"), max_value=Decimal("1000000"), places=6, allow_nan=False,
    allow_infinity=False,
)
units = st.sampled_from(ALL_UNITS)


@given(decimals, units)
def test_parse_of_display_is_identity(value: Decimal, unit: str) -> None:
    quantity = Quantity.of(value, unit)
    assert parse_quantity(str(quantity)) == quantity
    assert str(parse_quantity(str(quantity))) == str(quantity)


@given(decimals, st.sampled_from(MASS), st.sampled_from(MASS), st.sampled_from(TIME),
       st.sampled_from(TIME))
def test_conversion_there_and_back_is_identity(
    value: Decimal, m1: str, m2: str, t1: str, t2: str
) -> None:
    original = Quantity.of(value, f"{m1}/{t1}")
    there = original.to(f"{m2}/{t2}")
    assert there == original
    assert there.to(f"{m1}/{t1}").value_in(f"{m1}/{t1}") == Fraction(value)


@given(st.decimals(min_value=Decimal("0.001"), max_value=Decimal("100000"), places=3),
       st.sampled_from(MASS + VOLUME))
def test_per_hour_is_never_per_day(value: Decimal, top: str) -> None:
    hourly = parse_quantity(f"{value} {top}/h")
    daily = parse_quantity(f"{value} {top}/day")
    assert hourly != daily
    assert hourly == daily * 24
    assert hourly.value_in(f"{top}/day") == Fraction(value) * 24
    assert parse_quantity(f"{value * 24} {top}/day") == hourly


def test_decimal_volumes_add_exactly() -> None:
    total = Quantity.of(0, "mL")
    for _ in range(10):
        total = total + parse_quantity("0.1 mL")
    assert total == parse_quantity("1 mL")
    assert parse_quantity("0.1 mL") + parse_quantity("0.2 mL") == parse_quantity("0.3 mL")


@pytest.mark.parametrize("text", ["5 ug", "5 µg", "5 μg", "5mcg", " 5  mcg "])
def test_microgram_spellings_display_as_mcg(text: str) -> None:
    quantity = parse_quantity(text)
    assert quantity == Quantity.of(5, "mcg")
    assert str(quantity) == "5 mcg"
    assert "µ" not in quantity.display() and "μ" not in quantity.display()


@pytest.mark.parametrize(("text", "expected"), [
    ("5 MG", "5 mg"), ("1.5 MG/DAY", "1.5 mg/day"), ("20 ml", "20 mL"), ("2 Mcg/H", "2 mcg/h"),
])
def test_units_read_whatever_their_case(text: str, expected: str) -> None:
    """No two accepted units differ by case alone, so a clinician's capitals mean the same."""
    assert parse_quantity(text) == parse_quantity(expected)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("300", "no unit"),
        ("5 U", "unknown unit 'U'"),
        ("3 cc", "unknown unit 'cc'"),
        ("2 mg/kg", "unknown unit 'kg'"),
        ("1 mg/mg", "not an allowed ratio"),
        ("1 h/mg", "not an allowed ratio"),
        ("1 mL/mg", "not an allowed ratio"),
        ("1 mg/mL/day", "not a single ratio"),
        ("mg", "does not start with a number"),
        ("", "does not start with a number"),
        ("1e3 mg", "plain decimal"),
        ("1,5 mg", "plain decimal"),
        ("5 units", "unknown unit"),
    ],
)
def test_refused_text_names_what_was_wrong(text: str, fragment: str) -> None:
    with pytest.raises(UnitError) as info:
        parse_quantity(text)
    assert fragment in str(info.value)
    if "unit" in fragment:
        assert "accepted" in str(info.value)


def test_expected_kind_is_enforced() -> None:
    with pytest.raises(UnitError, match="dose must be a dose rate"):
        parse_quantity("60 mcg", Kind.DOSE_RATE, "dose")
    with pytest.raises(UnitError, match="concentration must be a concentration"):
        parse_quantity("10 mg/day", Kind.CONCENTRATION, "concentration")


def test_dimensions_combine() -> None:
    flow = parse_quantity("1 mg/day") / parse_quantity("10 mg/mL")
    assert flow.kind is Kind.FLOW
    assert flow == parse_quantity("0.1 mL/day")
    assert flow * parse_quantity("10 day") == parse_quantity("1 mL")
    assert parse_quantity("2 mL") * parse_quantity("5 mg/mL") == parse_quantity("10 mg")
    assert parse_quantity("3 mg/day").ratio(parse_quantity("1 mg/day")) == 3


def test_mixed_dimensions_are_refused() -> None:
    with pytest.raises(UnitError, match="cannot add"):
        _ = parse_quantity("1 mg") + parse_quantity("1 mL")
    with pytest.raises(UnitError, match="cannot compare"):
        _ = parse_quantity("1 mg/h") < parse_quantity("1 mL/h")
    with pytest.raises(UnitError, match="cannot express"):
        parse_quantity("1 mg/h").to("mL/h")
    with pytest.raises(UnitError, match="bare number"):
        _ = parse_quantity("1 mg") + 1  # type: ignore[operator]


def test_display_rounds_only_when_asked() -> None:
    third = parse_quantity("1 mg/day").to("mcg/h")
    assert third.display(digits=4) == "41.67 mcg/h"
    assert parse_quantity("0.0026 mL").display() == "0.0026 mL"
    assert parse_unit("ug/h").symbol == "mcg/h"


def test_floats_are_read_through_their_decimal_text() -> None:
    assert Quantity.of(0.1, "mL") == parse_quantity("0.1 mL")
    with pytest.raises(UnitError):
        Quantity.of(True, "mL")  # type: ignore[arg-type]
