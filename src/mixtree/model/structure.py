"""Rules of the track graph: nesting depth, send loops, alias cycles; and time maps."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from mixtree.model.tracks import AudioTrack, Metatrack, Track

if TYPE_CHECKING:
    from mixtree.model.project import Project


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
