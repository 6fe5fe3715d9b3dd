"""Project files: a project as a JSON document, media referenced relative to the file."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

from mixtree.effects.base import Effect
from mixtree.errors import MediaError, ProjectFileError
from mixtree.model.clip import AliasClip, Clip
from mixtree.model.midi import MidiClip, MidiEvent, MidiNote
from mixtree.model.operations import (
    AddAlias,
    AddClip,
    AddEffect,
    AddMidiClip,
    AddSend,
    SetFrozen,
    SetMeter,
    SetTempo,
)
from mixtree.model.pool import decode_source
from mixtree.model.project import Project
from mixtree.model.structure import check
from mixtree.model.tempo import check_bpm, check_meter
from mixtree.model.tracks import AudioTrack, BusTrack, Metatrack, MidiTrack, Send, Track

#: The document format this version writes, and the newest it reads.
FORMAT = "mixtree-project"
VERSION = 1

_KINDS: dict[str, type[Track]] = {
    "audio": AudioTrack,
    "metatrack": Metatrack,
    "bus": BusTrack,
    "midi": MidiTrack,
}


def _kind(track: Track) -> str:
    for name, cls in _KINDS.items():
        if type(track) is cls:
            return name
    return "master"


def track_document(t: Track, base: Path) -> dict[str, Any]:
    """Return one track (a metatrack with its subtree) as a JSON-ready dict."""
    doc: dict[str, Any] = {"id": t.id, "kind": _kind(t), **_finite(t.edited_fields())}
    doc["effects"] = [{"id": e.id, **e.get_state()} for e in t.effects]
    doc["sends"] = [{"id": s.id, "bus": s.bus_id, **_finite(s.edited_fields())} for s in t.sends]
    if isinstance(t, AudioTrack):
        doc["clips"] = [{"id": c.id, "source": c.source.id, **_finite(c.edited_fields())} for c in t.clips]
        doc["aliases"] = [{"id": a.id, "metatrack": a.metatrack_id, **a.edited_fields()} for a in t.aliases]
    if isinstance(t, MidiTrack):
        doc["instrument"] = {"id": t.instrument.id, **t.instrument.get_state()}
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
    return doc


def to_document(project: Project, base: Path) -> dict[str, Any]:
    """Return ``project`` as a JSON-ready dict, source paths relative to ``base``."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "sample_rate": project.sample_rate,
        "max_nesting": project.max_nesting,
        "tempo": [[c.beat, c.bpm] for c in project.tempo_map.tempos],
        "meters": [[m.bar, m.numerator, m.denominator] for m in project.tempo_map.meters],
        "next_id": project._next_id,
        "sources": [
            {
                "id": s.id,
                "path": Path(os.path.relpath(s.path, base)).as_posix(),
                "sha256": s.sha256,
                "frames": s.frames,
                "channels": s.channels,
            }
            for s in project.pool
        ],
        "master": track_document(project.master, base),
        "tracks": [track_document(t, base) for t in project._root],
    }


def _finite(fields: dict[str, Any]) -> dict[str, Any]:
    # JSON has no -inf; a closed fader or a silent send is stored as null.
    return {k: (None if isinstance(v, float) and math.isinf(v) else v) for k, v in fields.items()}


def save(project: Project, path: str | Path) -> Path:
    """Write ``project`` to ``path`` as JSON (atomically: a temporary file, then a rename)."""
    path = Path(path).expanduser().resolve()
    doc = to_document(project, path.parent)
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2, sort_keys=True)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    project.media_dir = path.parent / "media"  # type: ignore[attr-defined]
    return path


def load(path: str | Path) -> Project:
    """Read a project file written by `save`.

    Raises `ProjectFileError` naming the file, the place in the document and the problem;
    a source that cannot be decoded raises `MediaError` naming the media file.
    """
    path = Path(path).expanduser().resolve()
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProjectFileError(path, "", "no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProjectFileError(path, "", str(exc)) from exc
    except json.JSONDecodeError as exc:
        raise ProjectFileError(path, f"line {exc.lineno}", f"not valid JSON: {exc.msg}") from exc
    try:
        project = _from_document(doc, path)
    except (ProjectFileError, MediaError):
        raise
    except _Located as exc:
        raise ProjectFileError(path, exc.where, str(exc)) from exc
    except (KeyError, TypeError, ValueError) as exc:
        reason = f"missing field {exc.args[0]!r}" if isinstance(exc, KeyError) else str(exc)
        raise ProjectFileError(path, "", reason) from exc
    project.media_dir = path.parent / "media"  # type: ignore[attr-defined]
    return project


class _Located(ValueError):
    def __init__(self, where: str, reason: str) -> None:
        super().__init__(reason)
        self.where = where


def _field(obj: Any, key: str, where: str) -> Any:
    if not isinstance(obj, dict):
        raise _Located(where, "expected an object")
    if key not in obj:
        raise _Located(where, f"missing field {key!r}")
    return obj[key]


def _list(obj: dict[str, Any], key: str, where: str) -> list[Any]:
    value = obj.get(key, [])
    if not isinstance(value, list):
        raise _Located(f"{where}.{key}", "expected a list")
    return value


def _from_document(doc: Any, path: Path) -> Project:
    if _field(doc, "format", "") != FORMAT:
        raise _Located("format", f"not a mixtree project (format {doc.get('format')!r})")
    version = _field(doc, "version", "")
    if not isinstance(version, int) or version < 1:
        raise _Located("version", f"bad format version {version!r}")
    if version > VERSION:
        raise _Located("version", f"written by a newer mixtree (format {version}; this one reads up to {VERSION})")
    try:
        project = Project(sample_rate=_field(doc, "sample_rate", ""))
    except ValueError as exc:
        raise _Located("sample_rate", str(exc)) from exc
    nesting = doc.get("max_nesting", project.max_nesting)
    if isinstance(nesting, bool) or not isinstance(nesting, int) or not 1 <= nesting <= 64:
        raise _Located("max_nesting", f"must be a whole number in 1..64, not {nesting!r}")
    project._max_nesting = nesting
    try:
        for beat, bpm in _list(doc, "tempo", ""):
            SetTempo(float(beat), check_bpm(bpm)).apply(project)
        for bar, numerator, denominator in _list(doc, "meters", ""):
            if not isinstance(bar, int) or bar < 0:
                raise ValueError(f"bad bar {bar!r}")
            SetMeter(bar, *check_meter(numerator, denominator)).apply(project)
    except (TypeError, ValueError) as exc:
        raise _Located("tempo", str(exc)) from exc
    sources = {}
    for i, s in enumerate(_list(doc, "sources", "")):
        where = f"sources[{i}]"
        ident = _id(s, where, project)
        media = (path.parent / _field(s, "path", where)).resolve()
        source = decode_source(ident, media, project.sample_rate)
        project.pool._add(source)
        sources[ident] = source
    links: list[tuple[str, Any]] = []  # sends and aliases, added once every track exists
    master = _field(doc, "master", "")
    _set_fields(project.master, master, "master")
    _add_effects(project, project.master, master, "master")
    links += [(f"master.sends[{k}]", (project.master, s)) for k, s in enumerate(_list(master, "sends", "master"))]
    for i, t in enumerate(_list(doc, "tracks", "")):
        links += _add_track(project, t, f"tracks[{i}]", None, sources)
    for where, (track, item) in links:
        _add_link(project, track, item, where)
    try:
        check(project)
    except ValueError as exc:
        raise _Located("tracks", str(exc)) from exc
    next_id = _field(doc, "next_id", "")
    used = max(project._records.keys() | sources.keys() | project._effects.keys())
    if not isinstance(next_id, int) or next_id <= used:
        raise _Located("next_id", f"must be an id above every id used ({used}), not {next_id!r}")
    project._next_id = next_id
    project.version = 0
    return project


def _add_track(
    project: Project, doc: dict[str, Any], where: str, parent_id: int | None, sources: dict[int, Any]
) -> list[tuple[str, Any]]:
    kind = _field(doc, "kind", where)
    if kind not in _KINDS:
        raise _Located(f"{where}.kind", f"unknown track kind {kind!r}")
    if kind == "midi":
        iw = f"{where}.instrument"
        state = _field(doc, "instrument", where)
        ident = _id(state, iw, project)
        try:
            instrument = Effect.from_state(state)
            track: Track = MidiTrack(_id(doc, where, project), None, _field(doc, "name", where), instrument)
        except (TypeError, ValueError, AttributeError) as exc:
            raise _Located(iw, str(exc)) from exc
        instrument.id = ident
    else:
        track = _KINDS[kind](_id(doc, where, project), None, _field(doc, "name", where))
    _set_fields(track, doc, where)
    project._insert_track(track, None, parent_id)
    _add_effects(project, track, doc, where)
    links: list[tuple[str, Any]] = [
        (f"{where}.sends[{k}]", (track, s)) for k, s in enumerate(_list(doc, "sends", where))
    ]
    if isinstance(track, AudioTrack):
        for j, c in enumerate(_list(doc, "clips", where)):
            cw = f"{where}.clips[{j}]"
            src_id = _field(c, "source", cw)
            if src_id not in sources:
                raise _Located(f"{cw}.source", f"no source with id {src_id!r}")
            fields = {k: v for k, v in c.items() if k not in ("id", "source")}
            if "gain_db" in fields and fields["gain_db"] is None:
                fields["gain_db"] = -math.inf
            try:
                clip = Clip(_id(c, cw, project), None, sources[src_id], **fields)
            except (TypeError, ValueError) as exc:
                raise _Located(cw, str(exc)) from exc
            AddClip(track.id, clip).apply(project)
        links += [(f"{where}.aliases[{k}]", (track, a)) for k, a in enumerate(_list(doc, "aliases", where))]
    if isinstance(track, MidiTrack):
        for j, c in enumerate(_list(doc, "midi_clips", where)):
            cw = f"{where}.midi_clips[{j}]"
            try:
                clip = MidiClip(
                    _id(c, cw, project),
                    None,
                    _field(c, "start", cw),
                    _field(c, "duration", cw),
                    c.get("offset", 0.0),
                )
                clip.notes = [MidiNote(*n) for n in _list(c, "notes", cw)]
                clip.events = [MidiEvent(*e) for e in _list(c, "events", cw)]
            except (TypeError, ValueError) as exc:
                if isinstance(exc, _Located):
                    raise
                raise _Located(cw, str(exc)) from exc
            AddMidiClip(track.id, clip).apply(project)
    if isinstance(track, Metatrack):
        for j, child in enumerate(_list(doc, "children", where)):
            links += _add_track(project, child, f"{where}.children[{j}]", track.id, sources)
        frozen = doc.get("frozen")
        if frozen is not None:
            if frozen not in sources:
                raise _Located(f"{where}.frozen", f"no source with id {frozen!r}")
            SetFrozen(track.id, sources[frozen]).apply(project)
    return links


def _add_link(project: Project, track: Track, doc: dict[str, Any], where: str) -> None:
    try:
        if "bus" in doc:
            bus = _field(doc, "bus", where)
            if not isinstance(project._records.get(bus), BusTrack):
                raise _Located(f"{where}.bus", f"no bus with id {bus!r}")
            level = doc.get("level_db", 0.0)
            send = Send(
                _id(doc, where, project),
                track.id,
                bus,
                -math.inf if level is None else level,
                doc.get("pre_fader", False),
            )
            AddSend(send).apply(project)
        else:
            target = _field(doc, "metatrack", where)
            if not isinstance(project._records.get(target), Metatrack):
                raise _Located(f"{where}.metatrack", f"no metatrack with id {target!r}")
            alias = AliasClip(
                _id(doc, where, project),
                target,
                _field(doc, "start", where),
                _field(doc, "duration", where),
                doc.get("offset", 0.0),
            )
            AddAlias(track.id, alias).apply(project)
    except (TypeError, ValueError) as exc:
        if isinstance(exc, _Located):
            raise
        raise _Located(where, str(exc)) from exc


def _add_effects(project: Project, track: Track, doc: dict[str, Any], where: str) -> None:
    for k, state in enumerate(_list(doc, "effects", where)):
        ew = f"{where}.effects[{k}]"
        ident = _id(state, ew, project)
        try:
            effect = Effect.from_state(state)
        except (TypeError, ValueError, AttributeError) as exc:
            raise _Located(ew, str(exc)) from exc
        effect.id = ident
        AddEffect(track.id, effect).apply(project)


def _id(obj: dict[str, Any], where: str, project: Project) -> int:
    ident = _field(obj, "id", where)
    if not isinstance(ident, int) or isinstance(ident, bool) or ident < 1:
        raise _Located(f"{where}.id", f"ids are whole numbers >= 1, not {ident!r}")
    if ident in project._records or ident in project.pool or ident in project._effects:
        raise _Located(f"{where}.id", f"id {ident} is used twice")
    return ident


def _set_fields(record: Track, doc: dict[str, Any], where: str) -> None:
    for name in record.edited_fields():
        if name in doc:
            value = doc[name]
            if name == "volume_db" and value is None:
                value = -math.inf
            try:
                setattr(record, name, value)
            except ValueError as exc:
                raise _Located(f"{where}.{name}", str(exc)) from exc
