"""Automation lanes in a plan: every lane's points in output frames, evaluated per frame."""

from __future__ import annotations

from typing import NamedTuple

import numba as nb
import numpy as np
from numba.typed import List

from mixtree.dsp.curves import HOLD, point_at, segment_value


class LaneTable(NamedTuple):
    """Every lane of a plan: the points of lane ``k`` are rows ``lo[k]:hi[k]``.

    ``at`` holds each point's position in output frames (fractional: the frame a point
    takes effect on is the first at or after it), ``value``/``shape``/``tension`` the
    point itself; ``ramp`` is each lane's de-click length in frames: where its value jumps
    (after a ``hold``, or at two points on one position) it glides there linearly over
    that many frames, the first of them the point's own, as the parameter's own
    smoothing would.
    """

    at: np.ndarray  # float64
    value: np.ndarray  # float64
    shape: np.ndarray  # int64 shape code (`dsp.curves`)
    tension: np.ndarray  # float64
    lo: np.ndarray  # int64
    hi: np.ndarray  # int64
    ramp: np.ndarray  # float64


def empty_lanes() -> LaneTable:
    """Return a table of no lanes."""
    z = np.zeros(0)
    i = np.zeros(0, np.int64)
    return LaneTable(z, z, i, z, i, i, z)


@nb.njit(cache=True)
def fill_lane(lanes: LaneTable, k: int, first: int, frames: int, out: np.ndarray) -> None:
    """Write lane ``k``'s exact value at output frames ``first .. first + frames - 1`` into
    ``out[:frames]``. Every frame's value depends on its position alone, so block sizes
    do not change it. Audio-thread safe: no allocation."""
    at, value, shape, tension = lanes.at, lanes.value, lanes.shape, lanes.tension
    lo = lanes.lo[k]
    hi = lanes.hi[k]
    ramp = lanes.ramp[k]
    j = point_at(at, lo, hi, float(first))
    for i in range(frames):
        x = float(first + i)
        while j + 1 < hi and at[j + 1] <= x:
            j += 1
        if j < lo:
            out[i] = value[lo]
            continue
        if j >= hi - 1:
            v = value[hi - 1]
        else:
            v = segment_value(value[j], value[j + 1], shape[j], tension[j], (x - at[j]) / (at[j + 1] - at[j]))
        d = x - at[j] + 1.0  # the glide's first frame is the point's own
        if ramp > 0.0 and j > lo and d < ramp and (shape[j - 1] == HOLD or at[j - 1] == at[j]):
            held = value[j - 1]  # the value it jumps from
            v = held + (v - held) * d / ramp
        out[i] = v


class ParameterLanes(NamedTuple):
    """Effect parameters under automation: entry ``e`` writes lane ``lane[e]`` into row
    ``param[e]`` of the per-frame array ``target[e]`` of a plan's automation arrays (one
    array ``(parameters, max_block)`` per automated effect, NaN rows for the parameters
    without a lane; see `mixtree.dsp.smoothing.value_at`)."""

    lane: np.ndarray  # int64
    target: np.ndarray  # int64
    param: np.ndarray  # int64


@nb.njit(cache=True)
def fill_parameters(lanes: LaneTable, entries: ParameterLanes, arrays: List, first: int, frames: int) -> None:
    """Write every automated effect parameter's values for output frames ``first ..
    first + frames - 1``. Audio-thread safe: no allocation."""
    for e in range(entries.lane.shape[0]):
        fill_lane(lanes, entries.lane[e], first, frames, arrays[entries.target[e]][entries.param[e]])
