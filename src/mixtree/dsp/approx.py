"""Natural logarithm and exponential in plain arithmetic, for kernels that take one per
few frames (the compressor's level and gain).

libm's ``log`` and ``exp`` are calls the compiler can neither inline nor vectorise; these
are a dozen multiplies and adds each, the same operations in the same order wherever
they run, so a kernel gives the same bits whether it takes them one at a time or a
block at a time. Both are accurate to a few units in the last place of a float64: far
below anything a float32 sample can hold.
"""

from __future__ import annotations

import math

import numpy as np

from mixtree.dsp.jit import njit

_LN2 = math.log(2.0)
#: ln 2 in two parts (fdlibm's), the first with trailing zero bits so ``n · _LN2_HI`` is exact.
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_LOG2E = 1.0 / _LN2
_SQRT2 = math.sqrt(2.0)
_MANTISSA = (1 << 52) - 1
_ONE = 1023 << 52  # the bits of 1.0
#: The range `exp` takes: beyond it the result would leave float64's normal numbers.
EXP_LIMIT = 700.0
#: The series `ln` and `exp` sum (highest power first): 1/17, 1/15, ..., 1/3, 1 (of atanh,
#: in t²), and 1/13!, 1/12!, ..., 1/1!, 1/0! (of e^r, in r).
_ATANH = tuple(1.0 / k for k in range(17, 0, -2))
_TAYLOR = tuple(1.0 / math.factorial(k) for k in range(13, -1, -1))


@njit(cache=True, inline="always")
def _horner(coefficients: tuple[float, ...], x: float) -> float:
    # the polynomial with these coefficients (highest power first) at ``x``
    s = coefficients[0]
    for k in range(1, len(coefficients)):
        s = s * x + coefficients[k]
    return s


@njit(cache=True, inline="always")
def ln(x: float) -> float:
    """Return the natural logarithm of a positive, normal ``x`` (no checks: callers clamp).

    ``x = 2^e · m`` with ``m`` in [√½, √2), read from the float's bits; then
    ``ln m = 2 atanh t`` with ``t = (m − 1)/(m + 1)``, ``|t| ≤ 0.1716``, summed to
    ``t¹⁷``: the first term left out is under 4·10⁻¹⁶ (absolute).
    """
    bits = np.float64(x).view(np.int64)
    e = (bits >> 52) - 1023
    m = np.int64((bits & _MANTISSA) | _ONE).view(np.float64)  # in [1, 2)
    big = m > _SQRT2
    m = m * 0.5 if big else m
    e = e + 1 if big else e
    t = (m - 1.0) / (m + 1.0)
    return float(e) * _LN2 + 2.0 * t * _horner(_ATANH, t * t)


@njit(cache=True, inline="always")
def exp(y: float) -> float:
    """Return ``e^y``, ``y`` clamped to ±`EXP_LIMIT`.

    ``y = (n + f)·ln 2`` with ``n`` an integer and ``|f| ≤ ½``; ``2ⁿ`` is made in the
    float's bits and ``e^(f ln 2)`` summed as its Taylor series to the 13th power: the
    first term left out is under 10⁻¹⁷ of the result.
    """
    y = min(max(y, -EXP_LIMIT), EXP_LIMIT)
    n = math.floor(y * _LOG2E + 0.5)
    r = (y - n * _LN2_HI) - n * _LN2_LO
    return _horner(_TAYLOR, r) * np.int64((np.int64(n) + 1023) << 52).view(np.float64)
