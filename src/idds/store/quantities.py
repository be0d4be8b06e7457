"""Quantities in and out of integer columns, exactly: volumes as whole nL, concentrations as
an exact ng/nL fraction (numerically mg/mL), daily doses as an exact ng/day fraction, doses as
whole ng. Conversions go through `idds.pump.convert`, the one home of nL and ng."""

from __future__ import annotations

from fractions import Fraction

from idds.pump.convert import NG_PER_MG, conc_ng_per_nl, mass_ng, volume_nl, volume_q
from idds.store.model.base import fraction_of, split_fraction, whole
from idds.units import Kind, Quantity


def nl_of(volume: Quantity, what: str) -> int:
    """A volume as whole nanolitres (refused if it has finer digits than 1 nL)."""
    return whole(volume_nl(volume, what), what, "nL")


def volume_of(nl: int) -> Quantity:
    """A stored nL count as a volume shown in mL."""
    return volume_q(nl)


def ng_of(mass: Quantity, what: str) -> int:
    """A dose as whole nanograms."""
    return whole(mass_ng(mass, what), what, "ng")


def concentration_columns(concentration: Quantity) -> tuple[int, int]:
    """(numerator, denominator) of a concentration in ng/nL."""
    return split_fraction(conc_ng_per_nl(concentration), "concentration")


def concentration_of(numerator: int, denominator: int) -> Quantity:
    """The concentration stored as ng/nL, shown in mg/mL."""
    return Quantity.of(fraction_of(numerator, denominator), "mg/mL")


def daily_dose_columns(dose: Quantity | None) -> tuple[int | None, int | None]:
    """(numerator, denominator) of a daily dose in ng/day, or (None, None) without one."""
    if dose is None:
        return None, None
    ng_per_day = dose.require(Kind.DOSE_RATE, "daily dose").value_in("mg/day") * NG_PER_MG
    return split_fraction(ng_per_day, "daily dose")


def daily_dose_of(numerator: int | None, denominator: int | None) -> Quantity | None:
    """A daily dose stored as ng/day, shown in mg/day."""
    if numerator is None or denominator is None:
        return None
    return Quantity.of(Fraction(numerator, denominator) / NG_PER_MG, "mg/day")
