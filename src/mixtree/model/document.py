"""The project document: a project as plain data ready for JSON or MessagePack, and back.

Reading checks every value exactly as the API does and names the place of any problem
(`DocumentError`, ``where`` like ``tracks[0].clips[2].start``). A malformed document
raises nothing else; anything else escaping is a bug.
"""

from __future__ import annotations

import math
import os
import reprlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mixtree.effects.base import Effect
from mixtree.effects.offline import OfflineEffect
from mixtree.errors import MediaError, PluginError
from mixtree.io.audio_file import MAX_DECODED_BYTES
from mixtree.model.automation import AutomationLane, spec_for
from mixtree.model.clip import AliasClip, Clip
from mixtree.model.midi import MidiClip, MidiEvent, MidiNote
from mixtree.model.operations import (
    AddAlias,
    AddClip,
    AddEffect,
    AddLane,
    AddMidiClip,
    AddSend,
    SetFrozen,
    SetProjectAttribute,
    SetTrackTempoMap,
)
from mixtree.model.pool import DEFAULT_BUDGET, Source, offline_source
from mixtree.model.project import Project
from mixtree.model.registry import MAX_ID
from mixtree.model.structure import check
from mixtree.model.tempo import TempoMap
from mixtree.model.tracks import AudioTrack, BusTrack, MasterTrack, Metatrack, MidiTrack, Send, Track

#: The document format this version writes, and the newest it reads (older ones migrate).
FORMAT = "mixtree-project"
VERSION = 3

#: The deepest nesting of tracks a document may hold (`Project.max_nesting` is at most this).
MAX_DEPTH = 64


class DocumentError(ValueError):
    """A document is malformed at ``where``; the message says how."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(reason)
        self.where = where


_KINDS: dict[str, type[Track]] = {
    "audio": AudioTrack,
    "metatrack": Metatrack,
    "bus": BusTrack,
    "midi": MidiTrack,
}

_CALLED = {"audio": "an audio track", "metatrack": "a metatrack", "bus": "a bus", "midi": "a MIDI track"}

# Fields whose -inf (a closed fader, a silent send or clip) is stored as null: JSON has no -inf.
_MINUS_INF = {"volume_db", "gain_db", "level_db"}


# -- writing ---------------------------------------------------------------------------
def _kind(track: Track) -> str:
    for name, cls in _KINDS.items():
        if type(track) is cls:
            return name
    return "master"


def _finite(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: (None if isinstance(v, float) and math.isinf(v) else v) for k, v in fields.items()}


def lanes_document(lanes: dict[str, AutomationLane]) -> dict[str, Any]:
    """Return an owner's automation lanes as plain data, by parameter (empty: none)."""
    return {
        name: {
            "id": lane.id,
            "mode": lane.mode,
            "time_base": lane.time_base,
            "points": [list(p) for p in lane.points],
        }
        for name, lane in lanes.items()
    }


def _with_lanes(doc: dict[str, Any], lanes: dict[str, AutomationLane]) -> dict[str, Any]:
    if lanes:
        doc["automation"] = lanes_document(lanes)
    return doc


def track_document(t: Track, base: Path) -> dict[str, Any]:
    """Return one track (a metatrack with its subtree) as plain data."""
    doc: dict[str, Any] = {"id": t.id, "kind": _kind(t), **_finite(t.edited_fields())}
    _with_lanes(doc, t.lanes)
    doc["effects"] = [_with_lanes({"id": e.id, **e.get_state()}, e.lanes) for e in t.effects]
    doc["sends"] = [_with_lanes({"id": s.id, "bus": s.bus_id, **_finite(s.edited_fields())}, s.lanes) for s in t.sends]
    if isinstance(t, AudioTrack):
        doc["clips"] = [{"id": c.id, "source": c.source.id, **_finite(c.edited_fields())} for c in t.clips]
        doc["aliases"] = [{"id": a.id, "metatrack": a.metatrack_id, **a.edited_fields()} for a in t.aliases]
    if isinstance(t, MidiTrack):
        doc["instrument"] = _with_lanes({"id": t.instrument.id, **t.instrument.get_state()}, t.instrument.lanes)
        doc["midi_clips"] = [
            {
                "id": c.id,
                **c.edited_fields(),
                "notes": [[n.pitch, n.velocity, n.start, n.duration] for n in c.notes],
                "events": [[e.time, e.kind, e.value, e.number] for e in c.events],
            }
            for c in t.midi_clips
        ]
    if isinstance(t, Metatrack):
        doc["children"] = [track_document(c, base) for c in t.children]
        doc["frozen"] = t.frozen.id if t.frozen is not None else None
        if t.tempo_map is not None:
            doc["tempo_map"] = tempo_document(t.tempo_map)
    return doc


def source_document(s: Source, base: Path) -> dict[str, Any]:
    """Return one pool source as plain data, its path relative to ``base``."""
    doc = {
        "id": s.id,
        "path": Path(os.path.relpath(s.path, base)).as_posix(),
        "sha256": s.sha256,
        "frames": s.frames,
        "channels": s.channels,
    }
    if s.rendered:
        doc["rendered"] = True
    return doc


def tempo_document(tm: TempoMap) -> dict[str, Any]:
    """Return a tempo map as plain data: changes as [beat, bpm] (or [beat, bpm, "ramp"])."""
    return {
        "tempo": [[c.beat, c.bpm, "ramp"] if c.ramp else [c.beat, c.bpm] for c in tm.tempos],
        "meters": [[m.bar, m.numerator, m.denominator] for m in tm.meters],
    }


def to_document(project: Project, base: Path) -> dict[str, Any]:
    """Return ``project`` as plain data, media paths relative to the folder ``base``."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "sample_rate": project.sample_rate,
        "max_nesting": project.max_nesting,
        # written only when set, so projects at the default open in older versions
        **({"pool_budget": project.pool.budget} if project.pool.budget != DEFAULT_BUDGET else {}),
        **tempo_document(project.tempo_map),
        "next_id": project.registry.next_id,
        "sources": [source_document(s, base) for s in project.pool],
        "master": track_document(project.master, base),
        "tracks": [track_document(t, base) for t in project.top_tracks],
    }


# -- reading ---------------------------------------------------------------------------
_COMMON = {"id", "kind", "effects", "sends", "automation"}
_FIELDS: dict[type[Track], set[str]] = {
    MasterTrack: _COMMON | set(MasterTrack.edited_names()),
    AudioTrack: _COMMON | set(AudioTrack.edited_names()) | {"clips", "aliases"},
    MidiTrack: _COMMON | set(MidiTrack.edited_names()) | {"instrument", "midi_clips"},
    BusTrack: _COMMON | set(BusTrack.edited_names()),
    Metatrack: _COMMON | set(Metatrack.edited_names()) | {"children", "frozen", "tempo_map"},
}
_TOP = {
    "format",
    "version",
    "sample_rate",
    "max_nesting",
    "pool_budget",
    "tempo",
    "meters",
    "next_id",
    "sources",
    "master",
    "tracks",
}
_SOURCE = {"id", "path", "sha256", "frames", "channels", "rendered"}
_CLIP = {"id", "source", *Clip.edited_names()}
_ALIAS = {"id", "metatrack", *AliasClip.edited_names()}
_SEND = {"id", "bus", "automation", *Send.edited_names()}
_MIDI_CLIP = {"id", "notes", "events", *MidiClip.edited_names()}
_EFFECT = {"id", "type", "parameters", "bypass", "automation"}
_PLUGIN = _EFFECT | {"format", "uri", "path", "name", "version", "state", "sandbox"}
_LANE = {"id", "mode", "time_base", "points"}


@dataclass
class Loaded:
    """A project read from a document, with what could only be opened offline."""

    project: Project
    #: Media that could not be read, each "path (reason)": their sources are silent.
    offline_media: list[str] = field(default_factory=list)
    #: Effects of unknown types, each "place 'type' on 'track'": they pass audio through.
    offline_effects: list[str] = field(default_factory=list)


def from_document(doc: dict[str, Any], folder: Path) -> Loaded:
    """Return the project ``doc`` (a migrated document) describes, media relative to ``folder``.

    Raises `DocumentError` naming the place of the first problem.
    """
    return _Reader(doc, folder).read()


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise DocumentError(where, f"expected an object, not {_show(value)}")
    return value


def _get(obj: dict[str, Any], key: str, where: str) -> Any:
    if key not in obj:
        raise DocumentError(where, f"missing field {key!r}")
    return obj[key]


def _list(obj: dict[str, Any], key: str, where: str) -> list[Any]:
    value = obj.get(key, [])
    if not isinstance(value, list):
        raise DocumentError(f"{where}.{key}" if where else key, f"expected a list, not {_show(value)}")
    return value


def _only(obj: dict[str, Any], allowed: set[str], where: str, what: str) -> None:
    unknown = sorted(str(k) for k in obj if k not in allowed)
    if unknown:
        raise DocumentError(where, f"{what} has no field {unknown[0]!r}")


def _whole(value: Any, where: str, what: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise DocumentError(where, f"{what} must be a whole number in {low}..{high}, not {_show(value)}")
    return value


def _plain(value: Any, where: str, depth: int = 0) -> None:
    # plain data a project file can hold: objects with string keys, lists, strings,
    # finite numbers, booleans and null, nested at most MAX_DEPTH deep
    if depth > MAX_DEPTH:
        raise DocumentError(where, f"nests deeper than {MAX_DEPTH} levels")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise DocumentError(where, f"keys are strings, not {_show(key)}")
            _plain(item, _at(where, key), depth + 1)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _plain(item, _at(where, i), depth + 1)
    elif isinstance(value, float) and not math.isfinite(value):
        raise DocumentError(where, f"expected a finite number, not {value!r}")
    elif value is not None and not isinstance(value, str | int | float):
        raise DocumentError(where, f"expected plain data, not {_show(value)}")


def _names(ident: Any, table: dict[int, Any]) -> bool:
    # an id read from a file names an entry of ``table`` (it may be of any type at all)
    return isinstance(ident, int) and not isinstance(ident, bool) and ident in table


def _show(value: Any) -> str:
    return reprlib.repr(value)  # short and shallow, whatever the file holds


def _at(where: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{where}[{key}]"
    return f"{where}.{key}" if where else key


class _Reader:
    """Reads one document into a new project, remembering where it is for every error."""

    project: Project  # made by `read`, once the sample rate is known good
    loaded: Loaded

    def __init__(self, doc: dict[str, Any], folder: Path) -> None:
        self.doc = doc
        self.folder = folder
        self.sources: dict[int, Source] = {}
        self.seen: set[int] = set()
        self.links: list[tuple[str, str, Track, Any]] = []  # sends and aliases, made last

    def read(self) -> Loaded:
        doc = _object(self.doc, "")
        _only(doc, _TOP, "", "a project")
        try:
            project = Project(sample_rate=_get(doc, "sample_rate", ""))
        except ValueError as exc:
            raise DocumentError("sample_rate", str(exc)) from exc
        self.project = project
        self.loaded = Loaded(project)
        nesting = doc.get("max_nesting", project.max_nesting)
        SetProjectAttribute("max_nesting", _whole(nesting, "max_nesting", "max_nesting", 1, MAX_DEPTH)).apply(project)
        budget = _whole(doc.get("pool_budget", DEFAULT_BUDGET), "pool_budget", "the pool budget (bytes)", 0, 2**62)
        SetProjectAttribute("pool_budget", budget).apply(project)
        own = self._tempo_map(doc, "")
        self.project.tempo_map.tempos, self.project.tempo_map.meters = own.tempos, own.meters
        self.project.tempo_map._rebuild()
        for i, s in enumerate(_list(doc, "sources", "")):
            self._source(_object(s, f"sources[{i}]"), f"sources[{i}]")
        master = _object(_get(doc, "master", ""), "master")
        self._master(master)
        for i, t in enumerate(_list(doc, "tracks", "")):
            self._track(_object(t, f"tracks[{i}]"), f"tracks[{i}]", None, 1)
        for kind, where, track, item in self.links:
            self._link(kind, track, item, where)
        try:
            check(project)
        except ValueError as exc:
            raise DocumentError("tracks", str(exc)) from exc
        used = max([project.registry.next_id - 1, *project.registry.records, *project.registry.effects, *self.sources])
        project.registry.next_id = _whole(_get(doc, "next_id", ""), "next_id", "next_id", used + 1, MAX_ID + 1)
        return self.loaded

    def _tempo_map(self, doc: dict[str, Any], where: str) -> TempoMap:
        """Return the tempo map ``doc`` holds (its ``tempo`` and ``meters``), detached."""
        tm = TempoMap()
        for i, change in enumerate(_list(doc, "tempo", where)):
            here = _at(where, f"tempo[{i}]")
            ramped = isinstance(change, list) and len(change) == 3 and change[2] == "ramp"
            if not isinstance(change, list) or not (len(change) == 2 or ramped):
                raise DocumentError(here, f'a tempo change is [beat, bpm] or [beat, bpm, "ramp"], not {_show(change)}')
            try:
                tm.set_tempo(change[0], change[1], ramped)
            except ValueError as exc:
                raise DocumentError(here, str(exc)) from exc
        for i, change in enumerate(_list(doc, "meters", where)):
            here = _at(where, f"meters[{i}]")
            if not isinstance(change, list) or len(change) != 3:
                raise DocumentError(here, f"a meter change is [bar, numerator, denominator], not {_show(change)}")
            try:
                tm.set_meter(change[0], change[1], change[2])
            except ValueError as exc:
                raise DocumentError(here, str(exc)) from exc
        return tm

    def _id(self, obj: dict[str, Any], where: str) -> int:
        ident = _whole(_get(obj, "id", where), _at(where, "id"), "an id", 1, MAX_ID)
        if ident in self.seen or ident == self.project.master.id:
            raise DocumentError(_at(where, "id"), f"id {ident} is used twice")
        self.seen.add(ident)
        return ident

    def _source(self, s: dict[str, Any], where: str) -> None:
        _only(s, _SOURCE, where, "a source")
        ident = self._id(s, where)
        rel = _get(s, "path", where)
        if not isinstance(rel, str) or not rel:
            raise DocumentError(_at(where, "path"), f"expected a path, not {_show(rel)}")
        sha = s.get("sha256")
        if sha is not None and not isinstance(sha, str):
            raise DocumentError(_at(where, "sha256"), f"expected a hex digest, not {_show(sha)}")
        rendered = s.get("rendered", False)
        if not isinstance(rendered, bool):
            raise DocumentError(_at(where, "rendered"), f"expected true or false, not {_show(rendered)}")
        try:
            media = (self.folder / rel).resolve()
        except (OSError, ValueError) as exc:  # a NUL byte, a loop of links
            raise DocumentError(_at(where, "path"), f"not a usable path: {exc}") from exc
        rate = self.project.sample_rate
        try:
            source = self.project.pool.open_source(ident, media)
            if sha not in (None, source.sha256):
                raise MediaError(media, "its content changed since the project was saved")
        except MediaError as exc:
            channels = _whole(s.get("channels", 2), _at(where, "channels"), "channels", 1, 2)
            longest = MAX_DECODED_BYTES // (4 * channels)  # its silence is held like decoded audio
            frames = _whole(s.get("frames", 0), _at(where, "frames"), "an offline source's length", 0, longest)
            source = offline_source(ident, media, rate, frames, channels, exc.reason)
            self.loaded.offline_media.append(f"{rel} ({exc.reason})")
        source.rendered = rendered
        self.project.pool._add(source)
        self.sources[ident] = source

    def _master(self, doc: dict[str, Any]) -> None:
        master = self.project.master
        _only(doc, _FIELDS[MasterTrack], "master", "the master")
        if doc.get("kind", "master") != "master":
            raise DocumentError("master.kind", f"the master's kind is 'master', not {_show(doc['kind'])}")
        if doc.get("id", master.id) != master.id:
            raise DocumentError("master.id", f"the master's id is {master.id}, not {_show(doc['id'])}")
        if _list(doc, "sends", "master"):
            raise DocumentError("master.sends", "the master sends nowhere: it is the mix every track ends in")
        self._fields(master, doc, "master")
        self._effects(master, doc, "master")
        self._lanes(master, doc, "master")

    def _track(self, doc: dict[str, Any], where: str, parent_id: int | None, depth: int) -> None:
        kind = _get(doc, "kind", where)
        if not isinstance(kind, str) or kind not in _KINDS:
            raise DocumentError(_at(where, "kind"), f"unknown track kind {_show(kind)}")
        cls = _KINDS[kind]
        _only(doc, _FIELDS[cls], where, _CALLED[kind])
        ident = self._id(doc, where)
        name = _get(doc, "name", where)
        instrument = None
        if cls is MidiTrack:
            iw = _at(where, "instrument")
            instrument = self._processor(_object(_get(doc, "instrument", where), iw), iw, doc, instrument=True)
        try:
            track = MidiTrack(ident, None, name, instrument) if cls is MidiTrack else cls(ident, None, name)
        except ValueError as exc:
            raise DocumentError(_at(where, "name"), str(exc)) from exc
        self._fields(track, doc, where)
        self.project.registry.insert_track(track, None, parent_id)
        self._effects(track, doc, where)
        self._lanes(track, doc, where)
        self.links += [("send", f"{where}.sends[{k}]", track, s) for k, s in enumerate(_list(doc, "sends", where))]
        if isinstance(track, AudioTrack):
            for j, c in enumerate(_list(doc, "clips", where)):
                self._clip(track, _object(c, f"{where}.clips[{j}]"), f"{where}.clips[{j}]")
            aliases = _list(doc, "aliases", where)
            self.links += [("alias", f"{where}.aliases[{k}]", track, a) for k, a in enumerate(aliases)]
        if isinstance(track, MidiTrack):
            if not track.instrument.offline:  # an offline instrument keeps its lanes in its saved state
                self._lanes(track.instrument, doc["instrument"], _at(where, "instrument"))
            for j, c in enumerate(_list(doc, "midi_clips", where)):
                self._midi_clip(track, _object(c, f"{where}.midi_clips[{j}]"), f"{where}.midi_clips[{j}]")
        if isinstance(track, Metatrack):
            children = _list(doc, "children", where)
            if children and depth >= MAX_DEPTH:
                raise DocumentError(_at(where, "children"), f"tracks nest deeper than {MAX_DEPTH} levels")
            for j, child in enumerate(children):
                self._track(_object(child, f"{where}.children[{j}]"), f"{where}.children[{j}]", track.id, depth + 1)
            frozen = doc.get("frozen")
            if frozen is not None:
                if not _names(frozen, self.sources):
                    raise DocumentError(_at(where, "frozen"), f"no source with id {_show(frozen)}")
                SetFrozen(track.id, self.sources[frozen]).apply(self.project)
            if doc.get("tempo_map") is not None:
                tempo = _object(doc["tempo_map"], _at(where, "tempo_map"))
                _only(tempo, {"tempo", "meters"}, _at(where, "tempo_map"), "a tempo map")
                own = self._tempo_map(tempo, _at(where, "tempo_map"))
                SetTrackTempoMap(track.id, own).apply(self.project)

    def _fields(self, record: Any, doc: dict[str, Any], where: str) -> None:
        for name in record.edited_names():
            if name in doc:
                value = doc[name]
                if value is None and name in _MINUS_INF:
                    value = -math.inf
                try:
                    setattr(record, name, value)
                except ValueError as exc:
                    raise DocumentError(_at(where, name), str(exc)) from exc

    def _values(self, doc: dict[str, Any], allowed: set[str], where: str, what: str) -> dict[str, Any]:
        # the edited fields of a clip, alias or send, as keyword arguments
        _only(doc, allowed, where, what)
        return {
            k: (-math.inf if v is None and k in _MINUS_INF else v)
            for k, v in doc.items()
            if k not in ("id", "source", "metatrack", "bus", "notes", "events", "automation")
        }

    def _clip(self, track: AudioTrack, c: dict[str, Any], where: str) -> None:
        ident = self._id(c, where)
        src = _get(c, "source", where)
        if not _names(src, self.sources):
            raise DocumentError(_at(where, "source"), f"no source with id {_show(src)}")
        values = self._values(c, _CLIP, where, "a clip")
        for key in ("start", "duration"):
            _get(c, key, where)
        try:
            clip = Clip(ident, None, self.sources[src], **values)
        except ValueError as exc:
            raise DocumentError(where, str(exc)) from exc
        AddClip(track.id, clip).apply(self.project)

    def _midi_clip(self, track: MidiTrack, c: dict[str, Any], where: str) -> None:
        ident = self._id(c, where)
        values = self._values(c, _MIDI_CLIP, where, "a MIDI clip")
        try:
            clip = MidiClip(ident, None, _get(c, "start", where), _get(c, "duration", where), values.get("offset", 0.0))
        except ValueError as exc:
            raise DocumentError(where, str(exc)) from exc
        for k, n in enumerate(_list(c, "notes", where)):
            if not isinstance(n, list) or len(n) != 4:
                what = "a note is [pitch, velocity, start, duration]"
                raise DocumentError(f"{where}.notes[{k}]", f"{what}, not {_show(n)}")
            try:
                clip.notes.append(MidiNote(*n))
            except ValueError as exc:
                raise DocumentError(f"{where}.notes[{k}]", str(exc)) from exc
        for k, e in enumerate(_list(c, "events", where)):
            if not isinstance(e, list) or len(e) not in (3, 4):
                raise DocumentError(f"{where}.events[{k}]", f"an event is [time, kind, value, number], not {_show(e)}")
            try:
                clip.events.append(MidiEvent(*e))
            except ValueError as exc:
                raise DocumentError(f"{where}.events[{k}]", str(exc)) from exc
        AddMidiClip(track.id, clip).apply(self.project)

    def _effects(self, track: Track, doc: dict[str, Any], where: str) -> None:
        for k, state in enumerate(_list(doc, "effects", where)):
            ew = f"{where}.effects[{k}]"
            effect = self._processor(_object(state, ew), ew, doc)
            AddEffect(track.id, effect).apply(self.project)
            if not effect.offline:  # an offline effect keeps its lanes in its saved state
                self._lanes(effect, state, ew)

    def _processor(self, state: dict[str, Any], where: str, track: dict[str, Any], instrument: bool = False) -> Effect:
        # An effect (or instrument) from its saved state; an unknown type opens offline.
        ident = self._id(state, where)
        kind = _get(state, "type", where)
        if not isinstance(kind, str):
            raise DocumentError(_at(where, "type"), f"expected an effect type name, not {_show(kind)}")
        if Effect.known_type(kind):
            _only(state, _PLUGIN if kind == "plugin" else _EFFECT, where, f"a {kind!r} effect")
            try:
                effect = Effect.from_state(state)
            except PluginError as exc:  # not installed here: kept as it was saved
                _plain(state, where)
                effect = OfflineEffect(state, instrument=instrument, reason=str(exc))
                effect.id = ident
                self.loaded.offline_effects.append(f"{where} {exc} on {track.get('name', '?')!r}")
                return effect
            except ValueError as exc:
                raise DocumentError(where, str(exc)) from exc
            if instrument != bool(getattr(effect, "is_instrument", False)):
                what = "an instrument" if instrument else "an effect"
                raise DocumentError(_at(where, "type"), f"{kind!r} is not {what}")
        else:
            _plain(state, where)  # kept as it is and written back: it must be what a file can hold
            effect = OfflineEffect(state, instrument=instrument)
            name = track.get("name", "?")
            self.loaded.offline_effects.append(f"{where} {kind!r} on {name!r}")
        effect.id = ident
        return effect

    def _link(self, kind: str, track: Track, doc: Any, where: str) -> None:
        doc = _object(doc, where)
        ident = self._id(doc, where)
        try:
            if kind == "send":
                bus = self._target(doc, "bus", BusTrack, where, "bus")
                values = self._values(doc, _SEND, where, "a send")
                send = Send(ident, track.id, bus, **values)
                op: AddSend | AddAlias = AddSend(send)
            else:
                target = self._target(doc, "metatrack", Metatrack, where, "metatrack")
                values = self._values(doc, _ALIAS, where, "an alias")
                start, duration = _get(doc, "start", where), _get(doc, "duration", where)
                op = AddAlias(track.id, AliasClip(ident, target, start, duration, values.get("offset", 0.0)))
            op.apply(self.project)
        except DocumentError:
            raise
        except ValueError as exc:
            raise DocumentError(where, str(exc)) from exc
        if kind == "send":
            self._lanes(send, doc, where)

    def _lanes(self, owner: Track | Send | Effect, doc: dict[str, Any], where: str) -> None:
        lanes = doc.get("automation", {})
        if not isinstance(lanes, dict):
            raise DocumentError(_at(where, "automation"), f"expected an object, not {_show(lanes)}")
        for name, lane_doc in lanes.items():
            lw = f"{_at(where, 'automation')}.{name}"
            lane_doc = _object(lane_doc, lw)
            _only(lane_doc, _LANE, lw, "a lane")
            ident = self._id(lane_doc, lw)
            points = _list(lane_doc, "points", lw)
            try:
                spec, label = spec_for(self.project, owner, str(name))
                lane = AutomationLane(
                    ident, owner.id, str(name), spec, label, (), lane_doc.get("mode", "read"),  # type: ignore[arg-type]
                    lane_doc.get("time_base", "seconds"),
                )  # fmt: skip
                lane._points = lane.checked(points)
                AddLane(lane).apply(self.project)
            except ValueError as exc:
                raise DocumentError(lw, str(exc)) from exc

    def _target(self, doc: dict[str, Any], key: str, kind: type[Track], where: str, what: str) -> int:
        # the id of a track of ``kind`` that ``doc[key]`` names
        ident = _get(doc, key, where)
        records = self.project.registry.records
        if not _names(ident, records) or not isinstance(records[ident], kind):
            raise DocumentError(_at(where, key), f"no {what} with id {_show(ident)}")
        return ident
