"""Metatrack operations that rewrite the tree: flatten and ungroup."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mixtree.model.operations import Batch, MoveTrack, Operation, RemoveAlias, RemoveTrack, SetAttributes
from mixtree.model.structure import walk
from mixtree.model.tracks import AudioTrack, Metatrack, Track

if TYPE_CHECKING:
    from mixtree.model.project import Project


def flatten_ops(project: Project, m: Metatrack) -> list[Operation]:
    """Return the operations that move ``m``'s offset and speed into its children.

    Clips get the start, length, fades and varispeed that place and play them exactly
    as before; child metatracks compose the transform into theirs. A clip pushed before
    the project's start loses the part before 0.
    """
    if m.pitch != 0.0 or m.preserve_pitch:
        raise ValueError(
            f"cannot flatten {m.name!r}: a pitch shift cannot be baked into audio clips (bounce or freeze it instead)"
        )
    if not m.has_transform:
        return []
    speed, offset = m.speed, m.offset
    ops: list[Operation] = []
    for child in m.children:
        if isinstance(child, Metatrack):
            ops.append(SetAttributes(child.id, {"offset": offset + child.offset / speed, "speed": child.speed * speed}))
        if isinstance(child, AudioTrack):
            if child.aliases and speed != 1.0:
                raise ValueError(
                    f"cannot flatten {m.name!r}: {child.name!r} holds aliases, which have no speed of their own"
                )
            for a in child.aliases:
                ops.append(SetAttributes(a.id, {"start": max(0.0, a.start + offset)}))
            for c in child.clips:
                start = c.start / speed + offset
                values = {
                    "start": start,
                    "duration": c.duration / speed,
                    "speed": c.speed * speed,
                    "fade_in": c.fade_in / speed,
                    "fade_out": c.fade_out / speed,
                }
                if start < 0.0:  # trim the part that would land before 0
                    cut = -start
                    if cut >= values["duration"]:
                        values["muted"] = True
                        values["start"] = 0.0
                    else:
                        values["start"] = 0.0
                        values["duration"] -= cut
                        values["offset"] = c.offset + cut * values["speed"]
                        values["fade_in"] = max(0.0, values["fade_in"] - cut)
                ops.append(SetAttributes(c.id, values))
    ops.append(SetAttributes(m.id, {"offset": 0.0, "speed": 1.0}))
    return ops


def flatten(project: Project, m: Metatrack) -> None:
    """Bake ``m``'s transform into its children as one undoable edit."""
    ops = flatten_ops(project, m)
    if ops:
        project.apply(Batch(f"flatten {m.name!r}", ops))


def ungroup(project: Project, m: Metatrack) -> list[Track]:
    """Replace ``m`` by its children (transform baked in first); return the children."""
    children = list(m.children)
    siblings = project.registry.siblings(m.parent_id)
    index = siblings.index(m)
    ops = flatten_ops(project, m)
    ops += [MoveTrack(c.id, m.parent_id, index + i) for i, c in enumerate(children)]
    for t in walk(project.top_tracks):
        if isinstance(t, AudioTrack):
            ops += [RemoveAlias(a.id) for a in t.aliases if a.metatrack_id == m.id]
    ops.append(RemoveTrack(m.id))
    project.apply(Batch(f"ungroup {m.name!r}", ops))
    return children
