"""Time warps: a metatrack's automated speed, integrated into its children's time per frame.

A metatrack whose ``speed`` is automated maps a time τ of the timeline it sits on to its
children's time c(τ) = ∫ speed(u) du from its ``offset`` to τ: for a constant speed this
is (τ − offset) × speed, and a ramp from 1 to 0 is a tape stop. Each warp integrates its
lane in closed form (`curves.segment_integral`), so c is exact at every frame whatever
the block size. Warps nest: the τ a warp reads is a·x + b, where x is its parent warp's
child time (or output time, in seconds, at the top).

Speeds are never negative, so c never runs backwards: a child time that is reached at
all is reached at a first time, which is where `integral_inverse` places it.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from mixtree.dsp.curves import lane_value, point_at, segment_integral
from mixtree.dsp.jit import njit


class WarpTable(NamedTuple):
    """Every warp of a plan, parents before children: warp ``w``'s speed points are rows
    ``lo[w]:hi[w]``, at times ``at`` of the timeline the metatrack sits on (seconds).

    ``area[k]`` is the integral of the speed from the warp's ``offset`` to point ``k``.
    ``times[w, i]`` and ``rates[w, i]`` are written every block (`fill_warps`): the child
    time of the block's frame ``i``, in frames (seconds × sample rate), and its
    derivative against output time.
    """

    parent: np.ndarray  # int64 enclosing warp, -1: output time
    a: np.ndarray  # float64: the metatrack's time is a × (parent's child time) + b
    b: np.ndarray  # float64
    offset: np.ndarray  # float64 the metatrack time where child time is 0
    lo: np.ndarray  # int64
    hi: np.ndarray  # int64
    at: np.ndarray  # float64 point times
    value: np.ndarray  # float64 speeds
    shape: np.ndarray  # int64 shape codes
    tension: np.ndarray  # float64
    area: np.ndarray  # float64 integral from the offset to each point
    times: np.ndarray  # float64 (warps, max_block) child time of each frame of the block, frames
    rates: np.ndarray  # float64 (warps, max_block) child seconds per output second


@njit(cache=True, control=True)
def speed_integral(
    at: np.ndarray, value: np.ndarray, shape: np.ndarray, tension: np.ndarray, area: np.ndarray, lo: int, hi: int,
    x: float,
) -> float:  # fmt: skip
    """Return ∫ speed up to ``x`` of the lane in rows ``lo:hi``, counted from where
    ``area`` is 0 (before the first point the first speed holds, after the last the last)."""
    k = point_at(at, lo, hi, x)
    if k < lo:
        return area[lo] + value[lo] * (x - at[lo])
    if k >= hi - 1:
        return area[hi - 1] + value[hi - 1] * (x - at[hi - 1])
    span = at[k + 1] - at[k]
    return area[k] + span * segment_integral(value[k], value[k + 1], shape[k], tension[k], (x - at[k]) / span)


def areas(at: np.ndarray, value: np.ndarray, shape: np.ndarray, tension: np.ndarray, offset: float) -> np.ndarray:
    """Return the integral of a speed lane from ``offset`` to each of its points (what
    `WarpTable.area` holds for it)."""
    out = np.zeros(at.shape[0])
    for k in range(at.shape[0] - 1):
        span = at[k + 1] - at[k]
        whole = span * segment_integral(value[k], value[k + 1], shape[k], tension[k], 1.0) if span > 0 else 0.0
        out[k + 1] = out[k] + whole
    return out - speed_integral(at, value, shape, tension, out, 0, at.shape[0], offset)


@njit(cache=True)
def fill_warps(table: WarpTable, first: int, frames: int, rate: float) -> None:
    """Write every warp's child time and rate for output frames ``first .. first +
    frames - 1``. Audio-thread safe: no allocation."""
    times, rates = table.times, table.rates
    at, value, shape, tension, area = table.at, table.value, table.shape, table.tension, table.area
    for w in range(table.parent.shape[0]):
        p = table.parent[w]
        a = table.a[w]
        b = table.b[w]
        lo = table.lo[w]
        hi = table.hi[w]
        for i in range(frames):
            if p < 0:
                x = (first + i) / rate
                dx = 1.0
            else:
                x = times[p, i] / rate
                dx = rates[p, i]
            tau = a * x + b
            times[w, i] = speed_integral(at, value, shape, tension, area, lo, hi, tau) * rate
            speed = lane_value(at, value, shape, tension, lo, hi, tau)
            rates[w, i] = speed * a * dx


@njit(cache=True, control=True)
def integral_inverse(
    at: np.ndarray, value: np.ndarray, shape: np.ndarray, tension: np.ndarray, area: np.ndarray, lo: int, hi: int,
    child: float,
) -> float:  # fmt: skip
    """Return the first time whose `speed_integral` is ``child``: ±inf where it is never
    reached (the speed is 0 from the last point on, or before the first)."""
    if child < area[lo]:
        return at[lo] - (area[lo] - child) / value[lo] if value[lo] > 0.0 else -np.inf
    k = lo
    while k + 1 < hi and area[k + 1] < child:
        k += 1
    if k == hi - 1:
        if child == area[k]:
            return at[k]
        return at[k] + (child - area[k]) / value[k] if value[k] > 0.0 else np.inf
    span = at[k + 1] - at[k]
    u0, u1 = 0.0, 1.0
    for _ in range(64):  # bisection to the float: the integral is monotone, its inverse has no closed form
        u = 0.5 * (u0 + u1)
        if area[k] + span * segment_integral(value[k], value[k + 1], shape[k], tension[k], u) < child:
            u0 = u
        else:
            u1 = u
    return at[k] + u1 * span


def child_seconds(table: WarpTable, w: int, frame: int, rate: float) -> float:
    """Return warp ``w``'s child time at output ``frame``, in seconds (what `fill_warps`
    works out per block, for one frame: control side)."""
    chain = []
    while w >= 0:
        chain.append(w)
        w = int(table.parent[w])
    x = frame / rate
    for w in reversed(chain):
        tau = table.a[w] * x + table.b[w]
        lo, hi = int(table.lo[w]), int(table.hi[w])
        x = float(speed_integral(table.at, table.value, table.shape, table.tension, table.area, lo, hi, tau))
    return x
