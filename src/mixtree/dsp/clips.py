"""The clip reader: every audible clip of every track summed into its track buffer, one call."""

from __future__ import annotations

import numba as nb
import numpy as np
from numba import types
from numba.typed import List

from mixtree.dsp.fades import fade_gain

#: The numba type of the source list the reader takes: float32 ``(frames, channels)``.
SOURCE_TYPE = types.Array(types.float32, 2, "C", readonly=True)


def source_list(sources: list[np.ndarray]) -> List:
    """Return a numba typed list referencing (not copying) ``sources``."""
    out = List.empty_list(SOURCE_TYPE)
    for s in sources:
        out.append(s)
    return out


@nb.njit(cache=True)
def read_clips(
    track_buf: np.ndarray,
    frames: int,
    block_start: int,
    clip_track: np.ndarray,
    clip_start: np.ndarray,
    clip_end: np.ndarray,
    clip_source: np.ndarray,
    clip_offset: np.ndarray,
    clip_gain: np.ndarray,
    clip_fade_in: np.ndarray,
    clip_fade_out: np.ndarray,
    clip_curve: np.ndarray,
    clip_reversed: np.ndarray,
    clip_upmix: np.ndarray,
    clip_window: np.ndarray,
    sources: List,
) -> None:
    """Add every clip overlapping ``[block_start, block_start + frames)`` into ``track_buf``.

    ``track_buf`` is float32 ``(slots, max_frames, 2)``, cleared by the caller. Clip arrays
    are per clip: the track slot, the absolute first and end frame, the source index and
    the source frame at the clip's first frame, linear gain, fade lengths in frames, fade
    curve code, reversed flag, and the gain a mono source gets on each side (1 in a mono
    track, -3 dB in a stereo one), and the window of output frames it may sound in (int64
    ``(clips, 2)``, narrower than the clip for aliases). A reversed clip plays frames
    ``offset + length - 1`` down to ``offset``. Audio-thread safe: no allocation.
    """
    block_end = block_start + frames
    for c in range(clip_track.shape[0]):
        start = clip_start[c]
        end = clip_end[c]
        lo = max(start, block_start, clip_window[c, 0])
        hi = min(end, block_end, clip_window[c, 1])
        if lo >= hi:
            continue
        slot = clip_track[c]
        src = sources[clip_source[c]]
        stereo = src.shape[1] > 1
        length = end - start
        fin = clip_fade_in[c]
        fout = clip_fade_out[c]
        curve = clip_curve[c]
        gain = clip_gain[c]
        up = clip_upmix[c]
        rev = clip_reversed[c]
        base = clip_offset[c]
        # frames outside both fades share one gain: a tight loop; the fades go per frame
        flat_lo = max(lo, start + fin)
        flat_hi = min(hi, end - fout)
        if flat_lo < flat_hi and not rev:
            _copy(
                track_buf, slot, flat_lo - block_start, src, base + flat_lo - start, flat_hi - flat_lo, gain, up, stereo
            )
        else:
            flat_lo = flat_hi = lo
        for t in range(lo, hi):
            if flat_lo <= t < flat_hi:
                continue
            i = t - start
            g = gain
            if i < fin:
                g *= fade_gain(i / fin, curve)
            k = length - 1 - i
            if k < fout:
                g *= fade_gain(k / fout, curve)
            s = base + (k if rev else i)
            o = t - block_start
            if stereo:
                track_buf[slot, o, 0] += g * src[s, 0]
                track_buf[slot, o, 1] += g * src[s, 1]
            else:
                v = g * up * src[s, 0]
                track_buf[slot, o, 0] += v
                track_buf[slot, o, 1] += v


@nb.njit(cache=True, inline="always")
def _copy(
    track_buf: np.ndarray, slot: int, o: int, src: np.ndarray, s: int, n: int, gain: float, up: float, stereo: bool
) -> None:
    # the same float32 products as the per-frame loop, without its branches
    if stereo:
        for j in range(n):
            track_buf[slot, o + j, 0] += gain * src[s + j, 0]
            track_buf[slot, o + j, 1] += gain * src[s + j, 1]
    else:
        for j in range(n):
            v = gain * up * src[s + j, 0]
            track_buf[slot, o + j, 0] += v
            track_buf[slot, o + j, 1] += v
