"""The windows clip readers read sources through: a whole array, or buffers over part of a file.

A plan's clip rows name a source *reference*. A reference to audio held in memory has
one buffer, the whole array; a streamed reference (one per clip row that plays a
streamed source) has a few fixed buffers, each holding frames ``base .. end`` of the
source, which the control side keeps filled ahead of the playhead. Before reading a
block a reader asks `locate` for a buffer that holds every frame the block needs; if
none does, the row is silent for the block, its ``missed`` count goes up and
``last_miss`` names it. After a silent block a row fades in over the next one, so a
late window does not click.
"""

from __future__ import annotations

from typing import NamedTuple

import numba as nb
import numpy as np


class Windows(NamedTuple):
    """Buffers (``base``, ``end`` per buffer) and references (the rest, per reference).

    ``end`` is -1 while the control side refills a buffer. ``want`` and ``need_lo`` /
    ``need_hi`` are written by the readers for the control side: the source frame a
    streamed reference is at in the latest block (clamped to its clip's span, so a clip
    yet to start asks for its head), and the frames a missed block needed.
    """

    base: np.ndarray  # int64 (buffers,) source frame of the buffer's row 0
    end: np.ndarray  # int64 (buffers,) source frame where the buffer's valid frames end
    size: np.ndarray  # int64 (buffers,) the buffer's length in frames
    first: np.ndarray  # int32 (refs,) the reference's first buffer
    count: np.ndarray  # int32 (refs,) its number of buffers
    frames: np.ndarray  # int64 (refs,) the source's length
    streamed: np.ndarray  # bool (refs,)
    want: np.ndarray  # int64 (refs,)
    need_lo: np.ndarray  # int64 (refs,)
    need_hi: np.ndarray  # int64 (refs,)
    missed: np.ndarray  # int64 (refs,) blocks played silent for want of data
    silent: np.ndarray  # bool (refs,) the last block was silent: fade in
    last_miss: np.ndarray  # int64 (1,) 1 + the reference missed last (0: none since cleared)
    at: np.ndarray  # int64 (refs,) the base of the buffer `locate` found last
    source_id: np.ndarray  # int64 (refs,) the id of the source (for events naming it)


def memory_windows(arrays: list[np.ndarray]) -> Windows:
    """Return windows of one whole buffer per array (no streaming)."""
    frames = [a.shape[0] for a in arrays]
    return make_windows(frames, [1] * len(arrays), [False] * len(arrays), frames)


def make_windows(
    frames: list[int], counts: list[int], streamed: list[bool], sizes: list[int], ids: list[int] | None = None
) -> Windows:
    """Return windows for references of ``frames`` source frames and ``counts`` buffers of
    ``sizes`` frames (one size per buffer); in-memory references (one buffer) hold all
    their frames, streamed ones nothing yet."""
    n = len(frames)
    count = np.array(counts, np.int32).reshape(n)
    first = (np.cumsum(count) - count).astype(np.int32)
    total = int(count.sum())
    base = np.zeros(total, np.int64)
    end = np.full(total, -1, np.int64)
    for r in range(n):
        if not streamed[r]:
            end[first[r]] = frames[r]
    return Windows(
        base=base,
        end=end,
        size=np.array(sizes, np.int64).reshape(total),
        first=first,
        count=count,
        frames=np.array(frames, np.int64).reshape(n),
        streamed=np.array(streamed, np.bool_).reshape(n),
        want=np.zeros(n, np.int64),
        need_lo=np.zeros(n, np.int64),
        need_hi=np.zeros(n, np.int64),
        missed=np.zeros(n, np.int64),
        silent=np.zeros(n, np.bool_),
        last_miss=np.zeros(1, np.int64),
        at=np.zeros(n, np.int64),
        source_id=np.array(ids if ids is not None else [0] * n, np.int64).reshape(n),
    )


@nb.njit(cache=True, inline="always")
def locate(win: Windows, ref: int, lo: int, hi: int) -> int:
    """Return the buffer of reference ``ref`` holding source frames ``lo .. hi`` (clamped
    to the source); -1 after counting a miss; -2 if none of them is in the source (the
    row is silent, nothing is missing). Audio-thread safe."""
    k0 = win.first[ref]
    if not win.streamed[ref]:
        return k0
    lo = max(lo, 0)
    hi = min(hi, win.frames[ref])
    if lo >= hi:
        return -2
    for k in range(k0, k0 + win.count[ref]):
        # end, then base: the control side clears end before it moves base
        end = win.end[k]
        base = win.base[k]
        if base <= lo and hi <= end and hi - base <= win.size[k]:
            win.at[ref] = base
            return k
    win.need_lo[ref] = lo
    win.need_hi[ref] = hi
    win.missed[ref] += 1
    win.silent[ref] = True
    win.last_miss[0] = ref + 1
    return -1


@nb.njit(cache=True, inline="always")
def fade_in(win: Windows, ref: int) -> bool:
    """Return True if ``ref`` was silent for want of data and must fade in over this
    block (and clear that). Audio-thread safe."""
    if win.silent[ref]:
        win.silent[ref] = False
        return True
    return False
