"""Numbers from text are plain ASCII decimal, bounded in digits and size (issue 13, finding 6:
"1\u06605 mg/day" parsed as 105; a 1,500-digit dose overflowed later)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from idds.units import Quantity, UnitError, exact, parse_quantity
from idds.units.numbers import MAX_DIGITS, parse_decimal, parse_whole
from idds.units.parse import MAX_VALUE, MIN_VALUE

FOREIGN = ["\u0660", "\u06f5", "\u0967", "\uff11", "\u09e9", "\U0001d7ce"]  # Unicode Nd digits


@pytest.mark.parametrize("digit", FOREIGN)
def test_unicode_digits_are_refused_everywhere(digit: str) -> None:
    for text in (f"1{digit}5 mg/day", f"{digit} mg", f"1.{digit} mL", f"{digit}{digit} h"):
        with pytest.raises(UnitError, match="ASCII digits"):
            parse_quantity(text)
    with pytest.raises(UnitError):
        exact(f"1{digit}5")
    with pytest.raises(UnitError):
        parse_whole(f"0{digit}", "hour", 0, 23)


@pytest.mark.parametrize("text", ["1_000", "1e3", "inf", "nan", "0x10", " ", "1.2.3", "--1",
                                  "1/3", "\u00bd"])
def test_only_plain_decimals(text: str) -> None:
    with pytest.raises(UnitError):
        parse_decimal(text)


def test_digits_are_bounded() -> None:
    assert parse_decimal("1" * MAX_DIGITS) == int("1" * MAX_DIGITS)
    assert parse_decimal("0.00" + "1" * (MAX_DIGITS - 2)) > 0
    with pytest.raises(UnitError, match="digits"):
        parse_decimal("1" * (MAX_DIGITS + 1))
    with pytest.raises(UnitError, match="1500 digits"):
        parse_quantity("1" * 1500 + " mg/day")
    with pytest.raises(UnitError, match="digits"):
        parse_quantity("1" * 400 + " mg")
    message = ""
    try:
        parse_quantity("9" * 1500 + " mg/day", what="dose")
    except UnitError as exc:
        message = str(exc)
    assert 0 < len(message) < 200  # the refusal never echoes the whole text


def test_size_is_bounded_in_the_unit_written() -> None:
    assert parse_quantity("1000000000 mcg") == Quantity.of(1000, "g")
    assert parse_quantity("0.000000001 mg").is_positive()
    assert parse_quantity("0 mg/day") == Quantity.of(0, "mg/day")
    for text in ("1000000001 mg", "0.0000000001 mL", "-2000000000 mg/day"):
        with pytest.raises(UnitError, match="outside the accepted size"):
            parse_quantity(text)


@settings(max_examples=2000, deadline=None)
@given(st.text(max_size=80))
def test_any_text_parses_or_is_refused_as_a_unit_error(text: str) -> None:
    try:
        quantity = parse_quantity(text)
    except UnitError:
        return
    number = text.strip().split()[0] if text.strip() else ""
    assert all(ch.isascii() for ch in number if ch.isdigit())
    value = abs(quantity.base / quantity.unit.base_per_unit)
    assert value == 0 or MIN_VALUE <= value <= MAX_VALUE
    float(quantity.base)  # finite: never an OverflowError later


@settings(max_examples=1000, deadline=None)
@given(st.decimals(min_value=Decimal("-1e9"), max_value=Decimal("1e9"), places=6,
                   allow_nan=False, allow_infinity=False),
       st.sampled_from(["mg", "mcg/h", "mL/day", "mg/mL", "h"]))
def test_in_range_quantities_round_trip(value: Decimal, unit: str) -> None:
    if value != 0 and abs(value) < Decimal("1e-9"):
        return
    quantity = Quantity.of(value, unit)
    assert parse_quantity(str(quantity)) == quantity
    assert quantity.value_in(unit) == Fraction(value)
