"""Write a project as an OpenTimelineIO timeline (``.otio``, or any format an installed adapter writes).

Every track becomes an Audio ``Track`` (a track whose clips overlap spills into more
tracks, marked as its lanes); clips are ``Clip``s with an ``ExternalReference`` and a
source range, separated by ``Gap``s, a varispeed clip carries a ``LinearTimeWarp``. A
metatrack's track holds a leading ``Gap`` (its offset) and a nested ``Stack`` of its
children's tracks with a ``LinearTimeWarp`` (its speed). Everything else (faders,
effects, sends, automation, MIDI, exact times) lives under ``metadata["mixtree"]``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import opentimelineio as otio

from mixtree.errors import SaveError
from mixtree.model.document import lanes_document, tempo_document
from mixtree.model.project import Project
from mixtree.model.tracks import AudioTrack, BusTrack, Metatrack, MidiTrack, Track

KEY = "mixtree"

#: Where in ``metadata["mixtree"]`` the same metadata lies as a JSON string (see `_exact`).
EXACT = "exact"


def _finite(value: Any) -> Any:
    return None if isinstance(value, float) and math.isinf(value) else value


def _range(start: float, duration: float, rate: int) -> otio.opentime.TimeRange:
    return otio.opentime.TimeRange(
        otio.opentime.RationalTime(start * rate, rate), otio.opentime.RationalTime(duration * rate, rate)
    )


def _gap(seconds: float, rate: int) -> otio.schema.Gap:
    return otio.schema.Gap(source_range=_range(0.0, seconds, rate))


def track_metadata(t: Track) -> dict[str, Any]:
    """Return a track's mixer data (fader, effects, sends, automation) as plain data."""
    kind = {AudioTrack: "audio", MidiTrack: "midi", BusTrack: "bus", Metatrack: "metatrack"}.get(type(t), "master")
    meta: dict[str, Any] = {"id": t.id, "kind": kind}
    meta.update({k: _finite(v) for k, v in t.edited_fields().items()})
    meta["effects"] = [{"state": e.get_state(), "lanes": lanes_document(e.lanes)} for e in t.effects]
    meta["sends"] = [
        {"bus": s.bus_id, "level_db": _finite(s.level_db), "pre_fader": s.pre_fader, "lanes": lanes_document(s.lanes)}
        for s in t.sends
    ]
    meta["lanes"] = lanes_document(t.lanes)
    if isinstance(t, MidiTrack):
        meta["instrument"] = {"state": t.instrument.get_state(), "lanes": lanes_document(t.instrument.lanes)}
    if isinstance(t, Metatrack) and t.tempo_map is not None:
        meta["tempo_map"] = tempo_document(t.tempo_map)
    return meta


class _Writer:
    def __init__(self, project: Project) -> None:
        self.project = project
        self.rate = project.sample_rate

    def tracks(self, t: Track) -> list[otio.schema.Track]:
        """Return the OTIO tracks of ``t``: its own, then one per extra lane of overlapping clips."""
        main = otio.schema.Track(name=t.name, kind=otio.schema.TrackKind.Audio)
        main.metadata[KEY] = track_metadata(t)
        if isinstance(t, Metatrack):
            if t.offset > 0.0:
                main.append(_gap(t.offset, self.rate))
            main.append(self.stack(t))
            return [main]
        lanes: list[tuple[otio.schema.Track, list[float]]] = [(main, [0.0])]
        for start, item in sorted(self.items(t), key=lambda pair: pair[0]):
            duration = item.source_range.duration.to_seconds()
            lane = next((lane for lane in lanes if lane[1][0] <= start + 1e-12), None)
            if lane is None:
                extra = otio.schema.Track(name=f"{t.name} (lane {len(lanes) + 1})", kind=otio.schema.TrackKind.Audio)
                extra.metadata[KEY] = {"lane_of": t.id}
                lane = (extra, [0.0])
                lanes.append(lane)
            track, end = lane
            if start > end[0]:
                track.append(_gap(start - end[0], self.rate))
            track.append(item)
            end[0] = max(end[0], start) + duration
        return [lane[0] for lane in lanes]

    def stack(self, m: Metatrack) -> otio.schema.Stack:
        end = self.project.content_end(m)
        skip = -m.offset * m.speed if m.offset < 0.0 else 0.0
        stack = otio.schema.Stack(name=m.name, source_range=_range(skip, max(end - skip, 0.0), self.rate))
        stack.metadata[KEY] = {"timeline_of": m.id}
        if m.speed != 1.0:
            stack.effects.append(otio.schema.LinearTimeWarp(time_scalar=m.speed))
        for child in m.children:
            for track in self.tracks(child):
                stack.append(track)
        return stack

    def items(self, t: Track) -> list[tuple[float, otio.schema.Clip]]:
        out: list[tuple[float, otio.schema.Clip]] = []
        if isinstance(t, AudioTrack):
            for order, c in enumerate(t.clips):
                source = c.source
                ref = otio.schema.ExternalReference(
                    target_url=source.path.as_uri(), available_range=_range(0.0, source.duration, self.rate)
                )
                clip = otio.schema.Clip(name=source.path.stem, media_reference=ref)
                clip.source_range = _range(c.offset, c.duration, self.rate)
                clip.enabled = not c.muted
                if c.speed != 1.0:
                    clip.effects.append(otio.schema.LinearTimeWarp(time_scalar=c.speed))
                clip.metadata[KEY] = {"order": order, **{k: _finite(v) for k, v in c.edited_fields().items()}}
                out.append((c.start, clip))
            for order, a in enumerate(t.aliases):
                clip = otio.schema.Clip(name=f"alias of {self.project.track(a.metatrack_id).name}")
                clip.media_reference = otio.schema.MissingReference()
                clip.source_range = _range(a.offset, a.duration, self.rate)
                clip.metadata[KEY] = {"alias": a.metatrack_id, "order": order, **a.edited_fields()}
                out.append((a.start, clip))
        if isinstance(t, MidiTrack):
            for order, m in enumerate(t.midi_clips):
                clip = otio.schema.Clip(name="MIDI", media_reference=otio.schema.MissingReference())
                clip.source_range = _range(m.offset, m.duration, self.rate)
                clip.metadata[KEY] = {
                    "order": order,
                    **m.edited_fields(),
                    "notes": [[n.pitch, n.velocity, n.start, n.duration] for n in m.notes],
                    "events": [[e.time, e.kind, e.value, e.number] for e in m.events],
                }
                out.append((m.start, clip))
        return out


def to_timeline(project: Project, name: str = "mixtree") -> otio.schema.Timeline:
    """Return ``project`` as an OTIO timeline (see the module)."""
    writer = _Writer(project)
    timeline = otio.schema.Timeline(name=name)
    timeline.metadata[KEY] = {
        "sample_rate": project.sample_rate,
        **tempo_document(project.tempo_map),
        "master": track_metadata(project.master),
    }
    for t in project.top_tracks:
        for track in writer.tracks(t):
            timeline.tracks.append(track)
    for item in [timeline, timeline.tracks, *timeline.find_children()]:
        _exact(item)
    return timeline


def _exact(item: Any) -> None:
    # OpenTimelineIO's JSON reader may read a double one step off (-0.9999999999999999
    # comes back as -1.0): what mixtree wrote goes beside it as a JSON string too, which
    # Python reads back exactly (`otio_read` prefers it)
    meta = item.metadata.get(KEY)
    if meta is not None:
        meta[EXACT] = json.dumps(plain(meta))


def plain(value: Any) -> Any:
    """Return OTIO metadata (AnyDictionary, AnyVector) as plain dicts and lists."""
    if hasattr(value, "items"):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple) or type(value).__name__ == "AnyVector":
        return [plain(v) for v in value]
    return value


def export_otio(project: Project, path: str | Path) -> Path:
    """Write ``project`` to ``path`` as OpenTimelineIO (the adapter chosen by extension,
    ``.otio`` by default); return the file written. Raises `SaveError` naming the file."""
    path = Path(path).expanduser().resolve()
    try:
        otio.adapters.write_to_file(to_timeline(project, path.stem), str(path))
    except (OSError, otio.exceptions.OTIOError) as exc:
        raise SaveError(path, str(exc)) from exc
    return path
