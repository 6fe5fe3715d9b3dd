"""Automation curves: the shape of a segment between two points, its value and integral.

A point's shape governs the segment from it to the next point. With u in [0, 1] across
the segment, the value is v = v0 + (v1 − v0)·f(u), where f is:

- ``hold``: f = 0 (the value jumps at the next point)
- ``linear``: f = u
- ``smooth``: f = u²(3 − 2u)
- ``s_curve``: f = (1 − cos πu) / 2
- ``fast_start``: f = 1 − (1 − u)³
- ``fast_end``: f = u³
- ``geometric``: v = v0·(v1 / v0)^u, for values of one sign (Hz, speeds)
- ``bend`` with tension c in [−1, 1]: the quadratic Bézier from (0, 0) to (1, 1) whose
  control point is (a, 1 − a), a = (1 + c)/2. Its parameter at u is
  s = u / (a + √(a² + (1 − 2a)·u)) (stable near c = 0, where the curve is linear), and
  f = 2s(1 − s)(1 − a) + s². Positive c starts slow; bend(c)(u) + bend(−c)(1 − u) = 1.

The integral F(u) = ∫₀ᵘ f is closed-form for every shape (a metatrack's speed lane is
integrated into its children's time): for ``bend``, substituting u = x(s) gives a
polynomial in s. Everything here is float64 and audio-thread safe.
"""

from __future__ import annotations

import math

import numpy as np

from mixtree.dsp.jit import njit

#: Shape names, by the code the kernels use.
SHAPES = ("hold", "linear", "smooth", "s_curve", "fast_start", "fast_end", "geometric", "bend")
HOLD, LINEAR, SMOOTH, S_CURVE, FAST_START, FAST_END, GEOMETRIC, BEND = range(len(SHAPES))


def shape_code(name: str) -> int:
    """Return the kernel code of the shape ``name``; raise ``ValueError`` if unknown."""
    if name not in SHAPES:
        raise ValueError(f"shape must be one of {', '.join(SHAPES)}, not {name!r}")
    return SHAPES.index(name)


@njit(cache=True, inline="always", control=True)
def _bend_s(u: float, a: float) -> float:
    if u <= 0.0:
        return 0.0  # 0/0 at tension -1
    return u / (a + math.sqrt(a * a + (1.0 - 2.0 * a) * u))


@njit(cache=True, control=True)
def curve(shape: int, u: float, tension: float) -> float:
    """Return f(u) of ``shape`` (see the module; ``geometric`` is shaped by its values
    and returns u here). f(0) = 0 and f(1) = 1 for all but ``hold``."""
    if shape == HOLD:
        return 0.0
    if shape == SMOOTH:
        return u * u * (3.0 - 2.0 * u)
    if shape == S_CURVE:
        return 0.5 - 0.5 * math.cos(math.pi * u)
    if shape == FAST_START:
        w = 1.0 - u
        return 1.0 - w * w * w
    if shape == FAST_END:
        return u * u * u
    if shape == BEND:
        a = 0.5 * (1.0 + tension)
        s = _bend_s(u, a)
        return 2.0 * s * (1.0 - s) * (1.0 - a) + s * s
    return u


@njit(cache=True, control=True)
def curve_integral(shape: int, u: float, tension: float) -> float:
    """Return F(u) = ∫₀ᵘ f(w) dw of ``shape`` (``geometric``: that of ``linear``)."""
    if shape == HOLD:
        return 0.0
    if shape == SMOOTH:
        return u * u * u - 0.5 * u * u * u * u
    if shape == S_CURVE:
        return 0.5 * u - math.sin(math.pi * u) / (2.0 * math.pi)
    if shape == FAST_START:
        w = 1.0 - u
        return u - 0.25 * (1.0 - w * w * w * w)
    if shape == FAST_END:
        return 0.25 * u * u * u * u
    if shape == BEND:
        # u = x(s) = 2as + (1 − 2a)s², f = y(s) = 2(1 − a)s + (2a − 1)s²: F = ∫ y(s) x'(s) ds
        a = 0.5 * (1.0 + tension)
        s = _bend_s(u, a)
        b = 1.0 - 2.0 * a
        c2 = 4.0 * (1.0 - a) * b - 2.0 * a * b
        return 2.0 * a * (1.0 - a) * s * s + c2 * s * s * s / 3.0 - 0.5 * b * b * s * s * s * s
    return 0.5 * u * u


@njit(cache=True, control=True)
def segment_value(v0: float, v1: float, shape: int, tension: float, u: float) -> float:
    """Return the value at ``u`` across a segment from ``v0`` to ``v1``."""
    if shape == GEOMETRIC:
        return v0 * math.exp(u * math.log(v1 / v0))
    return v0 + (v1 - v0) * curve(shape, u, tension)


@njit(cache=True, control=True)
def segment_integral(v0: float, v1: float, shape: int, tension: float, u: float) -> float:
    """Return ∫₀ᵘ v du across a segment from ``v0`` to ``v1`` (in units of the segment's
    length: multiply by it for time)."""
    if shape == GEOMETRIC:
        k = math.log(v1 / v0)
        if k == 0.0:
            return v0 * u
        return v0 * (math.exp(u * k) - 1.0) / k
    return v0 * u + (v1 - v0) * curve_integral(shape, u, tension)


@njit(cache=True, control=True)
def point_at(at: np.ndarray, lo: int, hi: int, x: float) -> int:
    """Return the index of the last point in ``at[lo:hi]`` at or before ``x`` (``lo - 1``
    when ``x`` is before them all): the point whose segment plays at ``x``."""
    a, b = lo, hi
    while a < b:
        m = (a + b) // 2
        if at[m] <= x:
            a = m + 1
        else:
            b = m
    return a - 1


@njit(cache=True, control=True)
def lane_value(
    at: np.ndarray, value: np.ndarray, shape: np.ndarray, tension: np.ndarray, lo: int, hi: int, x: float
) -> float:
    """Return the value of the lane whose points are rows ``lo:hi`` at position ``x``.

    Before the first point it holds the first value, after the last the last one; a point
    takes effect at ``x`` >= its position; of two points at one position the later wins.
    """
    k = point_at(at, lo, hi, x)
    if k < lo:
        return value[lo]
    if k >= hi - 1:
        return value[hi - 1]
    span = at[k + 1] - at[k]
    return segment_value(value[k], value[k + 1], shape[k], tension[k], (x - at[k]) / span)
