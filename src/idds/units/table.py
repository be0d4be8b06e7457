"""The allow-list of units: dimensions, unit sizes and the parser of unit text.

Base units are the nanogram, the microlitre and the second, so every allowed unit is an exact
integer multiple of its base and a ratio of them is an exact Fraction. The allow-list is the one
in the foundation issue: g, mg, mcg (ug and µg accepted as input, shown as mcg), ng; L, mL, uL;
min, h, day; and mass/time, volume/time, mass/volume ratios of them. Nothing else parses:
"U", "cc", "mg/kg", "mg/mg" and a bare number are refused with a message naming what is accepted.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from fractions import Fraction
from typing import NamedTuple

from idds.errors import IddsError


class UnitError(IddsError):
    """Text or arithmetic that does not make a valid quantity (unknown unit, wrong dimension)."""


class Dimension(NamedTuple):
    """Exponents of mass, volume and time. Concentration is (1, -1, 0), a dose rate (1, 0, -1)."""

    mass: int
    volume: int
    time: int

    def times(self, other: Dimension) -> Dimension:
        """The dimension of a product (exponents add)."""
        return Dimension(self.mass + other.mass, self.volume + other.volume, self.time + other.time)

    def per(self, other: Dimension) -> Dimension:
        """The dimension of a quotient (exponents subtract)."""
        return Dimension(self.mass - other.mass, self.volume - other.volume, self.time - other.time)


class Kind(Enum):
    """The dimensions IDDS works with, each with a plain name for messages."""

    MASS = Dimension(1, 0, 0)
    VOLUME = Dimension(0, 1, 0)
    TIME = Dimension(0, 0, 1)
    DOSE_RATE = Dimension(1, 0, -1)
    FLOW = Dimension(0, 1, -1)
    CONCENTRATION = Dimension(1, -1, 0)

    @property
    def label(self) -> str:
        return self.name.lower().replace("_", " ")


def kind_of(dimension: Dimension) -> Kind | None:
    """The named kind of a dimension, or None for an unnamed one (say mL/mg)."""
    for kind in Kind:
        if kind.value == dimension:
            return kind
    return None


def describe(dimension: Dimension) -> str:
    kind = kind_of(dimension)
    if kind is not None:
        return kind.label
    return f"mass^{dimension.mass} volume^{dimension.volume} time^{dimension.time}"


@dataclass(frozen=True)
class Unit:
    """A unit: its display symbol, dimension and size in base units (ng, uL, s)."""

    symbol: str
    dimension: Dimension
    base_per_unit: Fraction

    def __truediv__(self, other: Unit) -> Unit:
        return Unit(
            f"{self.symbol}/{other.symbol}",
            self.dimension.per(other.dimension),
            self.base_per_unit / other.base_per_unit,
        )

    def __str__(self) -> str:
        return self.symbol



_MASS = Dimension(1, 0, 0)
_VOLUME = Dimension(0, 1, 0)
_TIME = Dimension(0, 0, 1)

#: Allowed simple units, by display symbol.
SIMPLE_UNITS: dict[str, Unit] = {
    u.symbol: u
    for u in (
        Unit("g", _MASS, Fraction(10**9)),
        Unit("mg", _MASS, Fraction(10**6)),
        Unit("mcg", _MASS, Fraction(10**3)),
        Unit("ng", _MASS, Fraction(1)),
        Unit("L", _VOLUME, Fraction(10**6)),
        Unit("mL", _VOLUME, Fraction(10**3)),
        Unit("uL", _VOLUME, Fraction(1)),
        Unit("min", _TIME, Fraction(60)),
        Unit("h", _TIME, Fraction(3600)),
        Unit("day", _TIME, Fraction(86400)),
    )
}

#: Input spellings accepted for a symbol; "mcg" is always what is shown.
ALIASES: dict[str, str] = {
    "ug": "mcg",
    "\u00b5g": "mcg",  # micro sign
    "\u03bcg": "mcg",  # greek small mu
    "ml": "mL",
    "l": "L",
    "ul": "uL",
    "\u00b5L": "uL",
    "\u03bcL": "uL",
    "\u00b5l": "uL",
    "\u03bcl": "uL",
}

#: Ratios that may be written: numerator dimension -> allowed denominator dimensions.
ALLOWED_RATIOS: dict[Dimension, tuple[Dimension, ...]] = {
    _MASS: (_TIME, _VOLUME),
    _VOLUME: (_TIME,),
}

#: The unit a computed quantity is shown in until the caller picks one.
DEFAULT_UNITS: dict[Dimension, str] = {
    Kind.MASS.value: "mg",
    Kind.VOLUME.value: "mL",
    Kind.TIME.value: "h",
    Kind.DOSE_RATE.value: "mg/day",
    Kind.FLOW.value: "mL/day",
    Kind.CONCENTRATION.value: "mg/mL",
}

ACCEPTED = (
    "g, mg, mcg (or ug, \u00b5g), ng, L, mL, uL, min, h, day, and ratios mass/time "
    "(mg/day, mcg/h), volume/time (mL/day) and mass/volume (mg/mL)"
)


#: Longest unit text read at all ("mcg/day" is 7).
MAX_UNIT_TEXT = 24


#: Every accepted spelling in lower case -> its symbol: "MG/DAY" or "Ml" are the same units as
#: "mg/day" and "mL" (no two accepted units differ by case alone).
_CASELESS: dict[str, str] = {
    **{symbol.lower(): symbol for symbol in SIMPLE_UNITS},
    **{alias.lower(): symbol for alias, symbol in ALIASES.items()},
}


def _simple(symbol: str, whole: str) -> Unit:
    canonical = ALIASES.get(symbol, symbol)
    if canonical not in SIMPLE_UNITS:
        canonical = _CASELESS.get(symbol.lower(), canonical)
    unit = SIMPLE_UNITS.get(canonical)
    if unit is None:
        raise UnitError(f"unknown unit {symbol!r} in {whole!r}; accepted: {ACCEPTED}")
    return unit


def parse_unit(text: str) -> Unit:
    """The allowed unit spelled by `text` ("mg/day", "ug/h", "mL"), or a UnitError saying why."""
    whole = text.strip()
    if not whole:
        raise UnitError(f"missing unit; accepted: {ACCEPTED}")
    if len(whole) > MAX_UNIT_TEXT:
        raise UnitError(f"unit {whole[:MAX_UNIT_TEXT]!r}... is too long; accepted: {ACCEPTED}")
    parts = [p.strip() for p in whole.split("/")]
    if len(parts) == 1:
        return _simple(parts[0], whole)
    if len(parts) > 2 or not all(parts):
        raise UnitError(f"unit {whole!r} is not a single ratio; accepted: {ACCEPTED}")
    top, bottom = _simple(parts[0], whole), _simple(parts[1], whole)
    if bottom.dimension not in ALLOWED_RATIOS.get(top.dimension, ()):
        raise UnitError(
            f"unit {whole!r} is not an allowed ratio ({describe(top.dimension)} per "
            f"{describe(bottom.dimension)}); accepted: {ACCEPTED}"
        )
    return top / bottom


def default_unit(dimension: Dimension) -> Unit:
    """The display unit for a computed dimension; unnamed ones get a spelled-out unit."""
    symbol = DEFAULT_UNITS.get(dimension)
    if symbol is not None:
        return parse_unit(symbol)
    return Unit(f"ng^{dimension.mass} uL^{dimension.volume} s^{dimension.time}", dimension,
                Fraction(1))
