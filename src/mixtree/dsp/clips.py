"""The clip reader: every audible clip of every track summed into its track buffer, one call."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from mixtree.dsp.fades import fade_gain
from mixtree.dsp.jit import njit
from mixtree.dsp.windows import Windows, base_of, fade_in, locate, set_want, streamed

if TYPE_CHECKING:
    from numba.typed import List


def source_list(sources: list[np.ndarray]) -> List:
    """Return a numba typed list referencing (not copying) ``sources``, as read-only views:
    the reader's type, float32 ``(frames, channels)`` read-only arrays."""
    if all(s.dtype == np.float32 and s.ndim == 2 and s.flags.c_contiguous for s in sources):
        from mixtree.dsp import listing

        return listing.sources(sources)
    from numba import types
    from numba.typed import List

    out = List.empty_list(types.Array(types.float32, 2, "C", readonly=True))
    for s in sources:
        out.append(s)
    return out


class ClipTable(NamedTuple):
    """Every whole-frame clip of a plan as parallel arrays, one row per clip."""

    track: np.ndarray  # int32 slot the clip sounds on
    start: np.ndarray  # int64 absolute first frame
    end: np.ndarray  # int64 absolute end frame (exclusive)
    source: np.ndarray  # int32 index into the plan's sources
    offset: np.ndarray  # int64 source frame at the clip's first frame
    gain: np.ndarray  # float32 linear
    fade_in: np.ndarray  # int64 frames
    fade_out: np.ndarray  # int64 frames
    curve: np.ndarray  # int8 fade curve code (`dsp.fades`)
    reversed: np.ndarray  # bool
    upmix: np.ndarray  # float32 gain of a mono source on each side (1 in a mono track, -3 dB in a stereo one)
    window: np.ndarray  # int64 (clips, 2) output frames the clip may sound in (narrower for aliases)


@njit(cache=True)
def read_clips(
    track_buf: np.ndarray, frames: int, block_start: int, clips: ClipTable, sources: List, win: Windows
) -> None:
    """Add every clip of ``clips`` overlapping ``[block_start, block_start + frames)`` into
    ``track_buf``.

    ``track_buf`` is float32 ``(slots, max_frames, 2)``, cleared by the caller; the table's
    ``source`` column names a reference of ``win``, whose buffers are the float32
    ``(frames, channels)`` arrays of ``sources`` (see `mixtree.dsp.windows`). A reversed
    clip plays frames ``offset + length - 1`` down to ``offset``. Audio-thread safe: no
    allocation.
    """
    clip_track, clip_start, clip_end, clip_source, clip_offset, clip_gain = (
        clips.track, clips.start, clips.end, clips.source, clips.offset, clips.gain
    )  # fmt: skip
    clip_fade_in, clip_fade_out, clip_curve, clip_reversed, clip_upmix, clip_window = (
        clips.fade_in, clips.fade_out, clips.curve, clips.reversed, clips.upmix, clips.window
    )  # fmt: skip
    block_end = block_start + frames
    for c in range(clip_track.shape[0]):
        start = clip_start[c]
        end = clip_end[c]
        length = end - start
        rev = clip_reversed[c]
        base = clip_offset[c]
        ref = clip_source[c]
        if streamed(win, ref):  # where the control side should read: here, or the clip's head
            i = min(max(block_start - start, 0), length - 1)
            set_want(win, ref, base + (length - 1 - i if rev else i))
        lo = max(start, block_start, clip_window[c, 0])
        hi = min(end, block_end, clip_window[c, 1])
        if lo >= hi:
            continue
        if rev:
            k = locate(win, ref, base + length - (hi - start), base + length - (lo - start))
        else:
            k = locate(win, ref, base + lo - start, base + hi - start)
        if k < 0:
            continue
        src = sources[k]
        base -= base_of(win, ref)  # the buffer holds the source from there on
        ramp = fade_in(win, ref)
        slot = clip_track[c]
        stereo = src.shape[1] > 1
        fin = clip_fade_in[c]
        fout = clip_fade_out[c]
        curve = clip_curve[c]
        gain = clip_gain[c]
        up = clip_upmix[c]
        # frames outside both fades share one gain: a tight loop; the fades go per frame
        flat_lo = max(lo, start + fin)
        flat_hi = min(hi, end - fout)
        if flat_lo < flat_hi and not rev and not ramp:
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
            if ramp:  # back after a late window: fade in over the block
                g *= (t - lo + 1) / (hi - lo)
            s = base + (k if rev else i)
            o = t - block_start
            if stereo:
                track_buf[slot, o, 0] += g * src[s, 0]
                track_buf[slot, o, 1] += g * src[s, 1]
            else:
                v = g * up * src[s, 0]
                track_buf[slot, o, 0] += v
                track_buf[slot, o, 1] += v


@njit(cache=True, inline="always")
def _copy(
    track_buf: np.ndarray, slot: int, o: int, src: np.ndarray, s: int, n: int, gain: float, up: float, stereo: bool
) -> None:
    # the same float32 products as the per-frame loop, without its branches
    if stereo and src.shape[1] == 2:  # both sides as one run of 2n samples: it vectorises
        out = track_buf[slot, o : o + n].reshape(2 * n)
        run = src[s : s + n].reshape(2 * n)
        for j in range(2 * n):
            out[j] += gain * run[j]
    elif stereo:
        for j in range(n):
            track_buf[slot, o + j, 0] += gain * src[s + j, 0]
            track_buf[slot, o + j, 1] += gain * src[s + j, 1]
    else:
        for j in range(n):
            v = gain * up * src[s + j, 0]
            track_buf[slot, o + j, 0] += v
            track_buf[slot, o + j, 1] += v
