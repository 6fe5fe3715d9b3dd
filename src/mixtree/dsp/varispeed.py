"""The varispeed clip reader: clips whose source plays at a rate other than 1, resampled once.

Each row maps output frames to its clip's own timeline linearly, so a clip nested under
any number of metatracks is read with one bandlimited interpolation (`resample.read`).
"""

from __future__ import annotations

import numba as nb
import numpy as np
from numba.typed import List

from mixtree.dsp.fades import fade_gain
from mixtree.dsp.resample import TABLE, read, taps_scale


@nb.njit(cache=True)
def read_varispeed(
    track_buf: np.ndarray,
    frames: int,
    block_start: int,
    row_track: np.ndarray,
    row_t0: np.ndarray,
    row_a: np.ndarray,
    row_length: np.ndarray,
    row_speed: np.ndarray,
    row_source: np.ndarray,
    row_offset: np.ndarray,
    row_gain: np.ndarray,
    row_fade_in: np.ndarray,
    row_fade_out: np.ndarray,
    row_curve: np.ndarray,
    row_reversed: np.ndarray,
    row_upmix: np.ndarray,
    row_window: np.ndarray,
    sources: List,
) -> None:
    """Add every varispeed clip overlapping the block into ``track_buf``.

    Per row: the track slot; ``t0``, the output frame (fractional) of the clip's start;
    ``a``, clip-timeline frames per output frame; ``length``, the clip's length in
    timeline frames; ``speed``, source frames per timeline frame; the source index and
    the source frame of the clip's start; linear gain; fades in timeline frames, curve,
    reversed flag, mono upmix gain; ``window`` (int64 ``(rows, 2)``), output frames the row
    may sound in (aliases). Audio-thread safe: no allocation.
    """
    table = TABLE
    block_end = block_start + frames
    for r in range(row_track.shape[0]):
        a = row_a[r]
        t0 = row_t0[r]
        length = row_length[r]
        lo = max(block_start, int(np.ceil(t0)), row_window[r, 0])
        hi = min(block_end, int(np.ceil(t0 + length / a)), row_window[r, 1])
        if lo >= hi:
            continue
        slot = row_track[r]
        src = sources[row_source[r]]
        stereo = src.shape[1] > 1
        speed = row_speed[r]
        scale = taps_scale(a * speed)
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
            if row_reversed[r]:
                s = row_offset[r] + (length - j) * speed - 1.0
            else:
                s = row_offset[r] + j * speed
            o = t - block_start
            if stereo:
                track_buf[slot, o, 0] += g * read(src, 0, s, scale, table)
                track_buf[slot, o, 1] += g * read(src, 1, s, scale, table)
            else:
                v = g * row_upmix[r] * read(src, 0, s, scale, table)
                track_buf[slot, o, 0] += v
                track_buf[slot, o, 1] += v
