"""The varispeed clip reader: clips whose source plays at a rate other than 1, resampled once.

Each row maps output frames to its clip's own timeline linearly, so a clip nested under
any number of metatracks is read with one bandlimited interpolation (`resample.read`).
Under a metatrack whose speed is automated, the map is linear in that warp's child time
instead (`mixtree.dsp.warp`): the rate changes from frame to frame, and so does the
bandlimit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from mixtree.dsp.fades import fade_gain
from mixtree.dsp.jit import njit
from mixtree.dsp.resample import TABLE, reach, read, taps_scale
from mixtree.dsp.warp import WarpTable
from mixtree.dsp.windows import FRAMES, Windows, base_of, fade_in, locate, set_want, streamed

if TYPE_CHECKING:
    from numba.typed import List


class VarispeedTable(NamedTuple):
    """Every clip of a plan whose source plays at a rate other than 1, one row each.

    A row under a warp (``warp`` >= 0) counts ``t0`` and ``a`` in frames of that warp's
    child time instead of output frames."""

    track: np.ndarray  # int32 slot the clip sounds on
    t0: np.ndarray  # float64 output frame (fractional) of the clip's start
    a: np.ndarray  # float64 clip-timeline frames per output frame
    length: np.ndarray  # float64 the clip's length in timeline frames
    speed: np.ndarray  # float64 source frames per timeline frame
    source: np.ndarray  # int32 index into the plan's sources
    offset: np.ndarray  # float64 source frame of the clip's start
    gain: np.ndarray  # float64 linear
    fade_in: np.ndarray  # float64 timeline frames
    fade_out: np.ndarray  # float64 timeline frames
    curve: np.ndarray  # int8 fade curve code
    reversed: np.ndarray  # bool
    upmix: np.ndarray  # float64 gain of a mono source on each side
    window: np.ndarray  # int64 (rows, 2) output frames the row may sound in (aliases)
    warp: np.ndarray  # int32 the warp whose child time the row counts in, -1: output time


@njit(cache=True)
def read_varispeed(
    track_buf: np.ndarray,
    frames: int,
    block_start: int,
    rows: VarispeedTable,
    sources: List,
    warps: WarpTable,
    win: Windows,
) -> None:
    """Add every varispeed clip of ``rows`` overlapping the block into ``track_buf``,
    resampled once (`resample.read`), through the windows ``win`` (`mixtree.dsp.windows`);
    ``warps`` holds the block's warped times (`mixtree.dsp.warp.fill_warps`).
    Audio-thread safe: no allocation."""
    row_track, row_t0, row_a, row_length, row_speed, row_source, row_offset = (
        rows.track, rows.t0, rows.a, rows.length, rows.speed, rows.source, rows.offset
    )  # fmt: skip
    row_gain, row_fade_in, row_fade_out, row_curve, row_reversed, row_upmix, row_window = (
        rows.gain, rows.fade_in, rows.fade_out, rows.curve, rows.reversed, rows.upmix, rows.window
    )  # fmt: skip
    table = TABLE
    block_end = block_start + frames
    for r in range(row_track.shape[0]):
        if rows.warp[r] >= 0:
            _read_warped(track_buf, frames, block_start, rows, r, sources, warps, win)
            continue
        a = row_a[r]
        t0 = row_t0[r]
        length = row_length[r]
        ref = row_source[r]
        speed = row_speed[r]
        rev = row_reversed[r]
        if streamed(win, ref):
            set_want(win, ref, int(_source_at(rows, r, min(max(a * (block_start - t0), 0.0), length))))
        lo = max(block_start, int(np.ceil(t0)), row_window[r, 0])
        hi = min(block_end, int(np.ceil(t0 + length / a)), row_window[r, 1])
        if lo >= hi:
            continue
        scale = taps_scale(a * speed)
        s0 = _source_at(rows, r, min(max(a * (lo - t0), 0.0), length))
        s1 = _source_at(rows, r, min(max(a * (hi - 1 - t0), 0.0), length))
        far = reach(scale)
        k = locate(win, ref, int(np.floor(min(s0, s1))) - far, int(np.floor(max(s0, s1))) + far + 1)
        if k < 0:
            continue
        src = sources[k]
        base = base_of(win, ref)
        total = win.refs[ref, FRAMES]
        ramp = fade_in(win, ref)
        slot = row_track[r]
        stereo = src.shape[1] > 1
        fin = row_fade_in[r]
        fout = row_fade_out[r]
        for t in range(lo, hi):
            j = a * (t - t0)
            if j < 0.0 or j >= length:
                continue
            g = row_gain[r]
            if j < fin:
                g *= fade_gain(j / fin, row_curve[r])
            k = length - j
            if k < fout:
                g *= fade_gain(k / fout, row_curve[r])
            if ramp:  # back after a late window: fade in over the block
                g *= (t - lo + 1) / (hi - lo)
            if rev:
                s = row_offset[r] + (length - j) * speed - 1.0
            else:
                s = row_offset[r] + j * speed
            o = t - block_start
            if stereo:
                track_buf[slot, o, 0] += g * read(src, base, total, 0, s, scale, table)
                track_buf[slot, o, 1] += g * read(src, base, total, 1, s, scale, table)
            else:
                v = g * row_upmix[r] * read(src, base, total, 0, s, scale, table)
                track_buf[slot, o, 0] += v
                track_buf[slot, o, 1] += v


@njit(cache=True)
def _read_warped(
    track_buf: np.ndarray,
    frames: int,
    block_start: int,
    rows: VarispeedTable,
    r: int,
    sources: List,
    warps: WarpTable,
    win: Windows,
) -> None:
    # row r under a warp: its timeline position and rate come from the warp, per frame
    w = rows.warp[r]
    times = warps.times[w]
    rates = warps.rates[w]
    a = rows.a[r]
    t0 = rows.t0[r]
    length = rows.length[r]
    ref = rows.source[r]
    speed = rows.speed[r]
    if streamed(win, ref):
        set_want(win, ref, int(_source_at(rows, r, min(max(a * (times[0] - t0), 0.0), length))))
    # the child time never runs backwards: a row outside the block's span is silent
    if a * (times[frames - 1] - t0) < 0.0 or a * (times[0] - t0) >= length:
        return
    lo = max(block_start, rows.window[r, 0])
    hi = min(block_start + frames, rows.window[r, 1])
    if lo >= hi:
        return
    top = 0.0
    for i in range(lo - block_start, hi - block_start):
        top = max(top, rates[i])
    far = reach(taps_scale(a * speed * top))
    s0 = _source_at(rows, r, min(max(a * (times[lo - block_start] - t0), 0.0), length))
    s1 = _source_at(rows, r, min(max(a * (times[hi - 1 - block_start] - t0), 0.0), length))
    k = locate(win, ref, int(np.floor(min(s0, s1))) - far, int(np.floor(max(s0, s1))) + far + 1)
    if k < 0:
        return
    src = sources[k]
    base = base_of(win, ref)
    total = win.refs[ref, FRAMES]
    ramp = fade_in(win, ref)
    slot = rows.track[r]
    stereo = src.shape[1] > 1
    fin = rows.fade_in[r]
    fout = rows.fade_out[r]
    table = TABLE
    for t in range(lo, hi):
        i = t - block_start
        j = a * (times[i] - t0)
        if j < 0.0 or j >= length:
            continue
        g = rows.gain[r]
        if j < fin:
            g *= fade_gain(j / fin, rows.curve[r])
        k = length - j
        if k < fout:
            g *= fade_gain(k / fout, rows.curve[r])
        if ramp:  # back after a late window: fade in over the block
            g *= (t - lo + 1) / (hi - lo)
        if rows.reversed[r]:
            s = rows.offset[r] + (length - j) * speed - 1.0
        else:
            s = rows.offset[r] + j * speed
        scale = taps_scale(a * speed * rates[i])
        if stereo:
            track_buf[slot, i, 0] += g * read(src, base, total, 0, s, scale, table)
            track_buf[slot, i, 1] += g * read(src, base, total, 1, s, scale, table)
        else:
            v = g * rows.upmix[r] * read(src, base, total, 0, s, scale, table)
            track_buf[slot, i, 0] += v
            track_buf[slot, i, 1] += v


@njit(cache=True, inline="always")
def _source_at(rows: VarispeedTable, r: int, j: float) -> float:
    # the source frame row r reads at timeline frame j of its clip
    if rows.reversed[r]:
        return rows.offset[r] + (rows.length[r] - j) * rows.speed[r] - 1.0
    return rows.offset[r] + j * rows.speed[r]
