"""The compressor: a soft-knee gain computer with attack/release ballistics, batched."""

from __future__ import annotations

import math

import numba as nb
import numpy as np
from numba.typed import List

from mixtree.dsp.smoothing import BYPASSED, CUR, STEADY, advance, begin_row

#: Averaging time of the RMS detector, seconds.
RMS_WINDOW = 0.010
#: The gain computer runs once per this many frames; the gain is interpolated between.
GROUP = 8

# state: [gain reduction envelope dB, mean square, frames into the group, group peak,
#         gain at the group's start, gain at its end]
ENVELOPE, MEAN_SQUARE, COUNT, PEAK, GAIN_FROM, GAIN_TO = range(6)
STATE_SIZE = 6


@nb.njit(cache=True)
def static_curve(level_db: float, threshold_db: float, ratio: float, knee_db: float) -> float:
    """Return the output level in dB for an input level, before makeup gain.

    Below the knee the signal passes; above it the excess is divided by ``ratio``; inside
    a knee of width ``knee_db`` the two meet along a quadratic (Giannoulis, Massberg and
    Reiss, 2012).
    """
    over = level_db - threshold_db
    if knee_db > 0.0 and abs(over) <= knee_db / 2.0:
        d = over + knee_db / 2.0
        return level_db + (1.0 / ratio - 1.0) * d * d / (2.0 * knee_db)
    if over > 0.0:
        return threshold_db + over / ratio
    return level_db


@nb.njit(cache=True)
def compressor_kernel(
    buf: np.ndarray,
    frames: int,
    slots: np.ndarray,
    params: List,
    states: List,
    buffers: List,
    ramps: List,
    rate: float,
) -> None:
    """Compress each row's track buffer in place, stereo-linked. Audio-thread safe.

    Parameters: threshold_db, ratio, knee_db, attack, release (s), makeup_db, detection
    (0 peak, 1 RMS), then the active amount. The detector runs every frame; the gain
    computer (static curve, then one-pole attack and release on the gain reduction in
    dB) runs once per `GROUP` frames, and the gain glides linearly between its results,
    so the costly logarithms and powers are paid once per group.
    """
    rms_coef = math.exp(-1.0 / (RMS_WINDOW * rate))
    for r in range(slots.shape[0]):
        s = slots[r]
        pr = params[r]
        st = states[r]
        active_row = pr.shape[0] - 1
        mode = begin_row(pr, ramps[r])
        if mode == BYPASSED:
            continue
        env = st[ENVELOPE]
        ms = st[MEAN_SQUARE]
        count = int(st[COUNT])
        peak = st[PEAK]
        g_from = st[GAIN_FROM]
        g_to = st[GAIN_TO]
        if g_from == 0.0 and g_to == 0.0:  # at rest: unity until the first group ends
            g_from = g_to = 10.0 ** (pr[5, CUR] / 20.0)
        rms = pr[6, CUR] >= 0.5
        steady = mode == STEADY
        for i in range(frames):
            if steady:
                wet_amount = 1.0
            else:
                for p in range(active_row):
                    advance(pr, p)
                wet_amount = advance(pr, active_row)
            left = float(buf[s, i, 0])
            right = float(buf[s, i, 1])
            if rms:
                ms = rms_coef * ms + (1.0 - rms_coef) * 0.5 * (left * left + right * right)
            else:
                peak = max(peak, abs(left), abs(right))
            count += 1
            g = g_from + (g_to - g_from) * (count / GROUP)
            w = 1.0 + wet_amount * (g - 1.0)
            buf[s, i, 0] = left * w
            buf[s, i, 1] = right * w
            if count == GROUP:
                if rms:
                    level = 10.0 * math.log10(max(ms, 1e-24))
                else:
                    level = 20.0 * math.log10(max(peak, 1e-12))
                target = static_curve(level, pr[0, CUR], pr[1, CUR], pr[2, CUR]) - level
                att = math.exp(-GROUP / (max(pr[3, CUR], 1e-5) * rate))
                rel = math.exp(-GROUP / (max(pr[4, CUR], 1e-5) * rate))
                coef = att if target < env else rel
                env = coef * env + (1.0 - coef) * target
                g_from = g_to
                g_to = 10.0 ** ((env + pr[5, CUR]) / 20.0)
                count = 0
                peak = 0.0
        st[ENVELOPE] = env
        st[MEAN_SQUARE] = ms
        st[COUNT] = count
        st[PEAK] = peak
        st[GAIN_FROM] = g_from
        st[GAIN_TO] = g_to
