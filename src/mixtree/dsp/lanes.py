"""Automation lanes in a plan: every lane's points in output frames, evaluated per frame."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from mixtree.dsp.curves import (
    BEND,
    FAST_END,
    FAST_START,
    GEOMETRIC,
    HOLD,
    LINEAR,
    S_CURVE,
    SHAPES,
    SMOOTH,
    point_at,
    segment_value,
)
from mixtree.dsp.jit import njit
from mixtree.dsp.rows import floats_at
from mixtree.dsp.smoothing import DENSE, PIECE, glide_into, ramp_step


class LaneTable(NamedTuple):
    """Every lane of a plan: the points of lane ``k`` are rows ``lo[k]:hi[k]``.

    ``at`` holds each point's position in output frames (fractional: the frame a point
    takes effect on is the first at or after it), ``value``/``shape``/``tension`` the
    point itself, ``knot`` the length of the pieces its segment is worked out in
    (`knot_lengths`); ``ramp`` is each lane's de-click length in frames: where its value jumps
    (after a ``hold``, or at two points on one position) the step fades out linearly over
    that many frames, the first of them the point's own, as the parameter's own
    smoothing would; the curve that starts there keeps its shape under it.

    A lane on a track inside a metatrack with automated speed runs on that warp's child
    time (`mixtree.dsp.warp`): ``warp[k]`` names it (-1: none), and the lane's time of
    the block's frame ``i`` is ``scale[k] × times[warp[k], i] + shift[k]``; its points
    are found and shaped by that time, ``pos`` (seconds), while ``at`` still holds the
    (first) output frame each is reached on, for the de-click glide.

    While the engine records a move (`touch_lane`), lane ``k`` plays the manual value
    instead: ``state[k]`` is `MANUAL`, and ``live[k]`` glides to ``target[k]`` by
    ``step[k]`` a frame; on release (`release_lane`) it is `RETURNING` for ``left[k]``
    frames, crossfading from the manual value back to the drawn curve. ``last[k]`` is
    the value the lane's last frame played. Offline plans never leave `DRAWN`.

    ``memo[k]`` holds the piece lane ``k`` played last (`MEMO` columns: first frame, frame
    after its last, and the parabola's ``v0``, ``b``, ``c``; empty: both frames -1): a
    piece is a function of where it lies alone, so the next block, usually still inside
    it, reuses it instead of finding and evaluating it again (a drawn lane's cost per
    block is then its frames only); and its right end (where, on which segment, the
    value), which the next piece, if it starts there on that segment, takes as its left.
    """

    at: np.ndarray  # float64
    value: np.ndarray  # float64
    shape: np.ndarray  # int64 shape code (`dsp.curves`)
    tension: np.ndarray  # float64
    knot: np.ndarray  # int64 per point: a power of two from KNOT to MAX_KNOT
    lo: np.ndarray  # int64
    hi: np.ndarray  # int64
    ramp: np.ndarray  # float64
    pos: np.ndarray  # float64 each point's time on a warped lane's own timeline, s
    warp: np.ndarray  # int64 per lane
    scale: np.ndarray  # float64 per lane
    shift: np.ndarray  # float64 per lane
    times: np.ndarray  # float64 (warps, max_block): the plan's `WarpTable.times`
    state: np.ndarray  # int8 per lane: DRAWN, MANUAL or RETURNING
    live: np.ndarray  # float64 per lane
    target: np.ndarray  # float64 per lane
    step: np.ndarray  # float64 per lane
    left: np.ndarray  # float64 per lane
    last: np.ndarray  # float64 per lane
    memo: np.ndarray  # float64 (lanes, MEMO): the last piece played (start, end, v0, b, c) and its right end


#: What a lane plays: its drawn curve, a manual value being recorded, or the way back.
DRAWN, MANUAL, RETURNING = 0, 1, 2
#: The shortest and longest pieces a drawn lane is worked out in: exactly at their ends
#: and middle (`piece`), on the parabola through those between. Each segment's length is
#: the longest power of two between them that keeps the parabola within a bound of the
#: curve (`knot_lengths`); a glide's is the shortest.
KNOT = 16
MAX_KNOT = 4096
#: The bounds `knot_lengths` keeps to: the parabola's distance from the curve, as a share of
#: the segment's change, and in the gain a volume (relative) or pan lane makes of it.
LANE_TOLERANCE = 1e-5
GAIN_TOLERANCE = 1e-6
#: Columns of `LaneTable.memo`: the last piece's right end (`_fill_drawn`): where it was
#: worked out, on which segment (twice its point, plus one under its glide), its value.
RIGHT_AT, RIGHT_SEGMENT, RIGHT_VALUE = 5, 6, 7
MEMO = 8
#: Bends steeper than this tension end in a square-root cusp that no line follows: they
#: are worked out at every frame.
STEEP = 0.6


@njit(cache=True)
def fill_lane(lanes: LaneTable, k: int, first: int, frames: int, out: np.ndarray) -> None:
    """Write lane ``k``'s value at output frames ``first .. first + frames - 1`` into
    ``out[:frames]``: the drawn curve (exact at the ends and middle of its pieces
    (`piece`), on the parabola through those between; on a warped lane, exact at every
    frame of its time as the block's warp gives it; every frame's value depends on its
    position alone, so block sizes do not change it), or while a move is recorded the
    manual value (see `LaneTable`). Audio-thread safe: no allocation."""
    state = lanes.state[k]
    if state == MANUAL:
        lanes.live[k] = glide_into(out, frames, lanes.live[k], lanes.target[k], lanes.step[k])
    else:
        lo, hi, ramp, warp = lanes.lo[k], lanes.hi[k], lanes.ramp[k], lanes.warp[k]
        if warp >= 0:
            _fill_warped(
                lanes.pos, lanes.value, lanes.shape, lanes.tension, lanes.at, lanes.times[warp], lo, hi, ramp,
                lanes.scale[k], lanes.shift[k], first, frames, out,
            )  # fmt: skip
        else:
            _fill_drawn(
                lanes.at, lanes.value, lanes.shape, lanes.tension, lanes.knot, lanes.memo[k], lo, hi, ramp, first,
                frames, out,
            )  # fmt: skip
        if state == RETURNING:
            ramp = max(lanes.ramp[k], 1.0)
            left = lanes.left[k]
            manual = lanes.live[k]
            for i in range(min(frames, int(left))):
                out[i] += (manual - out[i]) * (left - i) / ramp
            lanes.left[k] = max(0.0, left - frames)
            if lanes.left[k] == 0.0:
                lanes.state[k] = DRAWN
    lanes.last[k] = out[frames - 1]


def touch_lane(lanes: LaneTable, k: int, value: float, glide: bool = True) -> None:
    """Let lane ``k`` play ``value`` from the next block, gliding there from what it
    played last over its de-click length (or at once: the first value of a `write` pass).
    Audio-thread safe: scalar stores."""
    if not glide:
        lanes.live[k] = value
    elif lanes.state[k] != MANUAL:
        lanes.live[k] = lanes.last[k]
    lanes.state[k] = MANUAL
    lanes.target[k] = value
    lanes.step[k] = ramp_step(lanes.live[k], value, max(1, int(lanes.ramp[k])))


def release_lane(lanes: LaneTable, k: int) -> None:
    """Let lane ``k`` return to its drawn curve, crossfading over its de-click length."""
    if lanes.state[k] == MANUAL:
        lanes.live[k] = lanes.last[k]
        lanes.left[k] = max(lanes.ramp[k], 1.0)
        lanes.state[k] = RETURNING


@njit(cache=True, inline="always")
def point_near(at: np.ndarray, lo: int, hi: int, x: float, near: int) -> int:
    """Return `point_at` of ``x``, trying point ``near`` and the one after it first: a
    lane's next piece mostly lies on the segment of the last one or the next (a search
    costs some mispredicted branches)."""
    if lo <= near < hi and at[near] <= x:
        if near + 1 >= hi or at[near + 1] > x:
            return near
        if near + 2 >= hi or at[near + 2] > x:
            return near + 1
    return point_at(at, lo, hi, x)


@njit(cache=True, inline="always")
def piece(
    at: np.ndarray, shape: np.ndarray, tension: np.ndarray, knot: np.ndarray, lo: int, hi: int, ramp: float, n: int,
    near: int,
) -> tuple[int, int, int, bool]:  # fmt: skip
    """Return the piece of the drawn lane (points ``lo:hi`` of ``at``, ``shape``,
    ``tension`` and ``knot``, glide ``ramp`` frames) holding output frame ``n``: its first
    frame, the frame after its last, the point whose segment plays there (`point_at`;
    looked for first at ``near`` and the one after, where the piece before was), and
    whether that point's de-click glide runs there.

    Pieces end every ``knot[j]`` frames of point ``j``'s segment (counted from frame 0, so
    they do not depend on the blocks; every `KNOT` frames in a glide), where a point lands
    and where a glide ends; within one the lane is smooth. On a bend steeper than `STEEP`
    every frame is a piece. (It takes arrays, not the `LaneTable`: inlined into loops
    without reference counting.)
    """
    j = point_near(at, lo, hi, float(n), near)
    size = MAX_KNOT  # before the first point the lane holds its first value
    jumps = glide = False
    stop = 0
    if j >= lo:
        size = knot[j]
        if ramp > 0.0 and j > lo and (shape[j - 1] == HOLD or at[j - 1] == at[j]):
            jumps = True
            stop = int(math.ceil(at[j] + ramp - 1.0))  # the first frame past the glide
            if n < stop:
                glide = True
                size = KNOT
    start = n & -size  # (n // size) * size: sizes are powers of two
    end = start + size
    if j >= lo:
        start = max(start, int(math.ceil(at[j])))  # the first frame at or after the point
        if glide:
            end = min(end, stop)
        elif jumps:
            start = max(start, stop)
    if j + 1 < hi:
        end = min(end, int(math.ceil(at[j + 1])))
        if j >= lo and shape[j] == BEND and abs(tension[j]) > STEEP:
            start, end = max(start, n), min(end, n + 1)
    return start, end, j, glide


@njit(cache=True, inline="always")
def piece_right(at: np.ndarray, lo: int, hi: int, j: int, end: int) -> float:
    """Return where the line across a piece ending before frame ``end`` on point ``j``'s
    segment is anchored on the right: ``end``, or the next point if that comes first (a
    curve is not evaluated past its segment, where a bend is not defined)."""
    if j < lo or j + 1 >= hi:
        return float(end)
    return min(float(end), at[j + 1])


@njit(cache=True, inline="always")
def drawn_value(
    at: np.ndarray, value: np.ndarray, shape: np.ndarray, tension: np.ndarray, lo: int, hi: int, ramp: float, j: int,
    glide: bool, x: float,
) -> float:  # fmt: skip
    """Return the drawn lane at output frame ``x`` exactly, on the segment of point ``j``
    (below ``lo``: before the first point) with or without its glide (`piece`): the jump
    from the value held before fades out linearly, the curve keeps its shape."""
    if j < lo:
        return value[lo]
    if j >= hi - 1:
        v = value[hi - 1]
    else:
        v = segment_value(value[j], value[j + 1], shape[j], tension[j], (x - at[j]) / (at[j + 1] - at[j]))
    if glide:
        v += (value[j - 1] - value[j]) * (1.0 - (x - at[j] + 1.0) / ramp)  # the glide's first frame is the point's
    return v


@njit(cache=True, inline="always")
def parabola(y0: float, y1: float, y2: float, h: float) -> tuple[float, float]:
    """Return b and c of y0 + u·(b + u·c), the parabola through (0, ``y0``), (``h``,
    ``y1``) and (2``h``, ``y2``): what a piece plays between its ends and middle."""
    if h <= 0.0:
        return 0.0, 0.0
    c = (y2 - 2.0 * y1 + y0) / (2.0 * h * h)
    return (y1 - y0) / h - c * h, c


@njit(cache=True, inline="always")
def _drawn_piece(
    at: np.ndarray, value: np.ndarray, shape: np.ndarray, tension: np.ndarray, knot: np.ndarray, memo: np.ndarray,
    lo: int, hi: int, ramp: float, n: int,
) -> None:  # fmt: skip
    # the piece of the drawn curve holding output frame n into ``memo`` (its first frame,
    # the frame after its last, and the parabola v0 + u·(b + u·c) through its ends and
    # middle, exact there; arrays, not the `LaneTable`: passing a tuple of twenty arrays
    # costs a reference count of each, 0.2 µs a call); a piece starting where the last one
    # ended, on its segment, starts from the value worked out there
    start, end, j, glide = piece(at, shape, tension, knot, lo, hi, ramp, n, int(memo[RIGHT_SEGMENT]) // 2)
    right = piece_right(at, lo, hi, j, end)
    segment = 2.0 * j + glide
    if float(start) == memo[RIGHT_AT] and segment == memo[RIGHT_SEGMENT]:
        v0 = memo[RIGHT_VALUE]  # the last piece ended where this one starts, on the same curve
    else:
        v0 = drawn_value(at, value, shape, tension, lo, hi, ramp, j, glide, float(start))
    h = 0.5 * (right - start)
    v1 = drawn_value(at, value, shape, tension, lo, hi, ramp, j, glide, start + h)
    v2 = drawn_value(at, value, shape, tension, lo, hi, ramp, j, glide, right)
    b, c = parabola(v0, v1, v2, h)
    memo[0], memo[1], memo[2], memo[3], memo[4] = start, end, v0, b, c
    memo[RIGHT_AT], memo[RIGHT_SEGMENT], memo[RIGHT_VALUE] = right, segment, v2


@njit(cache=True, inline="always")
def _fill_drawn(
    at: np.ndarray, value: np.ndarray, shape: np.ndarray, tension: np.ndarray, knot: np.ndarray, memo: np.ndarray,
    lo: int, hi: int, ramp: float, first: int, frames: int, out: np.ndarray,
) -> None:  # fmt: skip
    # the drawn curve at output frames, piece by piece (`_drawn_piece`)
    i = 0
    while i < frames:
        if not memo[0] <= first + i < memo[1]:  # past the piece played last
            _drawn_piece(at, value, shape, tension, knot, memo, lo, hi, ramp, first + i)
        stop = min(int(memo[1]) - first, frames)
        _parabola_into(out, i, stop, float(first - int(memo[0])), memo[2], memo[3], memo[4])
        i = stop


@njit(cache=True, inline="always")
def _drawn_pieces(
    at: np.ndarray, value: np.ndarray, shape: np.ndarray, tension: np.ndarray, knot: np.ndarray, memo: np.ndarray,
    lo: int, hi: int, ramp: float, first: int, frames: int, out: np.ndarray,
) -> float:  # fmt: skip
    # the drawn curve's pieces over the block as an automation row (`smoothing.value_at`),
    # or its values where more pieces than the row holds fall in it; returns the value
    # at the block's last frame
    room = (out.shape[0] - 1) // PIECE
    count = i = 0
    c = 1  # (the last piece's first column)
    while i < frames:
        if not memo[0] <= first + i < memo[1]:
            _drawn_piece(at, value, shape, tension, knot, memo, lo, hi, ramp, first + i)
        if count == room:  # (a steep bend: a piece a frame) the values themselves
            out[0] = DENSE
            _fill_drawn(at, value, shape, tension, knot, memo, lo, hi, ramp, first, frames, out[1:])
            return out[frames]
        c = 1 + PIECE * count
        out[c], out[c + 1] = i, float(first - int(memo[0]))
        out[c + 2], out[c + 3], out[c + 4] = memo[2], memo[3], memo[4]
        count += 1
        i = min(int(memo[1]) - first, frames)
    out[0] = count
    u = out[c + 1] + (frames - 1)  # (the last piece's: what `_parabola_into` writes there)
    return out[c + 2] + u * (out[c + 3] + u * out[c + 4])


@njit(cache=True, inline="always")
def _parabola_into(out: np.ndarray, i: int, stop: int, u0: float, v0: float, b: float, c: float) -> None:
    # frames i..stop of a piece's parabola v0 + u·(b + u·c), u = u0 + the frame's index
    # (indexed unsigned: numba's negative-index wraparound would keep it from vectorising)
    for m in range(i, stop):
        u = u0 + m
        out[np.uint64(m)] = v0 + u * (b + u * c)


@njit(cache=True, inline="always")
def _fill_warped(
    pos: np.ndarray, value: np.ndarray, shape: np.ndarray, tension: np.ndarray, at: np.ndarray, times: np.ndarray,
    lo: int, hi: int, ramp: float, scale: float, shift: float, first: int, frames: int, out: np.ndarray,
) -> None:  # fmt: skip
    # as `fill_lane`, with each frame's position on the lane's timeline read from its
    # warp's ``times``
    j = point_at(pos, lo, hi, scale * times[0] + shift)
    for i in range(frames):
        x = scale * times[i] + shift
        while j + 1 < hi and pos[j + 1] <= x:  # the child time never runs backwards
            j += 1
        if j < lo:
            out[i] = value[lo]
            continue
        if j >= hi - 1:
            v = value[hi - 1]
        else:
            v = segment_value(value[j], value[j + 1], shape[j], tension[j], (x - pos[j]) / (pos[j + 1] - pos[j]))
        d = max(1.0, first + i - at[j] + 1.0)
        if ramp > 0.0 and j > lo and d < ramp and (shape[j - 1] == HOLD or pos[j - 1] == pos[j]):
            v += (value[j - 1] - value[j]) * (1.0 - d / ramp)
        out[i] = v


class ParameterLanes(NamedTuple):
    """Effect parameters under automation: entry ``e`` writes lane ``lane[e]`` into the
    ``length[e]`` float64 values at address ``row[e]``: a parameter's row of its effect's
    automation array (one per automated effect, NaN rows for the parameters without a
    lane), which the plan keeps alive: a kernel's row (its lane's pieces or values, see
    `mixtree.dsp.smoothing`) or a held row (values), as `fill_parameters` writes them.
    (Addresses, not a list of the arrays: taking an array out of a typed list counts a
    reference, some 40 ns a lane.)"""

    lane: np.ndarray  # int64
    row: np.ndarray  # int64 address
    length: np.ndarray  # int64


@njit(cache=True)
def fill_parameters(lanes: LaneTable, entries: ParameterLanes, first: int, frames: int, pieces: bool) -> None:
    """Write every automated parameter's row for output frames ``first .. first + frames
    - 1``: with ``pieces``, a kernel's row (`mixtree.dsp.smoothing`): a drawn lane's
    pieces over the block, exactly the parabolas `fill_lane` evaluates (usually one, from
    the memo), a lane on a warped time or playing a recorded move its values (a kernel
    that reads a lane once in several frames then costs the block some numbers a lane,
    not a value a frame); else a held row: the values. Audio-thread safe: no allocation.

    A drawn lane whose block lies inside the piece it played last (`LaneTable`'s
    ``memo``: the usual case) is written from it here, without a call that would hand
    over the table's twenty arrays (a reference count of each, 0.2 µs a lane); so is
    one that moves on to its next piece, from the table's arrays taken out once."""
    memo, state, warp, last = lanes.memo, lanes.state, lanes.warp, lanes.last
    at, value, shape, tension, knot = lanes.at, lanes.value, lanes.shape, lanes.tension, lanes.knot
    lo, hi, ramp = lanes.lo, lanes.hi, lanes.ramp
    for e in range(entries.lane.shape[0]):
        k = entries.lane[e]
        out = floats_at(entries.row[e], entries.length[e])
        if state[k] != DRAWN or warp[k] >= 0:
            if pieces:
                out[0] = DENSE
                fill_lane(lanes, k, first, frames, out[1:])
            else:
                fill_lane(lanes, k, first, frames, out)
        elif memo[k, 0] <= first and first + frames <= memo[k, 1]:  # the usual block: one piece
            u0, v0, b, c = float(first - int(memo[k, 0])), memo[k, 2], memo[k, 3], memo[k, 4]
            if pieces:
                out[0], out[1], out[2], out[3], out[4], out[5] = 1.0, 0.0, u0, v0, b, c
                u = u0 + (frames - 1)
                last[k] = v0 + u * (b + u * c)  # (what `_parabola_into` writes there)
            else:
                _parabola_into(out, 0, frames, u0, v0, b, c)
                last[k] = out[frames - 1]
        elif pieces:
            last[k] = _drawn_pieces(at, value, shape, tension, knot, memo[k], lo[k], hi[k], ramp[k], first, frames, out)
        else:
            _fill_drawn(at, value, shape, tension, knot, memo[k], lo[k], hi[k], ramp[k], first, frames, out)
            last[k] = out[frames - 1]


#: The largest first, second and third derivatives of each shape's f(u) on [0, 1]
#: (`mixtree.dsp.curves`; ``bend`` and ``geometric`` depend on their tension and values:
#: see `knot_lengths`).
_D1, _D2, _D3 = np.zeros(len(SHAPES)), np.zeros(len(SHAPES)), np.zeros(len(SHAPES))
_D1[[LINEAR, SMOOTH, S_CURVE, FAST_START, FAST_END]] = 1.0, 1.5, math.pi / 2.0, 3.0, 3.0
_D2[[SMOOTH, S_CURVE, FAST_START, FAST_END]] = 6.0, math.pi**2 / 2.0, 6.0, 6.0
_D3[[SMOOTH, S_CURVE, FAST_START, FAST_END]] = 12.0, math.pi**3 / 2.0, 6.0, 6.0
#: A parabola through a piece's ends and middle strays from a curve by at most this
#: times K³ times its largest third derivative: max |t(t − h)(t − 2h)| / 6 with h = K/2.
_PARABOLA = 2.0 / (3.0 * math.sqrt(3.0)) / 8.0 / 6.0
_DB = math.log(10.0) / 20.0


#: The gains a fader makes of a lane, by `knot_lengths` domain: the factor k of its
#: exp(k·v) (dB, relative) or of its position (a pan, as if its law bent like it).
DOMAINS = {"": 0.0, "db": _DB, "pan": 1.0}


def knot_lengths(
    at: np.ndarray, value: np.ndarray, shape: np.ndarray, tension: np.ndarray, domain: str | np.ndarray = ""
) -> np.ndarray:  # fmt: skip
    """Return the piece length of each point's segment (a lane's points, at frames ``at``;
    or several lanes' one after another, each ending on a point whose ``domain`` entry
    is NaN): the longest power of two from `KNOT` to `MAX_KNOT` whose parabola strays
    from the curve by at most `LANE_TOLERANCE` of the segment's change, and, for a
    ``domain`` of ``"db"`` (a fader's volume) or ``"pan"`` (`DOMAINS`; per point: their
    factors), at most `GAIN_TOLERANCE` in the gain the fader makes of it. The bounds take
    each shape's largest derivatives. Hold and linear segments and a lane's last point
    have no curve of their own: `MAX_KNOT` unless a domain bends them. Compile side."""
    n = at.shape[0]
    out = np.full(n, MAX_KNOT, np.int64)
    if n < 2:
        return out
    factor = np.full(n, DOMAINS[domain]) if isinstance(domain, str) else np.asarray(domain, np.float64)
    if isinstance(domain, str):
        factor[-1] = np.nan
    span = np.maximum(at[1:] - at[:-1], 1e-9)  # frames
    v0, v1 = value[:-1], value[1:]
    change = np.abs(v1 - v0)
    kind = shape[:-1]
    bend = kind == BEND
    c = np.minimum(np.abs(tension[:-1]), 0.999)
    d1 = np.where(bend, (1.0 + c) / (1.0 - c), _D1[kind]) * change
    d2 = np.where(bend, 4.0 * c / (1.0 - c) ** 3, _D2[kind]) * change
    d3 = np.where(bend, 24.0 * c * c / (1.0 - c) ** 5, _D3[kind]) * change
    geometric = (kind == GEOMETRIC) & (v0 * v1 > 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_ratio = np.where(geometric, np.abs(np.log(np.abs(v1 / np.where(v0 == 0.0, 1.0, v0)))), 0.0)
    biggest = np.maximum(np.abs(v0), np.abs(v1))
    d1 = np.where(geometric, biggest * log_ratio, d1) / span  # per frame
    d2 = np.where(geometric, biggest * log_ratio**2, d2) / span**2
    d3 = np.where(geometric, biggest * log_ratio**3, d3) / span**3
    k = factor[:-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        limit = np.cbrt(LANE_TOLERANCE * change / (_PARABOLA * d3))
        gain = k**3 * d1**3 + 3.0 * k**2 * d1 * d2 + k * d3  # d³/du³ of exp(k·v), relative
        limit = np.where(k > 0.0, np.minimum(limit, np.cbrt(GAIN_TOLERANCE / (_PARABOLA * gain))), limit)
    limit = np.clip(np.nan_to_num(limit, nan=MAX_KNOT, posinf=MAX_KNOT), KNOT, MAX_KNOT)
    out[:-1] = np.left_shift(1, np.floor(np.log2(limit)).astype(np.int64))
    out[np.isnan(factor)] = MAX_KNOT  # the last point of each lane
    return out
