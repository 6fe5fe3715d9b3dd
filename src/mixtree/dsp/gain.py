"""Gain and pan as batched kernels."""

from __future__ import annotations

import numpy as np

from mixtree import units
from mixtree.dsp.jit import njit
from mixtree.dsp.rows import SLOT, auto_of, params_of, ramps_of
from mixtree.dsp.smoothing import BYPASSED, CUR, MOVING, STEADY, advance, automate, begin_row, value_at

#: `mixtree.units.pan_gains` compiled, for kernels.
pan_gains = njit(cache=True)(units.pan_gains)

# parameters, in the order of Gain.PARAMETERS and of Pan.PARAMETERS
DB = 0
PAN = 0


@njit(cache=True)
def gain_kernel(buf: np.ndarray, frames: int, rows: np.ndarray, rate: float) -> None:
    """Scale each row's track buffer by its gain in dB. Audio-thread safe."""
    for r in range(rows.shape[0]):
        s = rows[r, SLOT]
        pr = params_of(rows, r)
        active_row = pr.shape[0] - 1
        auto = auto_of(rows, r)
        mode = begin_row(pr, ramps_of(rows, r), auto)
        moving = mode == MOVING
        if mode == BYPASSED:
            continue
        if mode == STEADY and auto.shape[0]:  # automated: per frame
            for i in range(frames):
                automate(pr, auto, i)
                gf = np.float32(10.0 ** (pr[DB, CUR] / 20.0))
                buf[s, i, 0] *= gf
                buf[s, i, 1] *= gf
            continue
        g = 10.0 ** (pr[DB, CUR] / 20.0)
        if mode == STEADY:
            gf = np.float32(g)
            both = buf[s].reshape(-1)  # the row's frames, both sides, as one run the compiler vectorises
            for k in range(2 * frames):
                both[k] *= gf
            continue
        for i in range(frames):
            if moving:
                g = 10.0 ** (value_at(pr, auto, DB, i) / 20.0)
            w = 1.0 + advance(pr, active_row) * (g - 1.0)
            buf[s, i, 0] *= w
            buf[s, i, 1] *= w


@njit(cache=True, slp=True)
def pan_kernel(buf: np.ndarray, frames: int, rows: np.ndarray, rate: float) -> None:
    """Pan each row's stereo track buffer by balance (pan -1..1). Audio-thread safe.

    The stereo law of `mixtree.units.pan_gains`, as a track's own pan applies it to
    stereo material: unity at centre, the far side fading linearly to silence.
    """
    for r in range(rows.shape[0]):
        s = rows[r, SLOT]
        pr = params_of(rows, r)
        active_row = pr.shape[0] - 1
        auto = auto_of(rows, r)
        mode = begin_row(pr, ramps_of(rows, r), auto)
        moving = mode == MOVING
        if mode == BYPASSED:
            continue
        if mode == STEADY and auto.shape[0]:  # automated: per frame
            for i in range(frames):
                automate(pr, auto, i)
                gl, gr = pan_gains(pr[PAN, CUR], False)
                buf[s, i, 0] *= np.float32(gl)
                buf[s, i, 1] *= np.float32(gr)
            continue
        gl, gr = pan_gains(pr[PAN, CUR], False)
        if mode == STEADY:
            fl = np.float32(gl)
            fr = np.float32(gr)
            for i in range(frames):
                buf[s, i, 0] *= fl
                buf[s, i, 1] *= fr
            continue
        for i in range(frames):
            if moving:
                gl, gr = pan_gains(value_at(pr, auto, PAN, i), False)
            a = advance(pr, active_row)
            buf[s, i, 0] *= 1.0 + a * (gl - 1.0)
            buf[s, i, 1] *= 1.0 + a * (gr - 1.0)
