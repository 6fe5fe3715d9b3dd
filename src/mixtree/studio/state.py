"""The project as the studio page draws it: one JSON-ready dict (docs/studio.md).

Times are seconds; every track carries its time map to the project's timeline (through
the metatracks above it), so the page places clips and lane points without the model.
Where a speed lane plays, that map is not a line: ``warps`` gives the knots the page
interpolates for the tracks on each warped timeline (`timemaps`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from mixtree.model.midi import MidiClip
from mixtree.model.project import Project
from mixtree.model.structure import ancestors, tempo_map_of
from mixtree.model.tracks import AudioTrack, BusTrack, Metatrack, MidiTrack, Track
from mixtree.studio.timemaps import warped_maps

Message = dict[str, Any]
#: Bars the ruler is given at most.
MAX_BARS = 20000
#: Notes of a MIDI clip the state carries itself; a larger clip's the page fetches
#: (`notes_bytes`, ``GET api/notes/CLIP``) when it comes into view.
INLINE_NOTES = 1000


def project_state(p: Project, peaks_ready: Callable[[int], bool], notice: str = "") -> Message:
    """Return the whole project as the page draws it (times in seconds; docs/studio.md);
    ``peaks_ready(source_id)`` says whether a source's overview can be fetched."""
    with p.lock:
        tracks = [_track(p, t) for t in p.tracks]
        tm = p.tempo_map
        duration = p.duration
        end = max(duration, 1.0) * 1.5 + 10.0  # how far the page may scroll
        bars = []
        bar = 0
        while len(bars) < MAX_BARS:
            at = tm.seconds_at(tm.beat_of_bar(bar))
            if at > end:
                break
            bars.append(round(at, 6))
            bar += 1
        sources = {
            str(s.id): {"name": s.path.name, "rate": _file_rate(s), "offline": s.offline, "peaks": peaks_ready(s.id)}
            for s in p.pool
        }
        return {
            "sample_rate": p.sample_rate,
            "duration": duration,
            "version": p.version,
            "path": str(p.path) if p.path is not None else None,
            "saved": p.saved_version == p.version,
            "history": p.history[-20:],
            "can_undo": bool(p.history),
            "can_redo": bool(p._history.undone),
            "bars": bars,
            "beats_per_bar": _beats_per_bar(p),
            "master": _fader(p.master),
            "tracks": tracks,
            "warps": {str(m): knots for m, knots in warped_maps(p, end).items()},
            "sources": sources,
            "notice": notice,
        }


def _file_rate(source: Any) -> int:
    return int(source.original_rate or source.sample_rate)


def _beats_per_bar(p: Project) -> int:
    return int(p.tempo_map.meters[0].numerator)


def _fader(t: Track) -> Message:
    return {
        "id": t.id,
        "name": t.name,
        "volume_db": t.volume_db if math.isfinite(t.volume_db) else None,
        "pan": t.pan,
        "mute": t.mute,
        "solo": t.solo,
    }


def _time_map(p: Project, track: Track) -> tuple[float, float]:
    """Return (a, b) with project time = a × the track's own time + b at constant speeds
    (where a speed lane plays above it, the page uses the state's ``warps``)."""

    def up(t: float) -> float:
        for m in ancestors(p, track):
            t = m.to_parent_time(t)
        return t

    b = up(0.0)
    return up(1.0) - b, b


def _track(p: Project, t: Track) -> Message:
    kind = (
        "meta"
        if isinstance(t, Metatrack)
        else "midi"
        if isinstance(t, MidiTrack)
        else "bus"
        if isinstance(t, BusTrack)
        else "audio"
    )
    a, b = _time_map(p, t)
    out: Message = {
        **_fader(t),
        "kind": kind,
        "parent": t.parent_id,
        "depth": len(ancestors(p, t)),
        "collapsed": t.collapsed,
        "color": t.color,
        "a": a,
        "b": b,
        "clips": [],
        "midi": [],
        "lanes": [],
    }
    if isinstance(t, AudioTrack):
        out["clips"] = [
            {
                "id": c.id,
                "source": c.source.id,
                "name": c.source.path.name,
                "start": c.start,
                "duration": c.duration,
                "offset": c.offset,
                "speed": c.speed,
                "gain_db": c.gain_db if math.isfinite(c.gain_db) else None,
                "fade_in": c.fade_in,
                "fade_out": c.fade_out,
                "reversed": c.reversed,
                "muted": c.muted,
                "max_duration": (c.source.duration - c.offset) / c.speed,
            }
            for c in t.clips
        ]
    if isinstance(t, MidiTrack):
        out["midi"] = [
            {
                "id": c.id,
                "start": c.start,
                "duration": c.duration,
                "offset": c.offset,
                "notes": len(c.notes),
                "notes_key": notes_key(c),
                **({"inline": _inline(c)} if len(c.notes) <= INLINE_NOTES else {}),
            }
            for c in t.midi_clips
        ]
    if isinstance(t, Metatrack):
        out["meta"] = {"speed": t.speed, "offset": t.offset, "pitch": t.pitch}
    tm = tempo_map_of(p, t)
    # the track's own lanes, then its effects' and its sends' (all on the track's timeline)
    owned = [(name, lane) for name, lane in t.lanes.items()]
    owned += [(f"{type(e).__name__} #{e.id}.{name}", lane) for e in t.effects for name, lane in e.lanes.items()]
    for s in t.sends:
        bus = p.track(s.bus_id).name
        owned += [(f"send to {bus}.{name}", lane) for name, lane in s.lanes.items()]
    for name, lane in owned:
        beats = lane.time_base == "beats"
        out["lanes"].append(
            {
                "id": lane.id,
                "parameter": name,
                "mode": lane.mode,
                "min": lane.spec.min,
                "max": lane.spec.max,
                "points": [[tm.seconds_at(q.time) if beats else q.time, q.value] for q in lane.points],
            }
        )
    return out


def notes_key(clip: MidiClip) -> str:
    """Return what changes whenever ``clip``'s notes do (the page keeps them by it)."""
    return f"{clip.id}.{clip.revision}.{len(clip.notes)}"


def _inline(clip: MidiClip) -> list[list[float]]:
    """Return a small clip's notes as ``[pitch, start, duration, velocity]`` by start."""
    return sorted(([n.pitch, n.start, n.duration, n.velocity] for n in clip.notes), key=lambda n: n[1])


def notes_bytes(clip: MidiClip) -> bytes:
    """Return ``clip``'s notes, sorted by start, as the page reads them: float64 starts,
    float32 durations (s, on the clip's timeline), uint8 pitches, uint8 velocities, each
    a column of ``len(clip.notes)`` values, one after the other."""
    notes = list(clip.notes)
    n = len(notes)
    start = np.fromiter((x.start for x in notes), np.float64, n)
    order = np.argsort(start, kind="stable")
    duration = np.fromiter((x.duration for x in notes), np.float64, n)[order].astype(np.float32)
    pitch = np.fromiter((x.pitch for x in notes), np.uint8, n)[order]
    velocity = np.fromiter((x.velocity for x in notes), np.uint8, n)[order]
    return start[order].tobytes() + duration.tobytes() + pitch.tobytes() + velocity.tobytes()
