"""A Freeverb-style reverb (Jezar's eight combs and four allpasses per side), batched."""

from __future__ import annotations

import numpy as np

from mixtree.dsp.denormals import LINE_FLOOR
from mixtree.dsp.jit import njit
from mixtree.dsp.rows import SLOT, auto_of, buffer_of, params_of, ramps_of, state_of
from mixtree.dsp.smoothing import BYPASSED, CUR, MOVING, advance, automate, begin_row, value_at

COMBS = (1116, 1188, 1277, 1356, 1422, 1491, 1557, 1617)  # at 44.1 kHz
ALLPASSES = (556, 441, 341, 225)
SPREAD = 23  # extra samples on the right side, for width
INPUT_GAIN = 0.015
WET_SCALE = 3.0


def line_lengths(rate: float) -> np.ndarray:
    """Return the 24 delay-line lengths at ``rate``: 8 combs and 4 allpasses per side."""
    scale = rate / 44100.0
    lengths = [int(c * scale) for c in COMBS] + [int((c + SPREAD) * scale) for c in COMBS]
    lengths += [int(a * scale) for a in ALLPASSES] + [int((a + SPREAD) * scale) for a in ALLPASSES]
    return np.array(lengths, dtype=np.int64)


# state layout: 24 read/write indices, 16 comb lowpass memories, 24 line lengths
INDICES, FILTERS, LENGTHS = 0, 24, 40
STATE_SIZE = 64
# parameters, in the order of Reverb.PARAMETERS
ROOM_SIZE, DAMPING, MIX = range(3)


@njit(cache=True, inline="always")
def _comb(line: np.ndarray, st: np.ndarray, n: int, base: int, x: float, feedback: float, damp: float) -> float:
    idx = int(st[INDICES + n])
    y = line[base + idx, 0]
    f = y * (1.0 - damp) + st[FILTERS + n] * damp
    f = 0.0 if abs(f) < LINE_FLOOR else f
    st[FILTERS + n] = f
    line[base + idx, 0] = x + f * feedback
    idx += 1
    st[INDICES + n] = 0 if idx == st[LENGTHS + n] else idx
    return y


@njit(cache=True, inline="always")
def _allpass(line: np.ndarray, st: np.ndarray, n: int, base: int, v: float) -> float:
    idx = int(st[INDICES + n])
    b = line[base + idx, 0]
    w = v + b * 0.5
    line[base + idx, 0] = 0.0 if abs(w) < LINE_FLOOR else w
    idx += 1
    st[INDICES + n] = 0 if idx == st[LENGTHS + n] else idx
    return b - v


@njit(cache=True)
def reverb_kernel(buf: np.ndarray, frames: int, rows: np.ndarray, rate: float) -> None:
    """Add each row's reverb to its track buffer in place. Audio-thread safe.

    Parameters: room_size, damping, mix (0 dry..1 wet), then the active amount. Each
    row's 24 lines live end to end in one float32 ``(total, 1)`` buffer, in the order of
    `line_lengths`, whose values the state carries. Each comb's memory (what its line
    feeds back) and each allpass's stored value are flushed below `LINE_FLOOR`, so a
    tail ends in digital silence instead of circling as subnormals.
    """
    for r in range(rows.shape[0]):
        s = rows[r, SLOT]
        pr = params_of(rows, r)
        st = state_of(rows, r)
        line = buffer_of(rows, r)
        active_row = pr.shape[0] - 1
        auto = auto_of(rows, r)
        mode = begin_row(pr, ramps_of(rows, r), auto)
        moving = mode == MOVING
        if mode == BYPASSED:
            continue
        for i in range(frames):
            if moving:
                for p in range(active_row):
                    value_at(pr, auto, p, i)
            else:
                automate(pr, auto, i)  # automation, per frame
            wet_amount = advance(pr, active_row)
            feedback = pr[ROOM_SIZE, CUR] * 0.28 + 0.7
            damp = pr[DAMPING, CUR] * 0.4
            mix = pr[MIX, CUR]
            x_l = float(buf[s, i, 0])
            x_r = float(buf[s, i, 1])
            x = (x_l + x_r) * INPUT_GAIN
            base = 0
            out_l = 0.0
            out_r = 0.0
            for n in range(16):
                y = _comb(line, st, n, base, x, feedback, damp)
                if n < 8:
                    out_l += y
                else:
                    out_r += y
                base += int(st[LENGTHS + n])
            for n in range(16, 24):
                if n < 20:
                    out_l = _allpass(line, st, n, base, out_l)
                else:
                    out_r = _allpass(line, st, n, base, out_r)
                base += int(st[LENGTHS + n])
            wet = mix * WET_SCALE
            y_l = (1.0 - mix) * x_l + wet * out_l
            y_r = (1.0 - mix) * x_r + wet * out_r
            buf[s, i, 0] = x_l + wet_amount * (y_l - x_l)
            buf[s, i, 1] = x_r + wet_amount * (y_r - x_r)
