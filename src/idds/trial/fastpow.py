"""r ** 2.4 for the compiled day loop, without a call to libm's pow.

The analgesia Hill coefficient is 2.4, and `daykernel.day_steps` raises two concentration
ratios to it every step. A call to pow costs the compiled step more than its arithmetic
(the step's live values are saved around each call), so the power is computed inline:
r^2.4 = r^2 r^0.4 with r = m 2^e (m in [1, 2)):

- 2^(0.4 e) = 2^(2q) 2^(0.4k) for e = 5q + k, k in 0..4 (2^(2q) built from its exponent
  bits, 2^(0.4k) from a table of five);
- m^0.4 = m0^0.4 (1 + t)^0.4, m0 the middle of m's 1/256 of [1, 2) (a table of 256 powers
  and reciprocals), t = (m - m0) / m0 with |t| < 1/512, and (1 + t)^0.4 by its binomial series
  to t^5 (the next term is below 2e-18).

Relative error below 7e-16 (three units in the last place) against r^(12/5) in extended
precision for r in 1e-30..1e30 (`tests/trial/test_fastpow.py`; numpy's r ** 2.4 is off by up
to 6e-15 there, the double 2.4 being 12/5 - 9e-17), as `kernel.power`'s 2.4 is r^(12/5) too.
r below 1e-300 counts as 1e-300 (its power, below 1e-720, underflows to 0 as pow's would).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

_SUBINTERVALS = 256
_MIDDLES = 1.0 + (np.arange(_SUBINTERVALS) + 0.5) / _SUBINTERVALS
#: m0^0.4 and 1 / m0 for each 1/256 of [1, 2); 2^(0.4 k), k = 0..4.
_POWERS = _MIDDLES ** 0.4
_RECIPROCALS = 1.0 / _MIDDLES
_FIFTHS = 2.0 ** (0.4 * np.arange(5))
#: (1 + t)^0.4 = 1 + B1 t + B2 t^2 + ...: the binomial coefficients C(0.4, k).
_B1, _B2, _B3, _B4, _B5 = (float(np.prod([(0.4 - j) / (j + 1) for j in range(k)]))
                           for k in range(1, 6))
_MANTISSA = (1 << 52) - 1
_ONE_BITS = 1023 << 52


def _bits_of(typingctx: Any, x: Any) -> Any:  # pragma: no cover - compile time
    """The IEEE-754 bits of a float64, as an int64."""
    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        return builder.bitcast(args[0], ir.IntType(64))
    return types.int64(types.float64), codegen


def _float_of(typingctx: Any, b: Any) -> Any:  # pragma: no cover - compile time
    """The float64 whose IEEE-754 bits are the int64 b."""
    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        return builder.bitcast(args[0], ir.DoubleType())
    return types.float64(types.int64), codegen


_bits: Any = intrinsic(_bits_of)
_float: Any = intrinsic(_float_of)


@njit(cache=True, inline="always")
def power_2_4(r: float) -> float:  # pragma: no cover - compiled
    """r ** 2.4 for r >= 0 (see the module's docstring)."""
    r = max(r, 1e-300)
    b: int = _bits(r)
    e = (b >> 52) - 1023
    mantissa = b & _MANTISSA
    j = mantissa >> 44  # which 1/256 of [1, 2)
    m: float = _float(mantissa | _ONE_BITS)
    t = (m - _MIDDLES[j]) * _RECIPROCALS[j]
    series = t * (_B1 + t * (_B2 + t * (_B3 + t * (_B4 + t * _B5))))
    q = e // 5
    two_q: float = _float((2 * q + 1023) << 52)
    scale = two_q * _FIFTHS[e - 5 * q]
    return float(r * r * ((_POWERS[j] + _POWERS[j] * series) * scale))
