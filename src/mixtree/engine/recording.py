"""Automation recording on the control side: the moves of one pass (play to stop) made
into lane points, thinned, and applied as one undoable edit.

The audio thread records each move with the frame it took effect on (`Recorder`); a
move glides from the value before to the new one over the parameter's de-click time,
so the curve heard is a polyline: the old value at the move's time, the new one a ramp
later. Each stretch of moves (from the first to its end: a release, a stop or a jump)
replaces the lane's points it covers, between two guard points that hold the old curve
on either side: the old value where the moves start and again a ramp after they end.
That polyline is thinned to within `tolerance` of what was heard.
"""

from __future__ import annotations

import numpy as np

from mixtree.dsp.curves import SHAPES, lane_value
from mixtree.dsp.warp import child_seconds
from mixtree.engine.recorder import END, PASS, SET
from mixtree.model.automation import AutomationLane, Point, manual_value
from mixtree.model.operations import Batch, Operation, SetAttribute, SetLanePoints
from mixtree.model.project import Project
from mixtree.render.plan import RenderPlan

#: How far the thinned curve may stray from the one heard: in dB for levels, else this
#: fraction of the parameter's range.
DB_TOLERANCE = 0.05
RANGE_TOLERANCE = 0.001


def tolerance(lane: AutomationLane) -> float:
    """Return how far `thin` may move ``lane``'s recorded curve, in its unit."""
    spec = lane.spec
    if spec.unit == "dB":
        return DB_TOLERANCE
    return RANGE_TOLERANCE * (spec.max - spec.min)


def thin(points: list[tuple[float, float]], tol: float) -> list[tuple[float, float]]:
    """Return the fewest of ``points`` (time, value; a polyline) whose polyline stays
    within ``tol`` of every dropped one (Ramer–Douglas–Peucker on the value axis)."""
    if len(points) <= 2:
        return points
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    todo = [(0, len(points) - 1)]
    while todo:
        i, j = todo.pop()
        (t0, v0), (t1, v1) = points[i], points[j]
        worst, at = -1.0, -1
        for k in range(i + 1, j):
            t, v = points[k]
            line = v0 if t1 == t0 else v0 + (v1 - v0) * (t - t0) / (t1 - t0)
            if abs(v - line) > worst:
                worst, at = abs(v - line), k
        if worst > tol:
            keep[at] = True
            todo += [(i, at), (at, j)]
    return [p for p, k in zip(points, keep, strict=True) if k]


class Passes:
    """The moves recorded since the transport started, by lane id, and the passes that
    ended and wait to be committed (control side)."""

    def __init__(self) -> None:
        self.moves: dict[int, list[tuple[int, int, float]]] = {}  # lane: (kind, frame, value)
        self.ended: list[dict[int, list[tuple[int, int, float]]]] = []

    def take(self, entries: list[tuple[int, int, int, float]]) -> None:
        """Add entries read from the `Recorder`."""
        for kind, lane, frame, value in entries:
            if kind == PASS:
                if self.moves:
                    self.ended.append(self.moves)
                    self.moves = {}
                continue
            self.moves.setdefault(lane, []).append((kind, frame, value))

    def commit(self, project: Project, plan: RenderPlan) -> list[Operation]:
        """Turn every pass that ended into one edit of every lane it moved (applied to
        ``project``, one undo step each), with ``write`` lanes becoming ``touch``; return
        them."""
        done = []
        while self.ended:
            op = _commit(project, plan, self.ended.pop(0))
            if op is not None:
                done.append(op)
        return done


def _commit(project: Project, plan: RenderPlan, moves: dict[int, list[tuple[int, int, float]]]) -> Operation | None:
    ops: list[Operation] = []
    for ident, lane_moves in moves.items():
        lane = project.registry.records.get(ident)
        if not isinstance(lane, AutomationLane) or ident not in plan.clocks:
            continue  # the lane went away during the pass
        points = _recorded(project, plan, lane, lane_moves)
        ops.append(SetLanePoints(lane.id, lane.checked(points)))
        if lane.mode == "write":
            ops.append(SetAttribute(lane.id, "mode", "touch"))
    if not ops:
        return None
    op = Batch("record automation", ops)
    project.apply(op)
    return op


def _recorded(
    project: Project, plan: RenderPlan, lane: AutomationLane, moves: list[tuple[int, int, float]]
) -> list[tuple[float, float, str, float]]:
    """Return ``lane``'s points with every stretch of ``moves`` written over them.

    A lane inside an alias plays once per copy, each on its own timeline: a stretch is
    written on the timeline of the alias instance playing where it starts, or of the
    track itself where none does."""
    clocks = plan.clocks[lane.id]
    rate = plan.sample_rate
    clock = clocks[0][1]

    def lane_time(frame: float) -> float:
        a, b, warp, tempo = clock
        x = child_seconds(plan.warps, warp, frame, rate) if warp >= 0 else frame / rate
        seconds = a * x + b
        return tempo.beat_at(seconds) if lane.time_base == "beats" else seconds

    steps = bool(lane.spec.choices)  # mute: steps only, no glides
    ramp = 0 if steps else max(1, round(lane.spec.ramp * rate))
    points = lane.points
    stretch: list[tuple[int, float, bool]] = []
    for kind, frame, value in moves:
        if kind != END:
            stretch.append((frame, value, kind == SET))
            continue
        if stretch:
            first = stretch[0][0] - 1  # a move glides from what the frame before it played
            clock = next((c for (lo, hi), c in reversed(clocks) if lo <= first + 1 < hi), clocks[0][1])
            start = _old(project, lane, points, lane_time(first))
            heard = [(lane_time(f), v) for f, v in _heard(stretch, frame, ramp, start, steps)]
            points = _write_over(project, lane, points, heard, lane_time(frame + ramp), steps)
        stretch = []
    return [tuple(p) for p in points]


def _heard(
    stretch: list[tuple[int, float, bool]], end: int, ramp: int, start: float, steps: bool
) -> list[tuple[float, float]]:
    """Return the polyline (frame, value) the moves of ``stretch`` played until ``end``:
    each glides linearly from the value the frame before it played to its own over
    ``ramp`` frames (`mixtree.dsp.lanes.touch_lane`), or steps there (``steps``, or a
    move made at once: a write pass's first)."""
    if steps:
        return [(stretch[0][0] - 1, start), *((float(f), v) for f, v, _ in stretch), (float(end), stretch[-1][1])]
    out: list[tuple[float, float]] = []
    value = start
    for k, (frame, target, at_once) in enumerate(stretch):
        s = frame - 1
        out.append((float(s), value))
        until = (stretch[k + 1][0] if k + 1 < len(stretch) else end) - 1
        if at_once:
            out.append((float(frame), target))
            value = target
        elif s + ramp <= until:
            out.append((float(s + ramp), target))
            value = target
        else:
            value += (target - value) * (until - s) / ramp
    out.append((float(end - 1), value))
    return out


def _old(project: Project, lane: AutomationLane, points: list[Point], t: float) -> float:
    # what the lane drew at t before the pass (its manual value if it drew nothing)
    return _value_at(points, t) if points else manual_value(project, lane)


def _write_over(
    project: Project,
    lane: AutomationLane,
    points: list[Point],
    heard: list[tuple[float, float]],
    end: float,
    steps: bool,
) -> list[Point]:
    """Return ``points`` with the span of ``heard`` up to ``end`` (where the lane is back
    on its old curve) replaced by ``heard`` thinned, between guards holding the old curve."""
    start = max(0.0, heard[0][0])
    end = max(start, end)
    shape = "hold" if steps else "linear"
    before = [p for p in points if p.time < start]
    after = [p for p in points if p.time > end]
    # the old curve's shape carries on from the closing guard to the next old point
    tail = next((p for p in reversed(points) if p.time <= end), None)
    closing = Point(end, _old(project, lane, points, end), tail.shape if tail else shape, tail.tension if tail else 0.0)
    drawn = [(max(0.0, t), v) for t, v in heard]
    new = [Point(t, v, shape, 0.0) for t, v in (drawn if steps else thin(drawn, tolerance(lane)))]
    return [*before, *new, closing, *after]


def _value_at(points: list[Point], t: float) -> float:
    # the old lane's value at t (as `AutomationLane.value_at`, on a points list)
    at = np.array([p.time for p in points])
    value = np.array([p.value for p in points])
    shape = np.array([SHAPES.index(p.shape) for p in points], np.int64)
    tension = np.array([p.tension for p in points])
    return float(lane_value(at, value, shape, tension, 0, len(points), t))
