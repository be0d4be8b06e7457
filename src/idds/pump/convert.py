"""Conversions between unit-carrying Quantities and the pump's internal exact numbers.

Internally the pump keeps volumes in nanolitres (int for physical volumes, Fraction for
commanded ones), masses in nanograms (Fraction), flows in nL/s and time in s (Fractions).
A concentration of 1 mg/mL is exactly 1 ng/nL, so mass_ng = volume_nl * concentration(mg/mL).
Every conversion goes through `Quantity.value_in`, so it does not depend on the base units of
`idds.units`.
"""

from __future__ import annotations

from fractions import Fraction

from idds.units import Kind, Quantity

NL_PER_ML = 1_000_000
NG_PER_MG = 1_000_000
S_PER_DAY = 86_400


def volume_nl(q: Quantity, what: str = "volume") -> Fraction:
    """Exact nanolitres of a volume Quantity."""
    return q.require(Kind.VOLUME, what).value_in("mL") * NL_PER_ML


def mass_ng(q: Quantity, what: str = "dose") -> Fraction:
    """Exact nanograms of a mass Quantity."""
    return q.require(Kind.MASS, what).value_in("mg") * NG_PER_MG


def conc_ng_per_nl(q: Quantity, what: str = "concentration") -> Fraction:
    """ng/nL of a concentration (numerically equal to mg/mL)."""
    return q.require(Kind.CONCENTRATION, what).value_in("mg/mL")


def flow_nl_per_s(q: Quantity, what: str = "flow") -> Fraction:
    """nL/s of a flow Quantity."""
    return q.require(Kind.FLOW, what).value_in("mL/day") * NL_PER_ML / S_PER_DAY


def seconds(q: Quantity, what: str = "duration") -> Fraction:
    """Exact seconds of a time Quantity."""
    return q.require(Kind.TIME, what).value_in("min") * 60


def volume_q(nl: int | Fraction) -> Quantity:
    """A volume Quantity shown in mL."""
    return Quantity.of(Fraction(nl) / NL_PER_ML, "mL")


def flow_q(nl_per_s: Fraction) -> Quantity:
    """A flow Quantity shown in mL/day."""
    return Quantity.of(nl_per_s * S_PER_DAY / NL_PER_ML, "mL/day")


def dose_rate_q(ng_per_s: Fraction) -> Quantity:
    """A dose-rate Quantity shown in mg/day."""
    return Quantity.of(ng_per_s * S_PER_DAY / NG_PER_MG, "mg/day")


def time_q(s: Fraction) -> Quantity:
    """A time Quantity shown in min."""
    return Quantity.of(Fraction(s) / 60, "min")
