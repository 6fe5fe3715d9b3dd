"""The fader stage: smoothed per-track gains, each track summed into its parent, one call."""

from __future__ import annotations

import numba as nb
import numpy as np


@nb.njit(cache=True, nogil=True)
def clear(track_buf: np.ndarray, frames: int) -> None:
    """Zero the first ``frames`` frames of every slot of ``track_buf``. Audio-thread safe."""
    for s in range(track_buf.shape[0]):
        for i in range(frames):
            track_buf[s, i, 0] = 0.0
            track_buf[s, i, 1] = 0.0


@nb.njit(cache=True, nogil=True, inline="always")
def _ramp(g: float, target: float, step: float) -> float:
    if g < target:
        g += step
        return target if g > target else g
    g -= step
    return target if g < target else g


@nb.njit(cache=True, nogil=True)
def mix_into_parents(
    track_buf: np.ndarray,
    frames: int,
    slots: np.ndarray,
    parent: np.ndarray,
    gain: np.ndarray,
    target: np.ndarray,
    step: np.ndarray,
) -> None:
    """Add each slot of ``slots`` into its parent's buffer through its fader.

    ``gain``, ``target`` and ``step`` are float64 ``(slots, 2)``: the current left/right
    gain (volume, pan and audibility folded together), where it is heading, and how far it
    moves per frame. Gains ramp per frame, so the result does not depend on block size.
    ``gain`` is updated in place. Audio-thread safe: no allocation.
    """
    for j in range(slots.shape[0]):
        s = slots[j]
        p = parent[s]
        for ch in range(2):
            g = gain[s, ch]
            tgt = target[s, ch]
            if g == tgt:
                if g != 0.0:
                    gf = np.float32(g)
                    for i in range(frames):
                        track_buf[p, i, ch] += gf * track_buf[s, i, ch]
                continue
            st = step[s, ch]
            for i in range(frames):
                g = _ramp(g, tgt, st)
                track_buf[p, i, ch] += np.float32(g) * track_buf[s, i, ch]
            gain[s, ch] = g


@nb.njit(cache=True, nogil=True)
def write_output(
    track_buf: np.ndarray,
    frames: int,
    slot: int,
    gain: np.ndarray,
    target: np.ndarray,
    step: np.ndarray,
    out: np.ndarray,
) -> None:
    """Write ``slot`` (the master) through its fader into ``out`` ``(frames, 2)``.

    Same smoothing as `mix_into_parents`. Audio-thread safe: writes into ``out`` only.
    """
    for ch in range(2):
        g = gain[slot, ch]
        tgt = target[slot, ch]
        st = step[slot, ch]
        for i in range(frames):
            if g != tgt:
                g = _ramp(g, tgt, st)
            out[i, ch] = np.float32(g) * track_buf[slot, i, ch]
        gain[slot, ch] = g
