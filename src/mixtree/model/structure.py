"""Rules of the track graph: nesting depth, send loops, alias cycles; and time maps."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from mixtree.dsp.warp import areas, integral_inverse, speed_integral
from mixtree.model.tracks import AudioTrack, Metatrack, Track

if TYPE_CHECKING:
    from mixtree.model.project import Project
    from mixtree.model.tempo import TempoMap


def walk(tracks: list[Track]) -> Iterator[Track]:
    """Yield ``tracks`` and everything inside them, depth first, parents before children."""
    for t in tracks:
        yield t
        if isinstance(t, Metatrack):
            yield from walk(t.children)


def ancestors(project: Project, track: Track) -> list[Metatrack]:
    """Return the metatracks containing ``track``, innermost first."""
    out = []
    parent = track.parent_id
    while parent is not None:
        m = project.track(parent)
        assert isinstance(m, Metatrack)
        out.append(m)
        parent = m.parent_id
    return out


def time_map(project: Project, track: Track) -> tuple[float, float]:
    """Return (a, b) with content time = a × project time + b for ``track``'s clips.

    For a metatrack, the map is the one its children's clips see.
    """
    chain = ancestors(project, track)[::-1]
    if isinstance(track, Metatrack):
        chain.append(track)
    a, b = 1.0, 0.0
    for m in chain:
        a, b = a * m.speed, (b - m.offset) * m.speed
    return a, b


def tempo_map_of(project: Project, track: Track) -> TempoMap:
    """Return the tempo map beats on ``track``'s timeline count through: the innermost own
    map of the metatracks containing it, else the project's. (A metatrack's own map is
    for its children: it sits on its parent's timeline.)"""
    for m in ancestors(project, track):
        if m.tempo_map is not None:
            return m.tempo_map
    return project.tempo_map


def children_tempo_map(project: Project, m: Metatrack) -> TempoMap:
    """Return the tempo map beats on ``m``'s children's timeline count through."""
    return m.tempo_map if m.tempo_map is not None else tempo_map_of(project, m)


class SpeedCurve(NamedTuple):
    """A metatrack's automated speed: its points in seconds of the timeline it sits on,
    and the integral of the speed from its ``offset`` to each (`mixtree.dsp.warp`)."""

    at: np.ndarray
    value: np.ndarray
    shape: np.ndarray
    tension: np.ndarray
    area: np.ndarray


def speed_curve(project: Project, m: Metatrack) -> SpeedCurve | None:
    """Return ``m``'s automated speed, or None when its speed is the constant `speed`."""
    lane = m.lanes.get("speed")
    if lane is None or not lane.plays:
        return None
    at, value, shape, tension = lane.arrays()
    if lane.time_base == "beats":
        tm = tempo_map_of(project, m)
        at = np.array([tm.seconds_at(x) for x in at])
    return SpeedCurve(at, value, shape, tension, areas(at, value, shape, tension, m.offset))


def child_time(project: Project, m: Metatrack, t: float) -> float:
    """Return the time on ``m``'s children's timeline at ``t`` on its own: (t − offset) ×
    speed, or under automated speed the speed's integral from ``offset`` to ``t``."""
    curve = speed_curve(project, m)
    if curve is None:
        return m.to_child_time(t)
    return float(speed_integral(*curve[:4], curve.area, 0, len(curve.at), float(t)))


def parent_time(project: Project, m: Metatrack, t: float) -> float:
    """Return the first time on ``m``'s timeline whose child time is ``t`` (the inverse of
    `child_time`). A time its children never reach (the speed drops to 0 for good
    before it) maps to where they stop."""
    curve = speed_curve(project, m)
    if curve is None:
        return m.to_parent_time(t)
    x = float(integral_inverse(*curve[:4], curve.area, 0, len(curve.at), float(t)))
    if x == np.inf:
        return float(curve.at[-1])
    return x


def project_time(project: Project, track: Track, t: float) -> float:
    """Return the project time of time ``t`` on ``track``'s content timeline (a
    metatrack's: its children's), through every offset and speed above, automated or not."""
    chain = ancestors(project, track)
    if isinstance(track, Metatrack):
        chain.insert(0, track)
    for m in chain:
        t = parent_time(project, m, t)
    return t


def levels(track: Track) -> int:
    """Return how many metatrack levels ``track``'s subtree spans (0 for a plain track)."""
    if not isinstance(track, Metatrack):
        return 0
    return 1 + max((levels(c) for c in track.children), default=0)


def check(project: Project) -> None:
    """Raise ``ValueError`` if the graph breaks a rule: nesting, send loops, alias cycles."""
    _check_nesting(project)
    _check_sends(project)
    _check_aliases(project)


def _check_nesting(project: Project) -> None:
    for t in walk(project.top_tracks):
        if not isinstance(t, Metatrack):
            continue
        depth = len(ancestors(project, t)) + 1
        if depth > project.max_nesting:
            path = " > ".join(m.name for m in ancestors(project, t)[::-1] + [t])
            raise ValueError(
                f"metatracks nest {depth} levels deep ({path}); the limit is "
                f"{project.max_nesting} (raise project.max_nesting to allow more)"
            )


def _check_sends(project: Project) -> None:
    # Processing order: a child before its parent, a sender before its bus. A cycle in
    # that graph is a feedback loop the renderer cannot order.
    edges: dict[int, list[int]] = {}
    for t in walk(project.top_tracks):
        if t.sends:
            edges[t.id] = [s.bus_id for s in t.sends]
    if not edges:
        return  # the tree alone cannot loop
    for t in walk(project.top_tracks):
        if t.parent_id is not None:
            edges.setdefault(t.id, []).append(t.parent_id)
    state: dict[int, int] = {}
    for node in list(edges):
        if node not in state:
            _visit(project, edges, state, node, [node])


def _visit(project: Project, edges: dict[int, list[int]], state: dict[int, int], node: int, path: list[int]) -> None:
    state[node] = 1
    for nxt in edges.get(node, ()):
        if state.get(nxt) == 1:
            loop = path[path.index(nxt) :] + [nxt] if nxt in path else [node, nxt]
            names = " → ".join(project.track(i).name for i in loop)
            raise ValueError(f"that would make a feedback loop: {names}")
        if nxt not in state:
            _visit(project, edges, state, nxt, [*path, nxt])
    state[node] = 2


def _check_aliases(project: Project) -> None:
    def referenced(m: Metatrack) -> set[int]:
        return {a.metatrack_id for t in walk(m.children) if isinstance(t, AudioTrack) for a in t.aliases}

    for m in walk(project.top_tracks):
        if not isinstance(m, Metatrack):
            continue
        seen: set[int] = set()
        todo = list(referenced(m))
        while todo:
            ident = todo.pop()
            if ident == m.id:
                raise ValueError(f"metatrack {m.name!r} would contain an alias of itself")
            if ident in seen:
                continue
            seen.add(ident)
            target = project.track(ident)
            if isinstance(target, Metatrack):
                todo.extend(referenced(target))
