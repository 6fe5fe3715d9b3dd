"""Fade curves: gain rising from exactly 0 to exactly 1, shared by clips and crossfades."""

from __future__ import annotations

import math

from mixtree.dsp.jit import njit

#: Fade curve names, by the code the kernels use.
CURVES = ("linear", "equal_power", "exponential", "logarithmic", "s_curve")


def curve_code(name: str) -> int:
    """Return the kernel code of the fade curve ``name``; raise ``ValueError`` if unknown."""
    try:
        return CURVES.index(name)
    except ValueError:
        raise ValueError(f"fade curve must be one of {', '.join(CURVES)}, not {name!r}") from None


@njit("float32(float64, int64)", cache=True, inline="always")
def fade_gain(x: float, curve: int) -> float:
    """Return the gain at progress ``x`` in [0, 1] of a fade-in with curve code ``curve``.

    Every curve gives 0 at 0 and 1 at 1, so a fade starts and ends without a step.
    Audio-thread safe: pure arithmetic.
    """
    if curve == 1:
        return math.sin(x * (math.pi / 2.0))
    if curve == 2:
        return x * x
    if curve == 3:
        return 1.0 - (1.0 - x) * (1.0 - x)
    if curve == 4:
        return 0.5 - 0.5 * math.cos(math.pi * x)
    return x
