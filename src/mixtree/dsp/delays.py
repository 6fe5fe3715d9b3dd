"""Delay lines that compensate plugin latency: whole frames, both channels, in place."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from mixtree.dsp.jit import njit
from mixtree.dsp.typed import typed_list

if TYPE_CHECKING:
    from numba.typed import List


class DelayLines(NamedTuple):
    """Every compensating delay line of a plan: line ``k`` delays by ``ring[k].shape[0]``
    frames, its next slot to read and write at ``pos[k]``."""

    ring: List  # float32 (length, 2) per line
    pos: np.ndarray  # int64 per line


def delay_lines(lengths: list[int]) -> DelayLines:
    """Return silent lines of ``lengths`` frames (each > 0; control side)."""
    rings = [np.zeros((n, 2), np.float32) for n in lengths] or [np.zeros((1, 2), np.float32)]
    return DelayLines(typed_list(rings), np.zeros(len(rings), np.int64))


@njit(cache=True)
def delay_slots(track_buf: np.ndarray, frames: int, slots: np.ndarray, line_of: np.ndarray, lines: DelayLines) -> None:
    """Delay each of ``slots`` whose line ``line_of[s]`` is not -1 in place by that line's
    length. Audio-thread safe: no allocation."""
    for j in range(slots.shape[0]):
        s = slots[j]
        k = line_of[s]
        if k < 0:
            continue
        ring = lines.ring[k]
        n = ring.shape[0]
        p = lines.pos[k]
        for i in range(frames):
            for ch in range(2):
                y = ring[p, ch]
                ring[p, ch] = track_buf[s, i, ch]
                track_buf[s, i, ch] = y
            p += 1
            if p == n:
                p = 0
        lines.pos[k] = p
