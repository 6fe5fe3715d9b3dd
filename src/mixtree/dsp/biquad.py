"""RBJ cookbook biquads: design from (kind, freq, Q, gain) and batched filter kernels.

Coefficients are scipy's sos row ``[b0, b1, b2, 1, a1, a2]`` less the leading 1 of the
denominator, normalised by a0. Filtering is transposed direct form II in float64.
"""

from __future__ import annotations

import math

import numpy as np

from mixtree.dsp.approx import exp
from mixtree.dsp.denormals import OUTPUT_FLOOR, STATE_FLOOR
from mixtree.dsp.jit import njit
from mixtree.dsp.rows import SLOT, auto_of, lanes_of, params_of, ramps_of, state_of
from mixtree.dsp.smoothing import (
    BYPASSED,
    CUR,
    MOVING,
    STEADY,
    advance,
    automate_rows,
    begin_row,
    lane_points,
    value_at,
)

KINDS = ("lowpass", "highpass", "bandpass", "notch", "peak", "lowshelf", "highshelf")
LOWPASS, HIGHPASS, BANDPASS, NOTCH, PEAK, LOWSHELF, HIGHSHELF = range(7)

#: float64 state per biquad section: b0 b1 b2 a1 a2, then z1 z2 for each of two channels.
SECTION = 9
#: Where a `Filter`'s state keeps the frequency and Q of its last design and their
#: cos(w0) and alpha (after its section); then its scratch for `_designs`: the gains and
#: the coefficients (b0 b1 b2 a1 a2) of up to `DESIGNS` redesigns, `DESIGNS` apart; its
#: last slot counts frames to a redesign (`FILTER_STATE` in all).
ANGLE = SECTION
DESIGN = ANGLE + 4
DESIGNS = 16
FILTER_STATE = DESIGN + 6 * DESIGNS + 1

# parameters, in the order of Filter.PARAMETERS and of EQ3.PARAMETERS
KIND, FREQ, Q, GAIN_DB = range(4)
LOW_DB, MID_DB, HIGH_DB, LOW_FREQ, HIGH_FREQ = range(5)

#: EQ3's shelf Q (1/√2, correctly rounded: the steepest shelf without overshoot) and peak Q.
EQ3_SHELF_Q = 0.7071067811865476
EQ3_PEAK_Q = 0.7


@njit(cache=True)
def design(kind: int, freq: float, q: float, gain_db: float, rate: float, out: np.ndarray) -> None:
    """Write the normalised coefficients ``b0 b1 b2 a1 a2`` of an RBJ biquad into ``out``.

    ``kind`` indexes `KINDS`; ``freq`` is clamped below Nyquist. Shelves take ``q`` as
    the cookbook's Q (0.707 gives the steepest shelf without overshoot).
    """
    cw, alpha = _angle(freq, q, rate)
    _coefficients(kind, cw, alpha, gain_db, out)


@njit(cache=True, inline="always")
def _angle(freq: float, q: float, rate: float) -> tuple[float, float]:
    # the cookbook's cos(w0) and alpha: what a design takes from frequency and Q
    f = min(max(freq, 1.0), 0.49 * rate)
    w0 = 2.0 * math.pi * f / rate
    return math.cos(w0), math.sin(w0) / (2.0 * q)


#: Natural log of 10 over 40: the cookbook's amplitude A = 10^(gain / 40) is exp(gain × this).
_DB40 = math.log(10.0) / 40.0


@njit(cache=True, inline="always")
def _coefficients(kind: int, cw: float, alpha: float, gain_db: float, out: np.ndarray) -> None:
    # the cookbook's coefficients from cos(w0), alpha and the gain, normalised by a0
    out[0], out[1], out[2], out[3], out[4] = _normalised(kind, cw, alpha, gain_db)


@njit(cache=True, inline="always")
def _normalised(kind: int, cw: float, alpha: float, gain_db: float) -> tuple[float, float, float, float, float]:
    # `_coefficients`' b0 b1 b2 a1 a2; A = 10^(gain / 40) through `approx.exp` (libm's
    # is a call, which would keep `_designs`' loop from vectorising), the same bits in
    # every design
    if kind == LOWPASS:
        b0, b1, b2 = (1 - cw) / 2, 1 - cw, (1 - cw) / 2
        a0, a1, a2 = 1 + alpha, -2 * cw, 1 - alpha
    elif kind == HIGHPASS:
        b0, b1, b2 = (1 + cw) / 2, -(1 + cw), (1 + cw) / 2
        a0, a1, a2 = 1 + alpha, -2 * cw, 1 - alpha
    elif kind == BANDPASS:
        b0, b1, b2 = alpha, 0.0, -alpha
        a0, a1, a2 = 1 + alpha, -2 * cw, 1 - alpha
    elif kind == NOTCH:
        b0, b1, b2 = 1.0, -2 * cw, 1.0
        a0, a1, a2 = 1 + alpha, -2 * cw, 1 - alpha
    elif kind == PEAK:
        a = exp(gain_db * _DB40)
        b0, b1, b2 = 1 + alpha * a, -2 * cw, 1 - alpha * a
        a0, a1, a2 = 1 + alpha / a, -2 * cw, 1 - alpha / a
    elif kind == LOWSHELF:
        a = exp(gain_db * _DB40)
        sq = 2 * math.sqrt(a) * alpha
        b0 = a * ((a + 1) - (a - 1) * cw + sq)
        b1 = 2 * a * ((a - 1) - (a + 1) * cw)
        b2 = a * ((a + 1) - (a - 1) * cw - sq)
        a0 = (a + 1) + (a - 1) * cw + sq
        a1 = -2 * ((a - 1) + (a + 1) * cw)
        a2 = (a + 1) + (a - 1) * cw - sq
    else:
        a = exp(gain_db * _DB40)
        sq = 2 * math.sqrt(a) * alpha
        b0 = a * ((a + 1) + (a - 1) * cw + sq)
        b1 = -2 * a * ((a - 1) + (a + 1) * cw)
        b2 = a * ((a + 1) + (a - 1) * cw - sq)
        a0 = (a + 1) - (a - 1) * cw + sq
        a1 = 2 * ((a - 1) - (a + 1) * cw)
        a2 = (a + 1) - (a - 1) * cw - sq
    return b0 / a0, b1 / a0, b2 / a0, a1 / a0, a2 / a0


def sos(kind: str, freq: float, q: float, gain_db: float, rate: float) -> np.ndarray:
    """Return scipy's ``(1, 6)`` sos row for one RBJ biquad (for tests and tools)."""
    c = np.zeros(5)
    design(KINDS.index(kind), freq, q, gain_db, rate, c)
    return np.array([[c[0], c[1], c[2], 1.0, c[3], c[4]]])


@njit(cache=True, inline="always")
def _tick(st: np.ndarray, base: int, ch: int, x: float) -> float:
    z = base + 5 + 2 * ch
    y = st[base] * x + st[z]
    st[z] = st[base + 1] * x - st[base + 3] * y + st[z + 1]
    st[z + 1] = st[base + 2] * x - st[base + 4] * y
    return y


@njit(cache=True, inline="always")
def eq3_design(
    low_db: float, mid_db: float, high_db: float, low_freq: float, high_freq: float, rate: float, out: np.ndarray
) -> None:
    """Write the coefficients of EQ3's three sections into ``out``, `SECTION` apart: a low
    shelf at ``low_freq``, a peak at the geometric mean, a high shelf at ``high_freq``."""
    design(LOWSHELF, low_freq, EQ3_SHELF_Q, low_db, rate, out[0:5])
    design(PEAK, math.sqrt(low_freq * high_freq), EQ3_PEAK_Q, mid_db, rate, out[SECTION : SECTION + 5])
    design(HIGHSHELF, high_freq, EQ3_SHELF_Q, high_db, rate, out[2 * SECTION : 2 * SECTION + 5])


@njit(cache=True, inline="always")
def _eq3_design(pr: np.ndarray, st: np.ndarray, rate: float) -> None:
    eq3_design(pr[LOW_DB, CUR], pr[MID_DB, CUR], pr[HIGH_DB, CUR], pr[LOW_FREQ, CUR], pr[HIGH_FREQ, CUR], rate, st)


@njit(cache=True, inline="always")
def _filter_angle(pr: np.ndarray, st: np.ndarray, rate: float) -> tuple[float, float]:
    # a `Filter`'s cos(w0) and alpha, kept in its state (`ANGLE`): an automated gain (a
    # shelf's, a peak's) redesigns without a cosine and a sine
    freq, q = pr[FREQ, CUR], pr[Q, CUR]
    if st[ANGLE] != freq or st[ANGLE + 1] != q:  # (Q is never 0: a state at rest misses)
        st[ANGLE], st[ANGLE + 1] = freq, q
        st[ANGLE + 2], st[ANGLE + 3] = _angle(freq, q, rate)
    return st[ANGLE + 2], st[ANGLE + 3]


@njit(cache=True, inline="always")
def _filter_design(pr: np.ndarray, st: np.ndarray, rate: float) -> None:
    # a `Filter`'s design from its parameters now
    cw, alpha = _filter_angle(pr, st, rate)
    _coefficients(int(pr[KIND, CUR]), cw, alpha, pr[GAIN_DB, CUR], st[0:5])


#: The lanes of an automated `Filter` whose redesigns `_designs` works out at once: its
#: gain's alone (a shelf's or a peak's, the usual).
_GAIN_LANE = 1 << GAIN_DB


@njit(cache=True, error_model="numpy")
def _designs(pr: np.ndarray, auto: np.ndarray, st: np.ndarray, first: int, m: int, rate: float) -> None:
    # The coefficients of an automated `Filter`'s next ``m`` (≤ `DESIGNS`) redesigns, at
    # frames first, first + `REDESIGN`, ..., when a lane moves its gain alone: the gains
    # read a piece at a time (`lane_points`), then the designs in a loop the compiler
    # vectorises (its kind a constant in each), into the state's scratch (`DESIGN`).
    # Each design's arithmetic is `_filter_design`'s, so the bits are the same. (Called,
    # not inlined: once in `DESIGNS` redesigns, and its four loops would multiply the
    # kernels' compile time at every place that redesigns. numpy's error model: a
    # division that may raise would keep the loop scalar.)
    lane_points(auto, GAIN_DB, first, REDESIGN, m, st[DESIGN : DESIGN + DESIGNS])
    pr[GAIN_DB, CUR] = st[DESIGN + m - 1]
    cw, alpha = _filter_angle(pr, st, rate)
    kind = int(pr[KIND, CUR])
    if kind == PEAK:
        _design_run(st, m, PEAK, cw, alpha)
    elif kind == LOWSHELF:
        _design_run(st, m, LOWSHELF, cw, alpha)
    elif kind == HIGHSHELF:
        _design_run(st, m, HIGHSHELF, cw, alpha)
    else:
        _design_run(st, m, kind, cw, alpha)


@njit(cache=True, inline="always")
def _design_run(st: np.ndarray, m: int, kind: int, cw: float, alpha: float) -> None:
    # `_designs`' loop: each of ``m`` gains in the scratch to its coefficients
    gains = st[DESIGN : DESIGN + DESIGNS]
    b0s, b1s = st[DESIGN + DESIGNS : DESIGN + 2 * DESIGNS], st[DESIGN + 2 * DESIGNS : DESIGN + 3 * DESIGNS]
    b2s, a1s = st[DESIGN + 3 * DESIGNS : DESIGN + 4 * DESIGNS], st[DESIGN + 4 * DESIGNS : DESIGN + 5 * DESIGNS]
    a2s = st[DESIGN + 5 * DESIGNS : DESIGN + 6 * DESIGNS]
    for k in range(m):
        u = np.uint64(k)  # (unsigned: numba's negative-index wraparound would stop it vectorising)
        b0s[u], b1s[u], b2s[u], a1s[u], a2s[u] = _normalised(kind, cw, alpha, gains[u])


@njit(cache=True, inline="always")
def _redesign(
    pr: np.ndarray, auto: np.ndarray, lanes: int, st: np.ndarray, i: int, frames: int, k: int, rate: float
) -> tuple[bool, float, float, float, float, float]:  # fmt: skip
    # An automated `Filter`'s ``k``-th redesign of the block, at frame ``i``: whether a
    # lane moved, and the coefficients of its lanes' values there: taken from
    # `_designs`' scratch (which designs `DESIGNS` at a time) where a lane moves its gain
    # alone, else designed into its section. (Returned, not stored: the callers keep them
    # in registers and store them in the section once, at the block's end.)
    if lanes == _GAIN_LANE:
        j = k % DESIGNS
        if j == 0:
            _designs(pr, auto, st, i, min(DESIGNS, (frames - i + REDESIGN - 1) // REDESIGN), rate)
        c = DESIGN + DESIGNS + j
        return True, st[c], st[c + DESIGNS], st[c + 2 * DESIGNS], st[c + 3 * DESIGNS], st[c + 4 * DESIGNS]
    moved = automate_rows(pr, auto, lanes, i)
    if moved:
        _filter_design(pr, st, rate)
    return moved, st[0], st[1], st[2], st[3], st[4]


@njit(cache=True, inline="always")
def _out(y: float) -> float:
    # what a float32 output may hold: never a subnormal (see `OUTPUT_FLOOR`)
    return y if abs(y) >= OUTPUT_FLOOR else 0.0


@njit(cache=True, inline="always")
def _flush(st: np.ndarray, sections: int) -> None:
    # Once a block (see `STATE_FLOOR`): a biquad's memory only decays in silence.
    for k in range(sections):
        for z in range(k * SECTION + 5, (k + 1) * SECTION):
            if abs(st[z]) < STATE_FLOOR:
                st[z] = 0.0


@njit(cache=True, inline="always")
def _step(
    b0: float, b1: float, b2: float, a1: float, a2: float, x: float, z1: float, z2: float
) -> tuple[float, float, float]:
    # One transposed direct form II tick: the same arithmetic, in the same order, as `_tick`.
    y = b0 * x + z1
    return y, b1 * x - a1 * y + z2, b2 * x - a2 * y


@njit(cache=True, inline="always")
def _load(st: np.ndarray, k: int, on: bool) -> tuple[float, float, float, float, float, float, float, float, float]:
    # section k's coefficients and memory (left z1 z2, right z1 z2); zeros if not ``on``
    b = k * SECTION
    if not on:
        return 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0
    return st[b], st[b + 1], st[b + 2], st[b + 3], st[b + 4], st[b + 5], st[b + 6], st[b + 7], st[b + 8]


@njit(cache=True, inline="always")
def _keep(st: np.ndarray, k: int, on: bool, l1: float, l2: float, r1: float, r2: float) -> None:
    # section k's memory back into the state
    if on:
        b = k * SECTION + 5
        st[b], st[b + 1], st[b + 2], st[b + 3] = l1, l2, r1, r2


@njit(cache=True, inline="always")
def _static_sections(buf: np.ndarray, i0: int, i1: int, s: int, st: np.ndarray, sections: int) -> None:
    # The steady state: coefficients and memory in locals for frames i0..i1, both
    # channels in one pass (two independent recursions keep the CPU's pipelines busy),
    # up to three sections.
    two, three = sections > 1, sections > 2
    a0, a1, a2, a3, a4, p1, p2, q1, q2 = _load(st, 0, True)
    b0, b1, b2, b3, b4, t1, t2, v1, v2 = _load(st, 1, two)
    c0, c1, c2, c3, c4, x1, x2, y1, y2 = _load(st, 2, three)
    for i in range(i0, i1):
        yl, p1, p2 = _step(a0, a1, a2, a3, a4, float(buf[s, i, 0]), p1, p2)
        yr, q1, q2 = _step(a0, a1, a2, a3, a4, float(buf[s, i, 1]), q1, q2)
        if two:
            yl, t1, t2 = _step(b0, b1, b2, b3, b4, yl, t1, t2)
            yr, v1, v2 = _step(b0, b1, b2, b3, b4, yr, v1, v2)
        if three:
            yl, x1, x2 = _step(c0, c1, c2, c3, c4, yl, x1, x2)
            yr, y1, y2 = _step(c0, c1, c2, c3, c4, yr, y1, y2)
        buf[s, i, 0] = _out(yl)
        buf[s, i, 1] = _out(yr)
    _keep(st, 0, True, p1, p2, q1, q2)
    _keep(st, 1, two, t1, t2, v1, v2)
    _keep(st, 2, three, x1, x2, y1, y2)
    _flush(st, sections)


@njit(cache=True, inline="always")
def _static_pair(
    buf: np.ndarray, i0: int, i1: int, s: int, st: np.ndarray, u: int, su: np.ndarray, sections: int
) -> None:  # fmt: skip
    # Two tracks' sections (up to three each) in one pass: a biquad's recursion is
    # latency-bound, so four independent channels in flight nearly halve the time of two
    # passes. Each channel's arithmetic is `_static_sections`', in the same order.
    two, three = sections > 1, sections > 2
    a0, a1, a2, a3, a4, p1, p2, q1, q2 = _load(st, 0, True)
    b0, b1, b2, b3, b4, t1, t2, v1, v2 = _load(st, 1, two)
    c0, c1, c2, c3, c4, x1, x2, y1, y2 = _load(st, 2, three)
    d0, d1, d2, d3, d4, r1, r2, w1, w2 = _load(su, 0, True)
    e0, e1, e2, e3, e4, m1, m2, n1, n2 = _load(su, 1, two)
    f0, f1, f2, f3, f4, g1, g2, h1, h2 = _load(su, 2, three)
    for i in range(i0, i1):
        yl, p1, p2 = _step(a0, a1, a2, a3, a4, float(buf[s, i, 0]), p1, p2)
        yr, q1, q2 = _step(a0, a1, a2, a3, a4, float(buf[s, i, 1]), q1, q2)
        zl, r1, r2 = _step(d0, d1, d2, d3, d4, float(buf[u, i, 0]), r1, r2)
        zr, w1, w2 = _step(d0, d1, d2, d3, d4, float(buf[u, i, 1]), w1, w2)
        if two:
            yl, t1, t2 = _step(b0, b1, b2, b3, b4, yl, t1, t2)
            yr, v1, v2 = _step(b0, b1, b2, b3, b4, yr, v1, v2)
            zl, m1, m2 = _step(e0, e1, e2, e3, e4, zl, m1, m2)
            zr, n1, n2 = _step(e0, e1, e2, e3, e4, zr, n1, n2)
        if three:
            yl, x1, x2 = _step(c0, c1, c2, c3, c4, yl, x1, x2)
            yr, y1, y2 = _step(c0, c1, c2, c3, c4, yr, y1, y2)
            zl, g1, g2 = _step(f0, f1, f2, f3, f4, zl, g1, g2)
            zr, h1, h2 = _step(f0, f1, f2, f3, f4, zr, h1, h2)
        buf[s, i, 0] = _out(yl)
        buf[s, i, 1] = _out(yr)
        buf[u, i, 0] = _out(zl)
        buf[u, i, 1] = _out(zr)
    _keep(st, 0, True, p1, p2, q1, q2)
    _keep(st, 1, two, t1, t2, v1, v2)
    _keep(st, 2, three, x1, x2, y1, y2)
    _keep(su, 0, True, r1, r2, w1, w2)
    _keep(su, 1, two, m1, m2, n1, n2)
    _keep(su, 2, three, g1, g2, h1, h2)
    _flush(st, sections)
    _flush(su, sections)


#: Frames between two designs of an automated filter's coefficients (its parameters are
#: read there, counted in its state so that block boundaries do not move them).
REDESIGN = 32


@njit(cache=True, inline="always")
def _automated_sections(
    buf: np.ndarray,
    frames: int,
    s: int,
    pr: np.ndarray,
    auto: np.ndarray,
    lanes: int,
    st: np.ndarray,
    rate: float,
    sections: int,
    eq3: bool,
) -> None:
    # Steady but automated (``lanes``: `lanes_of`): the coefficients are designed afresh
    # from the automation every `REDESIGN` frames and held in between; the last state
    # slot counts the frames.
    count = int(st[st.shape[0] - 1])
    i = k = 0
    while i < frames:
        if count == 0:
            if not eq3:
                _, st[0], st[1], st[2], st[3], st[4] = _redesign(pr, auto, lanes, st, i, frames, k, rate)
            elif automate_rows(pr, auto, lanes, i):  # (a lane holding still needs no new design)
                _eq3_design(pr, st, rate)
            k += 1
        n = min(frames - i, REDESIGN - count)
        _static_sections(buf, i, i + n, s, st, sections)
        count = (count + n) % REDESIGN
        i += n
    st[st.shape[0] - 1] = count


@njit(cache=True, inline="always")
def _automated_pair(buf: np.ndarray, frames: int, rows: np.ndarray, a: int, b: int, rate: float) -> None:
    # Two steady automated `Filter` rows whose redesigns fall on the same frames, in one
    # pass: each channel's arithmetic is `_automated_sections`', in the same order, with
    # the four channels' memories kept in registers across the redesigns (`_static_pair`)
    # and flushed once, at the block's end, as a steady filter's are.
    s, pr, auto, st = rows[a, SLOT], params_of(rows, a), auto_of(rows, a), state_of(rows, a)
    u, pu, auto_u, su = rows[b, SLOT], params_of(rows, b), auto_of(rows, b), state_of(rows, b)
    count = int(st[st.shape[0] - 1])
    lanes, lanes_u = lanes_of(rows, a), lanes_of(rows, b)
    a0, a1, a2, a3, a4, p1, p2, q1, q2 = _load(st, 0, True)
    d0, d1, d2, d3, d4, r1, r2, w1, w2 = _load(su, 0, True)
    i = k = 0
    while i < frames:
        if count == 0:
            _, a0, a1, a2, a3, a4 = _redesign(pr, auto, lanes, st, i, frames, k, rate)
            _, d0, d1, d2, d3, d4 = _redesign(pu, auto_u, lanes_u, su, i, frames, k, rate)
            k += 1
        n = min(frames - i, REDESIGN - count)
        for m in range(i, i + n):
            j = np.uint64(m)  # (unsigned: numba's negative-index wraparound would cost every access)
            yl, p1, p2 = _step(a0, a1, a2, a3, a4, float(buf[s, j, 0]), p1, p2)
            yr, q1, q2 = _step(a0, a1, a2, a3, a4, float(buf[s, j, 1]), q1, q2)
            zl, r1, r2 = _step(d0, d1, d2, d3, d4, float(buf[u, j, 0]), r1, r2)
            zr, w1, w2 = _step(d0, d1, d2, d3, d4, float(buf[u, j, 1]), w1, w2)
            buf[s, j, 0] = _out(yl)
            buf[s, j, 1] = _out(yr)
            buf[u, j, 0] = _out(zl)
            buf[u, j, 1] = _out(zr)
        count = (count + n) % REDESIGN
        i += n
    st[0], st[1], st[2], st[3], st[4] = a0, a1, a2, a3, a4
    su[0], su[1], su[2], su[3], su[4] = d0, d1, d2, d3, d4
    _keep(st, 0, True, p1, p2, q1, q2)
    _keep(su, 0, True, r1, r2, w1, w2)
    _flush(st, 1)
    _flush(su, 1)
    st[st.shape[0] - 1] = su[su.shape[0] - 1] = count


@njit(cache=True, slp=True)
def filter_kernel(buf: np.ndarray, frames: int, rows: np.ndarray, rate: float) -> None:
    """Run one `Filter` per row over its track buffer, in place. Audio-thread safe.

    Steady rows run two at a time (`_static_pair`), automated ones too where their
    redesigns fall on the same frames (`_automated_pair`); the others on their own.
    Automated rows redesign their coefficients every `REDESIGN` frames.
    """
    waiting = -1  # a steady row waiting for a partner
    automated = -1  # a steady automated row waiting for one
    for r in range(rows.shape[0] + 1):
        alone, mode = -1, STEADY  # a row to run on its own (one call: each is inlined, and compiled)
        if r == rows.shape[0]:  # (past the last row: those left waiting)
            if waiting >= 0:
                _static_sections(buf, 0, frames, rows[waiting, SLOT], state_of(rows, waiting), 1)
            alone = automated
        else:
            auto = auto_of(rows, r)
            mode = begin_row(params_of(rows, r), ramps_of(rows, r), auto)
            st = state_of(rows, r)
            if mode == STEADY and auto.shape[0]:
                if automated < 0:
                    automated = r
                    continue
                sw = state_of(rows, automated)
                if sw[sw.shape[0] - 1] == st[st.shape[0] - 1]:
                    _automated_pair(buf, frames, rows, automated, r, rate)
                    automated = -1
                    continue
                alone, automated = automated, r
            elif mode != STEADY:
                alone = r
            elif waiting < 0:
                waiting = r
            else:
                _static_pair(buf, 0, frames, rows[waiting, SLOT], state_of(rows, waiting), rows[r, SLOT], st, 1)
                waiting = -1
        if alone >= 0:
            _run_sections(buf, frames, rows, alone, rate, mode, 1, False)


@njit(cache=True, slp=True)
def eq3_kernel(buf: np.ndarray, frames: int, rows: np.ndarray, rate: float) -> None:
    """Run one `EQ3` (low shelf, mid peak, high shelf) per row, in place. Audio-thread safe.

    Steady rows without lanes run two at a time (`_static_pair`), the others on their own.
    """
    waiting = -1  # a steady row waiting for a partner
    for r in range(rows.shape[0]):
        auto = auto_of(rows, r)
        mode = begin_row(params_of(rows, r), ramps_of(rows, r), auto)
        if mode != STEADY or auto.shape[0]:
            _run_sections(buf, frames, rows, r, rate, mode, 3, True)
        elif waiting < 0:
            waiting = r
        else:
            _static_pair(
                buf, 0, frames, rows[waiting, SLOT], state_of(rows, waiting), rows[r, SLOT], state_of(rows, r), 3
            )
            waiting = -1
    if waiting >= 0:
        _static_sections(buf, 0, frames, rows[waiting, SLOT], state_of(rows, waiting), 3)


@njit(cache=True, inline="always")
def _run_sections(
    buf: np.ndarray, frames: int, rows: np.ndarray, r: int, rate: float, mode: int, sections: int, eq3: bool
) -> None:
    # Row ``r`` in the ``mode`` `begin_row` gave it.
    s, pr, auto, st = rows[r, SLOT], params_of(rows, r), auto_of(rows, r), state_of(rows, r)
    active_row = pr.shape[0] - 1
    moving = mode == MOVING
    if mode == BYPASSED:
        return  # fully bypassed
    if mode == STEADY:
        if auto.shape[0]:
            _automated_sections(buf, frames, s, pr, auto, lanes_of(rows, r), st, rate, sections, eq3)
        else:
            _static_sections(buf, 0, frames, s, st, sections)
        return
    for i in range(frames):
        if moving:
            for p in range(active_row):
                value_at(pr, auto, p, i)
            if eq3:
                _eq3_design(pr, st, rate)
            else:
                _filter_design(pr, st, rate)
        wet_amount = advance(pr, active_row)
        for ch in range(2):
            x = float(buf[s, i, ch])
            y = x
            for k in range(sections):
                y = _tick(st, k * SECTION, ch, y)
            buf[s, i, ch] = _out(y if wet_amount == 1.0 else x + wet_amount * (y - x))
    _flush(st, sections)
