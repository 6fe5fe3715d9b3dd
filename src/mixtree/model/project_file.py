"""Project files: a project's document saved as JSON or MessagePack, loaded back, autosaved.

Saves are atomic and keep a backup (`mixtree.io.atomic`). Media the project rendered
itself move into the ``media`` folder beside the file. Autosaves live beside the file,
hidden; an autosave this project did not write (a crashed session's) is never deleted
by a save: it waits until it is recovered (``load(recover=True)``) or discarded.
"""

from __future__ import annotations

import json
import time
import warnings
from pathlib import Path
from typing import Any

import msgpack

from mixtree.effects.offline import EffectWarning
from mixtree.errors import ProjectFileError, SaveError
from mixtree.io.atomic import write_atomically
from mixtree.io.audio_file import MediaWarning
from mixtree.io.media_files import copy_into
from mixtree.model.document import DocumentError, from_document, to_document
from mixtree.model.migrations import migrate
from mixtree.model.project import Project


class RecoveryWarning(UserWarning):
    """A project opened from its file while autosaves beside it hold unsaved work (named)."""


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
    """Return the document in ``data``; raise `DocumentError` saying what is wrong."""
    try:
        if kind == "json":
            try:
                return json.loads(data.decode("utf-8"))
            except UnicodeDecodeError as exc:
                raise DocumentError("", f"not UTF-8 text: {exc.reason}") from exc
            except json.JSONDecodeError as exc:
                raise DocumentError(f"line {exc.lineno}", f"not valid JSON: {exc.msg}") from exc
            except ValueError as exc:  # a number longer than Python converts
                raise DocumentError("", f"not valid JSON: {exc}") from exc
        try:
            return msgpack.unpackb(data, raw=False, strict_map_key=False)
        except (msgpack.UnpackException, ValueError, TypeError) as exc:
            raise DocumentError("", f"not valid MessagePack: {exc}") from exc
    except RecursionError as exc:
        raise DocumentError("", "the document nests too deeply") from exc


# -- autosaves -------------------------------------------------------------------------
def autosave_path(path: str | Path) -> Path:
    """Return where the autosave of the project file ``path`` goes (beside it, hidden)."""
    path = Path(path)
    return path.with_name(f".{path.name}.autosave")


def pending_autosaves(path: str | Path) -> list[Path]:
    """Return the autosaves beside the project file ``path``, newest first.

    Every one holds work some session did not save: a save deletes only the autosaves
    its own session wrote or recovered from.
    """
    first = autosave_path(Path(path).expanduser().resolve())
    if not first.parent.is_dir():
        return []
    prefix = first.name + "-"

    def numbered(p: Path) -> bool:
        return p.name.startswith(prefix) and p.name[len(prefix) :].isdigit()

    found = [p for p in first.parent.iterdir() if p == first or numbered(p)]
    return sorted((p for p in found if p.is_file()), key=lambda p: p.stat().st_mtime_ns, reverse=True)


def discard_autosaves(path: str | Path) -> list[Path]:
    """Delete the autosaves of the project file ``path`` (their unsaved work is lost);
    return what was deleted."""
    gone = pending_autosaves(path)
    for auto in gone:
        auto.unlink(missing_ok=True)
    return gone


def _autosave_target(project: Project, path: Path) -> Path:
    # This session's own autosave, or the first name that holds nobody else's.
    first = autosave_path(path)
    k = 1
    while True:
        candidate = first if k == 1 else first.with_name(f"{first.name}-{k}")
        if not candidate.exists() or _owned(project, candidate):
            return candidate
        k += 1


def _owned(project: Project, auto: Path) -> bool:
    try:
        return project.own_autosaves.get(auto) == auto.stat().st_mtime_ns
    except OSError:
        return False


def autosave(project: Project) -> Path | None:
    """Write ``project``'s autosave beside its file if it changed since its last save or
    autosave; return the file written (None if nothing was)."""
    if project.path is None or project.version in (project.saved_version, project.autosaved_version):
        return None
    target = _autosave_target(project, project.path)
    _write(project, project.path, target, backup=False)
    project.own_autosaves[target] = target.stat().st_mtime_ns
    project.autosaved_version = project.version
    return target


# -- saving ----------------------------------------------------------------------------
def save(project: Project, path: str | Path) -> Path:
    """Write ``project`` to ``path``: JSON or MessagePack by extension, atomically, the
    previous version kept as ``.bak``.

    Media the project rendered itself (bounces, freezes) are copied into the ``media``
    folder beside ``path`` first, so the file never points into a temporary folder.
    Autosaves this project wrote (or recovered from) are deleted; others are kept.
    Raises `SaveError` naming the project file; the old file and backup stay whole.
    """
    path = Path(path).expanduser().resolve()
    _format(path)
    _check_folder(path)
    media = path.parent / "media"
    try:
        for source in project.pool:
            if source.rendered and not source.offline and source.path.parent != media:
                source.path = copy_into(source.path, media, source.sha256)
    except OSError as exc:
        raise SaveError(path, f"cannot copy rendered media into '{media}': {_reason(exc)}") from exc
    _write(project, path, path, backup=True)
    project.path = path
    project.media_dir = media
    project.saved_version = project.version
    for auto in list(project.own_autosaves):
        if _owned(project, auto):
            auto.unlink(missing_ok=True)
        del project.own_autosaves[auto]
    return path


def _check_folder(path: Path) -> None:
    if not path.parent.is_dir():
        raise SaveError(path, f"the folder '{path.parent}' does not exist")


def _write(project: Project, path: Path, target: Path, backup: bool) -> None:
    _check_folder(path)
    data = encode(to_document(project, path.parent), _format(path))
    try:
        write_atomically(target, data, backup=backup)
    except OSError as exc:
        raise SaveError(path, _reason(exc)) from exc


def _reason(exc: OSError) -> str:
    # the system's words, without the hidden temporary file it was writing
    return exc.strerror or str(exc) or type(exc).__name__


# -- loading ---------------------------------------------------------------------------
def load(path: str | Path, recover: bool = False) -> Project:
    """Read a project file written by `save`, migrating older format versions.

    With ``recover``, its newest autosave is read instead (when there is one). Missing or
    changed media open as silent offline sources, with one `MediaWarning` naming them
    all; effects of types this process does not know open as pass-through placeholders,
    with one `EffectWarning`; autosaves left beside the file give a `RecoveryWarning`.
    Anything else wrong raises `ProjectFileError` naming the file, the place in the
    document and the problem; nothing that is already open changes.
    """
    path = Path(path).expanduser().resolve()
    pending = pending_autosaves(path)
    source = pending[0] if recover and pending else path
    try:
        kind = _format(path)
        data = source.read_bytes()
    except FileNotFoundError:
        raise ProjectFileError(source, "", "no such file") from None
    except IsADirectoryError:
        raise ProjectFileError(source, "", "a folder, not a project file") from None
    except (OSError, ValueError) as exc:
        raise ProjectFileError(source, "", str(exc)) from exc
    try:
        loaded = from_document(migrate(decode(data, kind)), path.parent)
    except DocumentError as exc:
        raise ProjectFileError(source, exc.where, str(exc)) from exc
    project = loaded.project
    project.forget_history()
    project.version = 0
    project.path = path
    project.media_dir = path.parent / "media"
    if source == path:
        project.saved_version = 0
    else:
        project.own_autosaves[source] = source.stat().st_mtime_ns
        pending = pending[1:]
    if loaded.offline_media:
        warnings.warn(
            f"'{path}': offline media, silent until relinked: {'; '.join(loaded.offline_media)}",
            MediaWarning,
            stacklevel=3,
        )
    if loaded.offline_effects:
        warnings.warn(
            f"'{path}': effects that cannot run here play as offline placeholders (audio passes through, "
            f"settings kept): {'; '.join(loaded.offline_effects)}",
            EffectWarning,
            stacklevel=3,
        )
    if pending:
        warnings.warn(recovery_note(path, pending), RecoveryWarning, stacklevel=3)
    return project


def recovery_note(path: Path, autosaves: list[Path]) -> str:
    """Return what to tell a user who opened ``path`` while ``autosaves`` wait beside it."""
    mtime = path.stat().st_mtime if path.exists() else 0.0
    shown = []
    for auto in autosaves:
        when = auto.stat().st_mtime
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(when))
        shown.append(f"'{auto.name}' ({stamp}, {'newer' if when > mtime else 'older'} than the file)")
    return (
        f"'{path}': {len(autosaves)} autosave(s) hold work a session did not save: {', '.join(shown)}; "
        f"open the newest with recover=True (--recover), or delete them with mixtree.discard_autosaves"
    )
