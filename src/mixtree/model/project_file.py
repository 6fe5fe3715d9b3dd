"""Project files: a project as a JSON document, media referenced relative to the file."""

from __future__ import annotations

import json
import math
import os
import shutil
import warnings
from pathlib import Path
from typing import Any

import msgpack

from mixtree.effects.base import Effect
from mixtree.errors import MediaError, ProjectFileError
from mixtree.io.audio_file import MediaWarning
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
from mixtree.model.pool import decode_source, offline_source
from mixtree.model.project import Project
from mixtree.model.structure import check
from mixtree.model.tempo import check_bpm, check_meter
from mixtree.model.tracks import AudioTrack, BusTrack, Metatrack, MidiTrack, Send, Track

#: The document format this version writes, and the newest it reads.
FORMAT = "mixtree-project"
VERSION = 2

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


#: Project file formats by extension: both hold the same document.
EXTENSIONS = {".json": "json", ".mtp": "msgpack", ".msgpack": "msgpack"}


def _format(path: Path) -> str:
    try:
        return EXTENSIONS[path.suffix.lower()]
    except KeyError:
        raise ValueError(f"project files end in {', '.join(EXTENSIONS)}, not {path.name!r}") from None


def encode(doc: dict[str, Any], kind: str) -> bytes:
    """Return ``doc`` as JSON (stable key order, indented) or MessagePack bytes."""
    if kind == "json":
        return (json.dumps(doc, indent=2, sort_keys=True, allow_nan=False) + "\n").encode()
    return msgpack.packb(doc, use_bin_type=True)


def decode(data: bytes, kind: str) -> Any:
    """Return the document in ``data``; raise ``ValueError`` describing what is wrong."""
    if kind == "json":
        try:
            return json.loads(data.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise _Located("", f"not UTF-8 text: {exc.reason}") from exc
        except json.JSONDecodeError as exc:
            raise _Located(f"line {exc.lineno}", f"not valid JSON: {exc.msg}") from exc
    try:
        return msgpack.unpackb(data, raw=False, strict_map_key=False)
    except (msgpack.UnpackException, ValueError, TypeError) as exc:
        raise _Located("", f"not valid MessagePack: {exc}") from exc


def write_atomically(path: Path, data: bytes, backup: bool = True) -> None:
    """Write ``data`` to ``path`` so that a crash or a full disk leaves the old file whole.

    The bytes go to a temporary file in the same folder, are flushed to disk, and only
    then replace ``path`` by a rename; with ``backup``, the previous file is kept as
    ``path`` + ``.bak``.
    """
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with tmp.open("wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if backup and path.exists():
            shutil.copy2(path, path.with_name(path.name + ".bak"))
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    try:  # make the rename itself durable
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:  # pragma: no cover - some filesystems cannot fsync a folder
        pass


def autosave_path(path: str | Path) -> Path:
    """Return where the autosave of the project file ``path`` lives (beside it, hidden)."""
    path = Path(path)
    return path.with_name(f".{path.name}.autosave")


def save(project: Project, path: str | Path, *, autosave: bool = False) -> Path:
    """Write ``project`` to ``path``: JSON or MessagePack by extension, atomically, the
    previous version kept as ``.bak``. With ``autosave``, to the hidden autosave beside
    ``path`` instead (no backup)."""
    path = Path(path).expanduser().resolve()
    kind = _format(path)
    data = encode(to_document(project, path.parent), kind)
    target = autosave_path(path) if autosave else path
    write_atomically(target, data, backup=not autosave)
    if not autosave:
        project.path = path  # type: ignore[attr-defined]
        project.media_dir = path.parent / "media"  # type: ignore[attr-defined]
        project.saved_version = project.version  # type: ignore[attr-defined]
        autosave_path(path).unlink(missing_ok=True)
    return target


def newer_autosave(path: str | Path) -> Path | None:
    """Return the autosave of ``path`` if one exists and is newer than the file."""
    path = Path(path)
    auto = autosave_path(path)
    if auto.exists() and (not path.exists() or auto.stat().st_mtime > path.stat().st_mtime):
        return auto
    return None


def load(path: str | Path, recover: bool = False) -> Project:
    """Read a project file written by `save`, migrating older format versions.

    With ``recover``, a newer autosave beside the file is read instead. Missing or
    changed media open as silent offline sources, with one `MediaWarning` naming them
    all. Anything else wrong raises `ProjectFileError` naming the file, the place in the
    document and the problem; nothing that is already open changes.
    """
    path = Path(path).expanduser().resolve()
    source = newer_autosave(path) if recover else None
    source = source or path
    try:
        kind = _format(path)
        data = source.read_bytes()
    except FileNotFoundError:
        raise ProjectFileError(source, "", "no such file") from None
    except (OSError, ValueError) as exc:
        raise ProjectFileError(source, "", str(exc)) from exc
    try:
        doc = migrate(decode(data, kind))
        project = _from_document(doc, path)
    except _Located as exc:
        raise ProjectFileError(source, exc.where, str(exc)) from exc
    except RecursionError as exc:
        raise ProjectFileError(source, "", "the document nests too deeply") from exc
    except Exception as exc:  # a malformed document must never escape as anything else
        raise ProjectFileError(source, "", f"{type(exc).__name__}: {exc}") from exc
    project._history.clear()
    project.version = 0
    project.path = path  # type: ignore[attr-defined]
    project.media_dir = path.parent / "media"  # type: ignore[attr-defined]
    project.saved_version = 0 if source == path else -1  # type: ignore[attr-defined]
    return project


def _migrate_1(doc: dict[str, Any]) -> dict[str, Any]:
    # format 1 (the first release) had flat audio tracks and no tempo map, nesting limit,
    # sends, effects or MIDI: give it the defaults format 2 writes.
    doc.setdefault("max_nesting", 10)
    doc.setdefault("tempo", [[0.0, 120.0]])
    doc.setdefault("meters", [[0, 4, 4]])
    return doc


#: One migration per format bump: MIGRATIONS[n] turns a format-n document into n + 1.
MIGRATIONS = {1: _migrate_1}


def migrate(doc: Any) -> dict[str, Any]:
    """Bring a document of any older format up to `VERSION`; refuse newer ones."""
    if _field(doc, "format", "") != FORMAT:
        raise _Located("format", f"not a mixtree project (format {doc.get('format')!r})")
    version = _field(doc, "version", "")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise _Located("version", f"bad format version {version!r}")
    if version > VERSION:
        raise _Located(
            "version", f"written by a newer mixtree (format {version}; this one reads up to {VERSION}): upgrade mixtree"
        )
    while version < VERSION:
        doc = MIGRATIONS[version](doc)
        version += 1
        doc["version"] = version
    return doc


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


def _from_document(doc: dict[str, Any], path: Path) -> Project:
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
    missing = []
    for i, s in enumerate(_list(doc, "sources", "")):
        where = f"sources[{i}]"
        ident = _id(s, where, project)
        rel = _field(s, "path", where)
        if not isinstance(rel, str):
            raise _Located(f"{where}.path", f"expected a path, not {rel!r}")
        media = (path.parent / rel).resolve()
        try:
            source = decode_source(ident, media, project.sample_rate)
            if s.get("sha256") not in (None, source.sha256):
                raise MediaError(media, "its content changed since the project was saved")
        except MediaError as exc:
            frames, channels = s.get("frames", 0), s.get("channels", 2)
            if not isinstance(frames, int) or not 0 <= frames < 2**40 or channels not in (1, 2):
                raise _Located(where, f"offline and without a valid length ({frames!r} frames)") from exc
            source = offline_source(ident, media, project.sample_rate, frames, channels, exc.reason)
            missing.append(f"{rel} ({exc.reason})")
        project.pool._add(source)
        sources[ident] = source
    if missing:
        warnings.warn(
            f"'{path}': offline media, silent until relinked: {'; '.join(missing)}", MediaWarning, stacklevel=3
        )
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
    if isinstance(next_id, bool) or not isinstance(next_id, int) or next_id <= used:
        raise _Located("next_id", f"must be an id above every id used ({used}), not {next_id!r}")
    project._next_id = next_id
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
