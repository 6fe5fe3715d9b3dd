"""Per-sample parameter smoothing over an effect's parameter table.

A parameter table is float64 ``(parameters, 4)``: columns `CUR` (the value now), `TGT`
(where the control side wants it), `LAST` (the target the ramp was set up for) and
`STEP` (how far it moves per frame). The control side only writes `TGT`; the kernels do
the rest, so a change of target becomes a linear ramp of ``ramps[p]`` frames.

The linear ramp itself (`ramp_step`, `step_toward`) is the faders' too. Automation
reaches a kernel as one row per parameter of a float64 ``(parameters, 1 + frames)``
array (`value_at`, `lane_value`): column 0 says how the row holds its lane for the
block: NaN, no lane; `DENSE` (0), a value per frame from column 1; ``n`` ≥ 1, ``n``
pieces of `PIECE` columns from column 1, each its first frame in the block ``i0``, then
``u0``, ``v0``, ``b``, ``c``: from frame ``i0`` until the next piece's, the value at
frame ``i`` is ``v0 + u·(b + u·c)`` with ``u = u0 + i`` (`mixtree.dsp.lanes.fill_parameters`).
A lane is mostly one parabola for a whole block: a kernel that reads it once in 8 or 32
frames then costs the block a handful of numbers, not a value per frame.
"""

from __future__ import annotations

import numpy as np

from mixtree.dsp.jit import njit

CUR, TGT, LAST, STEP = 0, 1, 2, 3
#: An automation row's column 0 when it holds a value per frame (`value_at`).
DENSE = 0
#: Columns of one piece of an automation row: first frame, u0, v0, b, c (`value_at`).
PIECE = 5


@njit(cache=True, inline="always")
def ramp_step(value: float, target: float, frames: int) -> float:
    """Return how far a linear ramp from ``value`` moves per frame to reach ``target`` in
    ``frames`` frames (``frames`` > 0)."""
    return abs(target - value) / frames


@njit(cache=True, inline="always")
def step_toward(value: float, target: float, step: float) -> float:
    """Return ``value`` moved one ``step`` toward ``target``, stopping on it (never past)."""
    if value < target:
        return min(target, value + step)
    return max(target, value - step)


@njit(cache=True, inline="always")
def glide_into(out: np.ndarray, frames: int, value: float, target: float, step: float) -> float:
    """Write ``value`` moving a `step_toward` ``target`` each frame into ``out[:frames]``;
    return where it got to."""
    for i in range(frames):
        if value != target:
            value = step_toward(value, target, step)
        out[i] = value
    return value


@njit(cache=True, inline="always")
def begin_block(params: np.ndarray, ramps: np.ndarray) -> bool:
    """Set up ramps for targets that changed (or that a value left by automation is away
    from, with no ramp under way); return True if any parameter is moving."""
    moving = False
    for p in range(params.shape[0]):
        tgt = params[p, TGT]
        if tgt != params[p, LAST] or (params[p, STEP] == 0.0 and params[p, CUR] != tgt):
            params[p, LAST] = tgt
            if ramps[p] <= 0:
                params[p, CUR] = tgt
                params[p, STEP] = 0.0
            else:
                params[p, STEP] = ramp_step(params[p, CUR], tgt, ramps[p])
        if params[p, CUR] != tgt:
            moving = True
    return moving


@njit(cache=True, inline="always")
def advance(params: np.ndarray, p: int) -> float:
    """Move parameter ``p`` one frame toward its target and return its new value."""
    cur = params[p, CUR]
    tgt = params[p, TGT]
    if cur != tgt:
        cur = step_toward(cur, tgt, params[p, STEP])
        params[p, CUR] = cur
    return cur


#: What `begin_row` says about an effect for this block.
BYPASSED, STEADY, MOVING = 0, 1, 2


@njit(cache=True, inline="always")
def begin_row(params: np.ndarray, ramps: np.ndarray, auto: np.ndarray) -> int:
    """Set up the block's ramps (`begin_block`) and say how the effect runs: `BYPASSED`
    (fully, nothing to do), `STEADY` (fully active, nothing gliding: the fast path) or
    `MOVING` (a parameter or the bypass cross-fade glides: `value_at` per frame). The last
    row of an effect's table is its active amount (1 on, 0 bypassed).

    ``auto`` holds the row's automation for the block (see `automate`): a kernel applies
    it in every mode, each at the granularity it documents, counted from frame 0 of the
    timeline or from state, so results do not depend on where blocks fall."""
    moving = begin_block(params, ramps)
    active = params[params.shape[0] - 1, CUR]
    if moving and auto.shape[0]:  # an automated parameter's value is the lane's, not a glide
        moving = False
        for p in range(params.shape[0]):
            automated = p < auto.shape[0] and auto[p, 0] == auto[p, 0]
            if not automated and params[p, CUR] != params[p, TGT]:
                moving = True
    if moving:
        return MOVING
    if active == 0.0:
        return BYPASSED
    return STEADY if active == 1.0 else MOVING


@njit(cache=True, inline="always")
def lane_value(auto: np.ndarray, p: int, i: int) -> float:
    """Return the value row ``p`` of ``auto`` (a lane's: see the module) holds for frame
    ``i`` of the block."""
    n = int(auto[p, 0])
    if n == DENSE:
        return auto[p, i + 1]
    k = 1  # the piece holding frame i: the last whose first frame is at or before it
    while k < n and auto[p, 1 + PIECE * k] <= i:
        k += 1
    c = 1 + PIECE * (k - 1)
    u = auto[p, c + 1] + i
    return auto[p, c + 2] + u * (auto[p, c + 3] + u * auto[p, c + 4])


@njit(cache=True, inline="always")
def lane_points(auto: np.ndarray, p: int, first: int, stride: int, n: int, out: np.ndarray) -> None:
    """Write `lane_value` of row ``p`` of ``auto`` at frames ``first``, ``first + stride``,
    ... (``n`` of them) into ``out[:n]``: for a kernel that reads a lane once in several
    frames, each piece's frames in one loop the compiler vectorises, not a search each."""
    count = int(auto[p, 0])
    if count == DENSE:
        for g in range(n):
            out[g] = auto[p, 1 + first + g * stride]
        return
    g = 0
    for k in range(count):
        c = 1 + PIECE * k
        stop = n
        if k + 1 < count:  # the frames before the next piece's first
            ahead = int(auto[p, c + PIECE]) - first
            stop = min(n, max(g, (ahead + stride - 1) // stride))
        u0, v0, b, cc = auto[p, c + 1], auto[p, c + 2], auto[p, c + 3], auto[p, c + 4]
        for m in range(g, stop):
            u = u0 + (first + m * stride)  # (as `lane_value`: the same operations, the same bits)
            out[np.uint64(m)] = v0 + u * (b + u * cc)
        g = stop


@njit(cache=True, inline="always")
def value_at(params: np.ndarray, auto: np.ndarray, p: int, i: int) -> float:
    """Move parameter ``p`` to frame ``i`` of the block and return its value there: its
    automation's, where ``auto`` (one row per parameter, see the module; or empty) has a
    lane, else one frame of its glide."""
    if p < auto.shape[0] and auto[p, 0] == auto[p, 0]:
        v = lane_value(auto, p, i)
        params[p, CUR] = v
        return v
    return advance(params, p)


@njit(cache=True, inline="always")
def automate(params: np.ndarray, auto: np.ndarray, i: int) -> bool:
    """Set every automated parameter to its value at frame ``i`` of the block (``auto``:
    see `value_at`); return whether any changed."""
    changed = False
    for p in range(auto.shape[0]):
        if auto[p, 0] == auto[p, 0]:  # (NaN: no lane)
            v = lane_value(auto, p, i)
            if params[p, CUR] != v:
                params[p, CUR] = v
                changed = True
    return changed


@njit(cache=True, inline="always")
def automate_rows(params: np.ndarray, auto: np.ndarray, rows: int, i: int) -> bool:
    """`automate` over the ``rows`` alone: the bits of those with a lane
    (`mixtree.dsp.rows.lanes_of`), for a kernel that reads its automation often."""
    changed = False
    p = 0
    while rows >> p:
        if (rows >> p) & 1:
            v = lane_value(auto, p, i)
            if params[p, CUR] != v:
                params[p, CUR] = v
                changed = True
        p += 1
    return changed
