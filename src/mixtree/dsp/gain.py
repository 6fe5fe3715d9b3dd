"""Gain and constant-power pan as batched kernels."""

from __future__ import annotations

import math

import numba as nb
import numpy as np
from numba.typed import List

from mixtree.dsp.smoothing import BYPASSED, CUR, MOVING, STEADY, advance, begin_row


@nb.njit(cache=True)
def gain_kernel(
    buf: np.ndarray,
    frames: int,
    slots: np.ndarray,
    params: List,
    states: List,
    buffers: List,
    ramps: List,
    rate: float,
) -> None:
    """Scale each row's track buffer by its gain in dB (parameter 0). Audio-thread safe."""
    for r in range(slots.shape[0]):
        s = slots[r]
        pr = params[r]
        active_row = pr.shape[0] - 1
        mode = begin_row(pr, ramps[r])
        moving = mode == MOVING
        if mode == BYPASSED:
            continue
        g = 10.0 ** (pr[0, CUR] / 20.0)
        if mode == STEADY:
            gf = np.float32(g)
            for i in range(frames):
                buf[s, i, 0] *= gf
                buf[s, i, 1] *= gf
            continue
        for i in range(frames):
            if moving:
                g = 10.0 ** (advance(pr, 0) / 20.0)
            w = 1.0 + advance(pr, active_row) * (g - 1.0)
            buf[s, i, 0] *= w
            buf[s, i, 1] *= w


@nb.njit(cache=True)
def pan_kernel(
    buf: np.ndarray,
    frames: int,
    slots: np.ndarray,
    params: List,
    states: List,
    buffers: List,
    ramps: List,
    rate: float,
) -> None:
    """Pan each row's track buffer with the constant-power law (parameter 0: -1..1).

    Left is scaled by cos θ and right by sin θ, θ = (pan + 1)·π/4: -3 dB each side at
    centre, unity on the side panned to. Audio-thread safe.
    """
    for r in range(slots.shape[0]):
        s = slots[r]
        pr = params[r]
        active_row = pr.shape[0] - 1
        mode = begin_row(pr, ramps[r])
        moving = mode == MOVING
        if mode == BYPASSED:
            continue
        angle = (pr[0, CUR] + 1.0) * (math.pi / 4.0)
        gl = math.cos(angle)
        gr = math.sin(angle)
        if mode == STEADY:
            fl = np.float32(gl)
            fr = np.float32(gr)
            for i in range(frames):
                buf[s, i, 0] *= fl
                buf[s, i, 1] *= fr
            continue
        for i in range(frames):
            if moving:
                angle = (advance(pr, 0) + 1.0) * (math.pi / 4.0)
                gl = math.cos(angle)
                gr = math.sin(angle)
            a = advance(pr, active_row)
            buf[s, i, 0] *= 1.0 + a * (gl - 1.0)
            buf[s, i, 1] *= 1.0 + a * (gr - 1.0)
