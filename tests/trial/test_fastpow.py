"""`fastpow.power_2_4`, the compiled day loop's analgesia power, against numpy's pow."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import njit

from idds.trial.fastpow import power_2_4

#: A few units in the last place: the table-and-series form rounds a handful of times.
RTOL = 1e-15
#: The exponent 12/5 in extended precision: the double 2.4 is 12/5 - 9e-17, which at r = 1e30
#: moves r ** 2.4 by 6e-15; the kernel computes r^(12/5).
TWELVE_FIFTHS = np.longdouble(12) / np.longdouble(5)


def _reference(r: np.ndarray) -> np.ndarray:
    return (np.asarray(r, dtype=np.longdouble) ** TWELVE_FIFTHS).astype(np.float64)


@njit(cache=True)
def _powers(r: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    out = np.empty_like(r)
    for i in range(r.size):
        out[i] = power_2_4(r[i])
    return out


def test_every_subinterval_and_every_fifth_of_the_exponent() -> None:
    """Mantissas at each end and middle of every 1/256 of [1, 2), under exponents -120..120
    (each residue mod 5, so each entry of the 2^(0.4 k) table)."""
    edges = 1.0 + np.arange(257) / 256.0
    mantissas = np.concatenate([edges[:-1], np.nextafter(edges[1:], 0.0),
                                1.0 + (np.arange(256) + 0.5) / 256.0])
    r = np.ldexp(mantissas[None, :], np.arange(-120, 121)[:, None]).ravel()
    np.testing.assert_allclose(_powers(r), _reference(r), rtol=RTOL, atol=0.0)


@settings(max_examples=300, deadline=None)
@given(st.floats(min_value=1e-30, max_value=1e30))
def test_agrees_with_pow_over_the_concentration_range(r: float) -> None:
    assert abs(power_2_4(r) / _reference(np.array(r)) - 1.0) <= RTOL


def test_zero_and_vanishing_ratios_give_no_effect() -> None:
    r = np.array([0.0, 5e-324, 1e-310, 1e-300, 1e-100])
    out = _powers(r)
    assert out[0] == 0.0 and out[1] == 0.0 and out[2] == 0.0 and out[3] == 0.0
    np.testing.assert_allclose(out[4], 1e-240, rtol=RTOL)
    assert (np.diff(_powers(np.linspace(0.0, 5.0, 10_001))) > 0).all()  # increasing
