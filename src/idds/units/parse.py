"""Reading quantities from text, only through the allow-list of `idds.units.table`."""

from __future__ import annotations

import re

from idds.units.quantity import EXAMPLES, Quantity, exact
from idds.units.table import ACCEPTED, Kind, UnitError, parse_unit

_NUMBER = re.compile(r"\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+))(.*)", re.DOTALL)


def parse_quantity(text: str, kind: Kind | None = None, what: str = "quantity") -> Quantity:
    """Parse "0.5 mg", "60 mcg/h", "10 mg/mL" into an exact Quantity.

    `kind`, when given, is the dimension the caller needs; anything else is refused with a
    UnitError naming `what` it was for, so "60 mcg/h" is never taken for a daily dose and a
    bare "300" is never taken as anything.
    """
    match = _NUMBER.fullmatch(text)
    if match is None:
        example = EXAMPLES[kind] if kind else '"0.5 mg"'
        raise UnitError(f"{what} {text!r} does not start with a number; write it like {example}")
    number, rest = match.group(1), match.group(2).strip()
    if not rest:
        raise UnitError(f"{what} {text!r} has no unit; accepted: {ACCEPTED}")
    if (rest[0] in "eE" and rest[1:2].isdigit()) or rest[0] == ",":
        raise UnitError(f"{what} {text!r}: write the number as a plain decimal (like 0.5)")
    unit = parse_unit(rest)
    quantity = Quantity(exact(number) * unit.base_per_unit, unit)
    if kind is not None:
        quantity.require(kind, what)
    return quantity
