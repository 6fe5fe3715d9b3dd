"""The windows clip readers read sources through: a whole array, or buffers over part of a file.

A plan's clip rows name a source *reference*. A reference to audio held in memory has
one buffer, the whole array; a streamed reference (one per clip row that plays a
streamed source) has a few fixed buffers, each holding frames ``base .. end`` of the
source, which the control side keeps filled ahead of the playhead. Before reading a
block a reader asks `locate` for a buffer that holds every frame the block needs; if
none does, the row is silent for the block, its ``MISSED`` count goes up and
``last_miss`` names it. After a silent block a row fades in over the next one, so a
late window does not click.

Three arrays hold it all (a kernel's every argument array costs time on each call):
``bufs`` a row per buffer (columns `BASE`, `END`, `SIZE`), ``refs`` a row per reference
(columns `FIRST` .. `SOURCE`), ``last_miss`` one number.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from mixtree.dsp.jit import njit

#: Columns of ``Windows.bufs``: the source frame of the buffer's row 0, where its valid
#: frames end (-1 while the control side refills it) and its length in frames.
BASE, END, SIZE = 0, 1, 2

#: Columns of ``Windows.refs``: the first buffer and how many; the source's length;
#: 1 if streamed; the source frame the row is at in the latest block (clamped to its
#: clip, so a clip yet to start asks for its head); the frames a missed block needed;
#: blocks played silent for want of data; 1 if the last block was (fade in); the base
#: of the buffer `locate` found last; the source's id (for events naming it).
FIRST, COUNT, FRAMES, STREAMED, WANT, NEED_LO, NEED_HI, MISSED, SILENT, AT, SOURCE = range(11)


class Windows(NamedTuple):
    """Buffers and references, as the module says: int64 ``bufs`` ``(buffers, 3)``,
    ``refs`` ``(refs, 11)`` and ``last_miss`` ``(1,)`` (1 + the reference missed last, 0:
    none since cleared)."""

    bufs: np.ndarray
    refs: np.ndarray
    last_miss: np.ndarray


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
    count = np.array(counts, np.int64).reshape(n)
    first = np.cumsum(count) - count
    bufs = np.zeros((int(count.sum()), 3), np.int64)
    bufs[:, END] = -1
    bufs[:, SIZE] = np.array(sizes, np.int64).reshape(-1)
    refs = np.zeros((n, 11), np.int64)
    refs[:, FIRST] = first
    refs[:, COUNT] = count
    refs[:, FRAMES] = np.array(frames, np.int64).reshape(n)
    refs[:, STREAMED] = np.array(streamed, np.bool_).reshape(n)
    refs[:, SOURCE] = np.array(ids if ids is not None else [0] * n, np.int64).reshape(n)
    for r in range(n):
        if not streamed[r]:
            bufs[first[r], END] = frames[r]
    return Windows(bufs, refs, np.zeros(1, np.int64))


@njit(cache=True, inline="always")
def locate(win: Windows, ref: int, lo: int, hi: int) -> int:
    """Return the buffer of reference ``ref`` holding source frames ``lo .. hi`` (clamped
    to the source); -1 after counting a miss; -2 if none of them is in the source (the
    row is silent, nothing is missing). Audio-thread safe."""
    refs = win.refs
    k0 = refs[ref, FIRST]
    if refs[ref, STREAMED] == 0:
        return k0
    lo = max(lo, 0)
    hi = min(hi, refs[ref, FRAMES])
    if lo >= hi:
        return -2
    bufs = win.bufs
    for k in range(k0, k0 + refs[ref, COUNT]):
        # end, then base: the control side clears end before it moves base
        end = bufs[k, END]
        base = bufs[k, BASE]
        if base <= lo and hi <= end and hi - base <= bufs[k, SIZE]:
            refs[ref, AT] = base
            return k
    refs[ref, NEED_LO] = lo
    refs[ref, NEED_HI] = hi
    refs[ref, MISSED] += 1
    refs[ref, SILENT] = 1
    win.last_miss[0] = ref + 1
    return -1


@njit(cache=True, inline="always")
def fade_in(win: Windows, ref: int) -> bool:
    """Return True if ``ref`` was silent for want of data and must fade in over this
    block (and clear that). Audio-thread safe."""
    if win.refs[ref, SILENT] != 0:
        win.refs[ref, SILENT] = 0
        return True
    return False


@njit(cache=True, inline="always")
def streamed(win: Windows, ref: int) -> bool:
    """Return True if reference ``ref`` streams. Audio-thread safe."""
    return win.refs[ref, STREAMED] != 0


@njit(cache=True, inline="always")
def set_want(win: Windows, ref: int, frame: int) -> None:
    """Tell the control side reference ``ref`` plays at source frame ``frame``. Audio-thread safe."""
    win.refs[ref, WANT] = frame


@njit(cache=True, inline="always")
def base_of(win: Windows, ref: int) -> int:
    """Return the base of the buffer `locate` found last for ``ref`` (0 in memory)."""
    return win.refs[ref, AT]
