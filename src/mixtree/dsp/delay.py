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
    tape delay instead of clicking. Each row's line is float32 ``(frames, 2)``; it stores
    0 for a value below `LINE_FLOOR`, so an echo's tail ends in digital silence.
    """
    for r in range(rows.shape[0]):
        s = rows[r, SLOT]
        pr = params_of(rows, r)
        st = state_of(rows, r)
        line = buffer_of(rows, r)
        size = line.shape[0]
        active_row = pr.shape[0] - 1
        mode = begin_row(pr, ramps_of(rows, r), auto_of(rows, r))
        if mode == BYPASSED:
            continue
        w = int(st[WRITE])
        steady = mode == STEADY
        auto = auto_of(rows, r)
        if steady and auto.shape[0] == 0:
            st[WRITE] = _steady(buf, frames, s, line, w, min(max(pr[TIME, CUR] * rate, 1.0), size - 2.0),
                                pr[FEEDBACK, CUR], pr[MIX, CUR])  # fmt: skip
            continue
        for i in range(frames):
            if steady:
                wet_amount = 1.0
                automate(pr, auto, i)  # automation, per frame
            else:
                for p in range(active_row):
                    value_at(pr, auto, p, i)
                wet_amount = advance(pr, active_row)
            d = min(max(pr[TIME, CUR] * rate, 1.0), size - 2.0)
            fb = pr[FEEDBACK, CUR]
            mix = pr[MIX, CUR]
            pos = _wrapped(w - d, size)
            k = int(pos)
            frac = pos - k
            k1 = k + 1 if k + 1 < size else 0
            for ch in range(2):
                x = float(buf[s, i, ch])
                delayed = (1.0 - frac) * line[k, ch] + frac * line[k1, ch]
                v = x + fb * delayed
                line[w, ch] = 0.0 if abs(v) < LINE_FLOOR else v
                y = (1.0 - mix) * x + mix * delayed
                buf[s, i, ch] = x + wet_amount * (y - x)
            w += 1
            if w == size:
                w = 0
        st[WRITE] = w


@njit(cache=True, inline="always")
def _wrapped(pos: float, size: int) -> float:
    # the read point inside the line: a point a hair before the write point (a delay of
    # 0.07 s is 3360.0000000000005 frames) wraps to ``size - 1e-13``, which rounds to
    # ``size``, one past the end, so it is taken back to 0
    if pos < 0.0:
        pos += size
        if pos >= size:
            pos -= size
    return pos


@njit(cache=True, inline="always")
def _steady(buf: np.ndarray, frames: int, s: int, line: np.ndarray, w: int, d: float, fb: float, mix: float) -> int:
    # `delay_kernel` for a row at rest and without automation: the parameters are loop
    # invariants; the arithmetic is the per-frame path's, value for value (its wet amount
    # is 1.0, and x + 1.0 * (y - x) is x + (y - x) exactly). Returns the write index.
    size = line.shape[0]
    dry = 1.0 - mix
    for i in range(frames):
        pos = _wrapped(w - d, size)
        k = int(pos)
        frac = pos - k
        k1 = k + 1 if k + 1 < size else 0
        near = 1.0 - frac
        for ch in range(2):
            x = float(buf[s, i, ch])
            delayed = near * line[k, ch] + frac * line[k1, ch]
            v = x + fb * delayed
            line[w, ch] = 0.0 if abs(v) < LINE_FLOOR else v
            buf[s, i, ch] = x + ((dry * x + mix * delayed) - x)
        w += 1
        if w == size:
            w = 0
    return w
