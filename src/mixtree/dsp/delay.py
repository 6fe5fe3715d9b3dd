"""The delay line: fractional, feedback, dry/wet, batched over tracks."""

from __future__ import annotations

import numpy as np

from mixtree.dsp.denormals import LINE_FLOOR
from mixtree.dsp.jit import njit
from mixtree.dsp.rows import SLOT, auto_of, buffer_of, params_of, ramps_of, state_of
from mixtree.dsp.smoothing import BYPASSED, CUR, STEADY, advance, automate, begin_row, value_at

#: The longest delay, seconds; each delay allocates this much line at prepare time.
MAX_DELAY = 4.0

# state: [write index]
WRITE = 0
# parameters, in the order of Delay.PARAMETERS
TIME, BEATS, FEEDBACK, MIX = range(4)


@njit(cache=True)
def delay_kernel(buf: np.ndarray, frames: int, rows: np.ndarray, rate: float) -> None:
    """Delay each row's track buffer in place. Audio-thread safe.

    Parameters: time (s, the effective one), beats (read by the control side only),
    feedback (0..0.95), mix (0 dry..1 wet), then the active amount.
    The read point is fractional (linear interpolation), so a time change glides like a
    tape delay instead of clicking. It is worked out from the delay alone (`_read_point`:
    whole frames behind the write point and a fraction), once a block where the time
    holds still and once a frame where it moves, never from the write index's float, so
    the results do not depend on where blocks fall. Each row's line is float32
    ``(frames, 2)``; it stores 0 for a value below `LINE_FLOOR`, so an echo's tail ends
    in digital silence.
    """
    for r in range(rows.shape[0]):
        s = rows[r, SLOT]
        pr = params_of(rows, r)
        st = state_of(rows, r)
        line = buffer_of(rows, r)
        size = line.shape[0]
        active_row = pr.shape[0] - 1
        auto = auto_of(rows, r)
        mode = begin_row(pr, ramps_of(rows, r), auto)
        if mode == BYPASSED:
            continue
        w = int(st[WRITE])
        steady = mode == STEADY
        if steady and auto.shape[0] == 0:
            st[WRITE] = _steady(buf, frames, s, line, w, _delay(pr, rate, size), pr[FEEDBACK, CUR], pr[MIX, CUR])
            continue
        for i in range(frames):
            if steady:
                wet_amount = 1.0
                automate(pr, auto, i)  # automation, per frame
            else:
                for p in range(active_row):
                    value_at(pr, auto, p, i)
                wet_amount = advance(pr, active_row)
            n, f = _read_point(_delay(pr, rate, size))
            fb = pr[FEEDBACK, CUR]
            mix = pr[MIX, CUR]
            a = _behind(w, n, size)
            b = _behind(a, 1, size)
            for ch in range(2):
                x = float(buf[s, i, ch])
                delayed = (1.0 - f) * line[a, ch] + f * line[b, ch]
                v = x + fb * delayed
                line[w, ch] = 0.0 if abs(v) < LINE_FLOOR else v
                y = (1.0 - mix) * x + mix * delayed
                buf[s, i, ch] = x + wet_amount * (y - x)
            w += 1
            if w == size:
                w = 0
        st[WRITE] = w


@njit(cache=True, inline="always")
def _delay(pr: np.ndarray, rate: float, size: int) -> float:
    # the delay in frames, kept where a line of ``size`` frames can read it
    return min(max(pr[TIME, CUR] * rate, 1.0), size - 2.0)


@njit(cache=True, inline="always")
def _read_point(d: float) -> tuple[int, float]:
    """Return a delay of ``d`` frames (1 ≤ d) as the whole frames ``n`` behind the write
    point and the fraction ``f`` toward ``n + 1``: the delayed value is
    ``(1 - f) * line[w - n] + f * line[w - n - 1]``."""
    n = int(d)
    return n, d - n


@njit(cache=True, inline="always")
def _behind(w: int, n: int, size: int) -> int:
    """Return the index ``n`` frames (0 ≤ n < size) behind index ``w`` of a line of ``size``."""
    k = w - n
    return k + size if k < 0 else k


@njit(cache=True, inline="always")
def _steady(buf: np.ndarray, frames: int, s: int, line: np.ndarray, w: int, d: float, fb: float, mix: float) -> int:
    # `delay_kernel` for a row at rest and without automation: the parameters and the
    # read point are loop invariants; the arithmetic is the per-frame path's, value for
    # value (its wet amount is 1.0, and x + 1.0 * (y - x) is x + (y - x) exactly). The
    # block runs in stretches where neither the write nor the read indices wrap, each
    # over both sides' samples as one flat run of slices: the compiler vectorises it
    # (checking at run time that the slices do not overlap: a delay shorter than the
    # stretch runs value by value, as the per-frame path does). Returns the write index.
    size = line.shape[0]
    n, f = _read_point(d)
    near = 1.0 - f
    dry = 1.0 - mix
    a = _behind(w, n, size)
    b = _behind(a, 1, size)
    flat = line.reshape(-1)
    track = buf[s].reshape(-1)
    i = 0
    while i < frames:
        run = min(frames - i, size - w, size - a, size - b)
        io = track[2 * i : 2 * (i + run)]
        new = flat[2 * a : 2 * (a + run)]  # n frames behind
        old = flat[2 * b : 2 * (b + run)]  # n + 1 frames behind
        out = flat[2 * w : 2 * (w + run)]
        for k in range(2 * run):
            x = float(io[k])
            delayed = near * new[k] + f * old[k]
            v = x + fb * delayed
            out[k] = 0.0 if abs(v) < LINE_FLOOR else v
            io[k] = x + ((dry * x + mix * delayed) - x)
        i += run
        w = 0 if w + run == size else w + run
        a = 0 if a + run == size else a + run
        b = 0 if b + run == size else b + run
    return w
