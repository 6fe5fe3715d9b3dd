"""Bandlimited reading of a source at fractional positions: a Kaiser-windowed sinc.

A clip played at rate ``A`` source frames per output frame reads ``x(s)`` at fractional
``s``. For ``A > 1`` the kernel widens and its cutoff drops to the output's Nyquist, so
nothing aliases; for ``A < 1`` it interpolates at the source's bandwidth. The sinc is
tabulated once (`TABLE`, `RESOLUTION` points per zero crossing, linear interpolation
between them).
"""

from __future__ import annotations

import math

import numpy as np

from mixtree.dsp.jit import njit

#: Zero crossings on each side of the kernel at unity rate.
HALF_WIDTH = 32
#: Table points per zero crossing.
RESOLUTION = 512
#: Kaiser window shape (about -100 dB side lobes).
BETA = 10.0
#: Passband edge as a fraction of the lower Nyquist (leaves the transition band room).
CUTOFF = 0.94


def _table() -> np.ndarray:
    u = np.arange(HALF_WIDTH * RESOLUTION + 2) / RESOLUTION
    window = np.kaiser(2 * len(u) - 1, BETA)[len(u) - 1 :]
    h = np.sinc(u) * window
    h[-1] = 0.0
    return h.astype(np.float64)


TABLE = _table()


@njit(cache=True)
def taps_scale(rate: float) -> float:
    """Return the kernel's time scale for reading at ``rate`` (cutoff × min(1, 1/rate);
    a rate of 0, a tape standing still, reads at the source's bandwidth)."""
    if rate <= 1.0:
        return CUTOFF
    return CUTOFF * (1.0 / rate)


@njit(cache=True, inline="always")
def read(src: np.ndarray, base: int, frames: int, channel: int, s: float, scale: float, table: np.ndarray) -> float:
    """Return source ``channel`` at fractional frame ``s``, bandlimited to ``scale`` × Nyquist.

    ``src`` holds the source's frames from ``base`` on (a whole source: 0), ``frames`` is
    the source's length; frames outside the source count as silence, and those the
    kernel reaches must lie in ``src`` (`reach`). Audio-thread safe.
    """
    reach = HALF_WIDTH / scale
    lo = int(math.ceil(s - reach))
    hi = int(math.floor(s + reach))
    if lo < 0:
        lo = 0
    if hi > frames - 1:
        hi = frames - 1
    acc = 0.0
    step = scale * RESOLUTION
    for n in range(lo, hi + 1):
        pos = abs(s - n) * step
        k = int(pos)
        if k >= table.shape[0] - 1:
            continue
        frac = pos - k
        acc += src[n - base, channel] * (table[k] + frac * (table[k + 1] - table[k]))
    return acc * scale


@njit(cache=True, inline="always")
def reach(scale: float) -> int:
    """Return how many frames either side of a position `read` may read at ``scale``."""
    return int(math.ceil(HALF_WIDTH / scale)) + 1
