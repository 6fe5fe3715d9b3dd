"""Warped timelines as the page draws them: piecewise-linear knots from a metatrack's
children's time to project time, where a speed lane (its own or one above) plays.

Under automated speed the children's time is the speed's integral (`mixtree.dsp.warp`),
which no line maps. The page interpolates between knots instead: they are sampled in
project time, at every speed point of every warp on the way down and between them until
the integral bends less than `TOLERANCE` from the chord, and every clip edge on that
timeline is a knot of its own, placed by the model (`structure.project_time`), so a clip
starts and ends on the page exactly where it plays.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from mixtree.dsp.warp import integral_inverse, speed_integral
from mixtree.model.project import Project
from mixtree.model.structure import SpeedCurve, ancestors, project_time, speed_curve, walk
from mixtree.model.tracks import AudioTrack, Metatrack, MidiTrack

#: The most the children's time (s) may stray from a chord between two sampled knots (10 µs).
TOLERANCE = 1e-5
#: Halvings of one stretch between speed points at most (2^DEPTH knots).
DEPTH = 10

Knots = list[list[float]]


def warped_maps(p: Project, end: float) -> dict[int, Knots]:
    """Return, for every metatrack whose children's timeline is warped, its knots
    ``[[child time, project time], …]``: both columns never decrease, they reach beyond
    every speed point and past ``end`` (s), and beyond them the map is a line (or stands
    still, where the tape stopped for good). Call under ``p.lock``."""
    curves: dict[int, SpeedCurve | None] = {}

    def curve_of(m: Metatrack) -> SpeedCurve | None:
        if m.id not in curves:
            curves[m.id] = speed_curve(p, m)
        return curves[m.id]

    out: dict[int, Knots] = {}
    for m in walk(p.top_tracks):
        if not isinstance(m, Metatrack):
            continue
        chain = [*ancestors(p, m)[::-1], m]  # outermost first
        if all(curve_of(x) is None for x in chain):
            continue
        out[m.id] = _knots(p, m, chain, [curve_of(x) for x in chain], end)
    return out


def _knots(p: Project, m: Metatrack, chain: list[Metatrack], curves: list[SpeedCurve | None], end: float) -> Knots:
    def down(x: float) -> float:
        # project time → m's children's time, level by level
        for level, c in zip(chain, curves, strict=True):
            if c is None:
                x = level.to_child_time(x)
            else:
                x = float(speed_integral(c.at, c.value, c.shape, c.tension, c.area, 0, len(c.at), x))
        return x

    def up(depth: int, t: float) -> float:
        # the first project time of time t on chain[depth]'s own timeline
        for level, c in zip(chain[:depth][::-1], curves[:depth][::-1], strict=True):
            if c is None:
                t = level.to_parent_time(t)
            else:
                x = float(integral_inverse(c.at, c.value, c.shape, c.tension, c.area, 0, len(c.at), t))
                t = float(c.at[-1]) if x == math.inf else x
        return t

    # every speed point of every warp, in project time: between two of them each level's
    # speed is one smooth segment, and outside them all a constant
    breaks = {up(depth, float(at)) for depth, c in enumerate(curves) if c is not None for at in c.at}
    breaks = {x for x in breaks if math.isfinite(x)}
    lo = min(0.0, *breaks) - 1.0
    hi = max(end, *breaks) + 1.0
    xs = sorted({lo, hi, *breaks})
    sampled: list[tuple[float, float]] = [(down(xs[0]), xs[0])]
    for x0, x1 in zip(xs, xs[1:], strict=False):
        _subdivide(down, x0, sampled[-1][0], x1, down(x1), DEPTH, sampled)
    # clip edges, placed by the model
    exact: set[tuple[float, float]] = set()
    for child in m.children:
        clips = (
            child.clips if isinstance(child, AudioTrack) else child.midi_clips if isinstance(child, MidiTrack) else []
        )
        for c in clips:
            for t in (c.start, c.start + c.duration):
                x = project_time(p, child, t)
                if math.isfinite(x):
                    exact.add((t, x))
    return _monotone(sampled, exact)


def _subdivide(
    f: Callable[[float], float], x0: float, y0: float, x1: float, y1: float, depth: int, out: list[tuple[float, float]]
) -> None:
    """Append knots (f(x), x) over (x0, x1] until the chords stray less than `TOLERANCE`."""
    mid = 0.5 * (x0 + x1)
    ym = f(mid)
    if depth > 0 and abs(ym - 0.5 * (y0 + y1)) > TOLERANCE:
        _subdivide(f, x0, y0, mid, ym, depth - 1, out)
        _subdivide(f, mid, ym, x1, y1, depth - 1, out)
        return
    out.append((y1, x1))


def _monotone(sampled: list[tuple[float, float]], exact: set[tuple[float, float]]) -> Knots:
    """Merge sampled and exact knots (child time, project time) by project time, keeping
    both columns non-decreasing: a sampled knot yields to an exact one a rounding away,
    and after a clip edge the tape never reaches (placed where it stopped) the sampled
    knots stand at that edge's time."""
    rows = sorted([(x, t, False) for t, x in sampled] + [(x, t, True) for t, x in exact])
    kept: list[tuple[float, float, bool]] = []
    for x, t, is_exact in rows:
        if is_exact:
            while kept and not kept[-1][2] and kept[-1][1] > t:
                kept.pop()
        elif kept and t < kept[-1][1]:
            t = kept[-1][1]
        kept.append((x, t, is_exact))
    return [[t, x] for x, t, _ in kept]
