"""Project files: a project as a JSON document, media referenced relative to the file."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

from mixtree.effects.base import Effect
from mixtree.errors import MediaError, ProjectFileError
from mixtree.model.clip import Clip
from mixtree.model.operations import AddClip, AddEffect, AddTrack
from mixtree.model.pool import decode_source
from mixtree.model.project import Project
from mixtree.model.tracks import AudioTrack, Track

#: The document format this version writes, and the newest it reads.
FORMAT = "mixtree-project"
VERSION = 1


def to_document(project: Project, base: Path) -> dict[str, Any]:
    """Return ``project`` as a JSON-ready dict, source paths relative to ``base``."""

    def track_doc(t: Track) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "id": t.id,
            "kind": "audio" if isinstance(t, AudioTrack) else "master",
        }
        doc.update(_finite(t.edited_fields()))
        doc["effects"] = [{"id": e.id, **e.get_state()} for e in t.effects]
        if isinstance(t, AudioTrack):
            doc["clips"] = [
                {"id": c.id, "source": c.source.id, **_finite(c.edited_fields())} for c in t.clips
            ]
        return doc

    return {
        "format": FORMAT,
        "version": VERSION,
        "sample_rate": project.sample_rate,
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
        "master": track_doc(project.master),
        "tracks": [track_doc(t) for t in project.tracks],
    }


def _finite(fields: dict[str, Any]) -> dict[str, Any]:
    # JSON has no -inf; a closed fader is stored as null.
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
        return _from_document(doc, path)
    except ProjectFileError:
        raise
    except MediaError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise ProjectFileError(path, _where(exc), _why(exc)) from exc


def _where(exc: Exception) -> str:
    return exc.where if isinstance(exc, _Located) else ""


def _why(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"missing field {exc.args[0]!r}"
    return str(exc)


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


def _from_document(doc: Any, path: Path) -> Project:
    if _field(doc, "format", "") != FORMAT:
        raise _Located("format", f"not a mixtree project (format {doc.get('format')!r})")
    version = _field(doc, "version", "")
    if not isinstance(version, int) or version < 1:
        raise _Located("version", f"bad format version {version!r}")
    if version > VERSION:
        raise _Located(
            "version",
            f"written by a newer mixtree (format {version}; this one reads up to {VERSION})",
        )
    try:
        project = Project(sample_rate=_field(doc, "sample_rate", ""))
    except ValueError as exc:
        raise _Located("sample_rate", str(exc)) from exc
    sources = {}
    for i, s in enumerate(_field(doc, "sources", "")):
        where = f"sources[{i}]"
        ident = _id(s, where, project)
        media = (path.parent / _field(s, "path", where)).resolve()
        source = decode_source(ident, media, project.sample_rate)
        project.pool._add(source)
        sources[ident] = source
    master = _field(doc, "master", "")
    _set_fields(project.master, master, "master")
    _add_effects(project, project.master, master, "master")
    for i, t in enumerate(_field(doc, "tracks", "")):
        where = f"tracks[{i}]"
        if _field(t, "kind", where) != "audio":
            raise _Located(f"{where}.kind", f"unknown track kind {t['kind']!r}")
        track = AudioTrack(_id(t, where, project), None, _field(t, "name", where))
        _set_fields(track, t, where)
        project.apply(AddTrack(track))
        _add_effects(project, track, t, where)
        for j, c in enumerate(_field(t, "clips", where)):
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
            project.apply(AddClip(track.id, clip))
    next_id = _field(doc, "next_id", "")
    used = max(project._records.keys() | sources.keys() | project._effects.keys())
    if not isinstance(next_id, int) or next_id <= used:
        raise _Located("next_id", f"must be an id above every id used ({used}), not {next_id!r}")
    project._next_id = next_id
    project.version = 0
    return project


def _add_effects(project: Project, track: Track, doc: dict[str, Any], where: str) -> None:
    effects = doc.get("effects", [])
    if not isinstance(effects, list):
        raise _Located(f"{where}.effects", "expected a list")
    for k, state in enumerate(effects):
        ew = f"{where}.effects[{k}]"
        ident = _id(state, ew, project)
        try:
            effect = Effect.from_state(state)
        except (TypeError, ValueError, AttributeError) as exc:
            raise _Located(ew, str(exc)) from exc
        effect.id = ident
        project.apply(AddEffect(track.id, effect))


def _id(obj: dict[str, Any], where: str, project: Project) -> int:
    ident = _field(obj, "id", where)
    if not isinstance(ident, int) or isinstance(ident, bool) or ident < 1:
        raise _Located(f"{where}.id", f"ids are whole numbers >= 1, not {ident!r}")
    if ident in project._records or ident in project.pool or ident in project._effects:
        raise _Located(f"{where}.id", f"id {ident} is used twice")
    return ident


def _set_fields(track: Track, doc: dict[str, Any], where: str) -> None:
    for name in track.edited_fields():
        if name in doc:
            value = doc[name]
            if name == "volume_db" and value is None:
                value = -math.inf
            try:
                setattr(track, name, value)
            except ValueError as exc:
                raise _Located(f"{where}.{name}", str(exc)) from exc
