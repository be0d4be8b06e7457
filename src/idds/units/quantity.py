"""Quantities with units: exact values, explicit dimensions, never a bare number.

A `Quantity` stores its magnitude as an exact `fractions.Fraction` in base units
(nanograms, microlitres, seconds), so no volume or dose bookkeeping ever drifts the way a
binary float does: 0.1 mL + 0.2 mL is exactly 0.3 mL, and 60 mcg/h is exactly 24 x 60 mcg/day.
It also remembers the unit it was written in, for display only; equality and arithmetic use
the base magnitude, so "1 mg/day" == "1000 mcg/day" while "1 mg/h" != "1 mg/day".

Why: unit errors caused real intrathecal overdoses (a flex dose meant as 60 mcg/day programmed
as 60 mcg/hour, ISMP; docs/references.md (devices)). docs/design.md principle 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from idds.units.numbers import parse_decimal
from idds.units.table import (
    Dimension,
    Kind,
    Unit,
    UnitError,
    default_unit,
    describe,
    kind_of,
    parse_unit,
)

Number = int | Fraction | Decimal | str


def exact(value: Number | float) -> Fraction:
    """An exact Fraction from an int, Fraction, Decimal, decimal string or float.

    A string is text from outside: plain ASCII decimal, at most 15 digits
    (`idds.units.numbers.parse_decimal`). A float is read through its shortest decimal repr
    (0.1 -> 1/10), never its binary expansion; a non-finite float is refused.
    """
    if isinstance(value, Fraction):
        return value
    if isinstance(value, bool):
        raise UnitError("a quantity's value must be a number, not a boolean")
    if isinstance(value, str):
        return parse_decimal(value)
    if isinstance(value, float):
        value = repr(value)
    try:
        return Fraction(value)
    except (ValueError, ZeroDivisionError, OverflowError) as exc:
        raise UnitError(f"{value!r} is not a finite number") from exc


@dataclass(frozen=True, eq=False)
class Quantity:
    """An exact amount with a dimension, shown in the unit it was given in.

    `base` is the magnitude in base units (ng, uL, s and their ratios); `unit` is only for display.
    """

    base: Fraction
    unit: Unit

    @staticmethod
    def of(value: Number | float, unit: Unit | str) -> Quantity:
        """`Quantity.of("0.5", "mL/day")`: a value in a unit (text goes through the allow-list)."""
        resolved = parse_unit(unit) if isinstance(unit, str) else unit
        return Quantity(exact(value) * resolved.base_per_unit, resolved)

    @property
    def dimension(self) -> Dimension:
        return self.unit.dimension

    @property
    def kind(self) -> Kind | None:
        return kind_of(self.dimension)

    def value_in(self, unit: Unit | str) -> Fraction:
        """The exact value in another unit of the same dimension."""
        target = self._compatible_unit(unit)
        return self.base / target.base_per_unit

    def to(self, unit: Unit | str) -> Quantity:
        """The same amount, displayed in another unit of the same dimension."""
        return Quantity(self.base, self._compatible_unit(unit))

    def require(self, kind: Kind, what: str) -> Quantity:
        """Return self if it is of `kind`, else raise a UnitError naming `what` was expected."""
        if self.dimension != kind.value:
            raise UnitError(
                f"{what} must be a {kind.label} (for example {EXAMPLES[kind]}), "
                f"not {self} (a {describe(self.dimension)})"
            )
        return self

    def _compatible_unit(self, unit: Unit | str) -> Unit:
        target = parse_unit(unit) if isinstance(unit, str) else unit
        if target.dimension != self.dimension:
            raise UnitError(
                f"cannot express {self} (a {describe(self.dimension)}) in {target.symbol} "
                f"(a {describe(target.dimension)})"
            )
        return target

    # arithmetic -----------------------------------------------------------------------------
    def _same(self, other: object, op: str) -> Quantity:
        if not isinstance(other, Quantity):
            raise UnitError(f"cannot {op} {self} and the bare number {other!r}: give it a unit")
        if other.dimension != self.dimension:
            raise UnitError(
                f"cannot {op} {self} ({describe(self.dimension)}) and "
                f"{other} ({describe(other.dimension)})"
            )
        return other

    def __add__(self, other: object) -> Quantity:
        return Quantity(self.base + self._same(other, "add").base, self.unit)

    def __sub__(self, other: object) -> Quantity:
        return Quantity(self.base - self._same(other, "subtract").base, self.unit)

    def __neg__(self) -> Quantity:
        return Quantity(-self.base, self.unit)

    def __mul__(self, other: Quantity | int | Fraction) -> Quantity:
        if isinstance(other, Quantity):
            return _combine(self.base * other.base, self.dimension.times(other.dimension))
        return Quantity(self.base * exact(other), self.unit)

    __rmul__ = __mul__

    def __truediv__(self, other: Quantity | int | Fraction) -> Quantity:
        if isinstance(other, Quantity):
            if other.base == 0:
                raise UnitError(f"cannot divide {self} by zero ({other})")
            return _combine(self.base / other.base, self.dimension.per(other.dimension))
        divisor = exact(other)
        if divisor == 0:
            raise UnitError(f"cannot divide {self} by zero")
        return Quantity(self.base / divisor, self.unit)

    def ratio(self, other: Quantity) -> Fraction:
        """self / other for two quantities of the same dimension: an exact pure number."""
        self._same(other, "compare")
        if other.base == 0:
            raise UnitError(f"cannot divide {self} by zero ({other})")
        return self.base / other.base

    # comparison -----------------------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Quantity):
            return NotImplemented
        return self.dimension == other.dimension and self.base == other.base

    def __hash__(self) -> int:
        return hash((self.dimension, self.base))

    def __lt__(self, other: Quantity) -> bool:
        return self.base < self._same(other, "compare").base

    def __le__(self, other: Quantity) -> bool:
        return self.base <= self._same(other, "compare").base

    def __gt__(self, other: Quantity) -> bool:
        return self.base > self._same(other, "compare").base

    def __ge__(self, other: Quantity) -> bool:
        return self.base >= self._same(other, "compare").base

    def is_positive(self) -> bool:
        return self.base > 0

    # display --------------------------------------------------------------------------------
    def __str__(self) -> str:
        return f"{format_number(self.base / self.unit.base_per_unit)} {self.unit.symbol}"

    def __repr__(self) -> str:
        return f"Quantity({str(self)!r})"

    def display(self, unit: Unit | str | None = None, digits: int = 4) -> str:
        """Text for a screen: exact when it is a short decimal, else `digits` significant digits."""
        shown = self if unit is None else self.to(unit)
        value = shown.base / shown.unit.base_per_unit
        return f"{format_number(value, digits)} {shown.unit.symbol}"

    def as_json(self, unit: Unit | str | None = None) -> dict[str, float | str]:
        """{"value": <number>, "unit": "<unit>"} for --json output."""
        shown = self if unit is None else self.to(unit)
        return {"value": float(shown.base / shown.unit.base_per_unit), "unit": shown.unit.symbol}


def format_number(value: Fraction, digits: int | None = None) -> str:
    """Exact decimal text of a Fraction that has one (denominator 2^a 5^b); else rounded.

    With `digits`, at most that many significant digits are shown in any case (for screens);
    without, a terminating decimal is shown whole so that parsing the text gives the value back.
    """
    if terminates(value.denominator) and digits is None:
        text = format(Decimal(value.numerator) / Decimal(value.denominator), "f")
        return _strip_zeros(text)
    shown = digits if digits is not None else 12
    if value == 0:
        return "0"
    text = format(float(value), f".{shown}g")
    if "e" in text:
        text = format(Decimal(text), "f")
    return _strip_zeros(text)


def terminates(denominator: int) -> bool:
    """Whether a fraction with this denominator has a finite decimal expansion."""
    for prime in (2, 5):
        while denominator % prime == 0:
            denominator //= prime
    return denominator == 1


def _strip_zeros(text: str) -> str:
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _combine(base: Fraction, dimension: Dimension) -> Quantity:
    return Quantity(base, default_unit(dimension))


EXAMPLES: dict[Kind, str] = {
    Kind.MASS: '"0.5 mg"',
    Kind.VOLUME: '"20 mL"',
    Kind.TIME: '"24 h"',
    Kind.DOSE_RATE: '"1 mg/day"',
    Kind.FLOW: '"0.5 mL/day"',
    Kind.CONCENTRATION: '"10 mg/mL"',
}
