"""Reading quantities from text, only through the allow-list of `idds.units.table`.

The number is plain ASCII decimal (`idds.units.numbers`: digits 0-9, at most 15 of them, no
exponent), and its size in the unit it is written in is zero or between `MIN_VALUE` (10^-9)
and `MAX_VALUE` (10^9): "0.5 mg", "60 mcg/h" and "20 mL" parse; "1\u06605 mg/day" (an
Arabic-Indic zero), a dose of 1,500 digits and "0.0000000001 mg" are refused with one line.
"""

from __future__ import annotations

import re
from fractions import Fraction

from idds.units.numbers import NumberError, check_number_text, has_foreign_digit, shown
from idds.units.quantity import EXAMPLES, Quantity, exact
from idds.units.table import ACCEPTED, Kind, UnitError, parse_unit

_NUMBER = re.compile(r"\s*([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(.*)", re.DOTALL)

#: Largest size of a quantity in the unit it is written in (10^9, "1000000000 mg").
MAX_VALUE = Fraction(10**9)
#: Smallest size of a non-zero quantity in the unit it is written in (10^-9).
MIN_VALUE = Fraction(1, 10**9)
#: Longest quantity text read at all.
MAX_QUANTITY_TEXT = 64


def parse_quantity(text: str, kind: Kind | None = None, what: str = "quantity") -> Quantity:
    """Parse "0.5 mg", "60 mcg/h", "10 mg/mL" into an exact Quantity.

    `kind`, when given, is the dimension the caller needs; anything else is refused with a
    UnitError naming `what` it was for, so "60 mcg/h" is never taken for a daily dose and a
    bare "300" is never taken as anything.
    """
    if has_foreign_digit(text):
        raise NumberError(f"{what} {shown(text)}: write numbers with the ASCII digits 0-9")
    match = _NUMBER.fullmatch(text)
    if match is None:
        example = EXAMPLES[kind] if kind else '"0.5 mg"'
        raise UnitError(f"{what} {shown(text)} does not start with a number; write it like "
                        f"{example}")
    number, rest = match.group(1), match.group(2).strip()
    check_number_text(number, what)
    if len(text) > MAX_QUANTITY_TEXT:
        raise UnitError(f"{what} {shown(text)} is longer than {MAX_QUANTITY_TEXT} characters")
    if not rest:
        raise UnitError(f"{what} {shown(text)} has no unit; accepted: {ACCEPTED}")
    if (rest[0] in "eE" and rest[1:2].isdigit()) or rest[0] == ",":
        raise UnitError(f"{what} {shown(text)}: write the number as a plain decimal (like 0.5)")
    unit = parse_unit(rest)
    value = exact(number)
    if value != 0 and not MIN_VALUE <= abs(value) <= MAX_VALUE:
        raise NumberError(f"{what} {shown(text)} is outside the accepted size: zero, or "
                          f"10^-9 to 10^9 {unit.symbol}")
    quantity = Quantity(value * unit.base_per_unit, unit)
    if kind is not None:
        quantity.require(kind, what)
    return quantity
