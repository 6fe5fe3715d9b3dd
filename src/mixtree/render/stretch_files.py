"""Stretched renders too large to hold: files in a folder of their own, found by signature.

Like Ardour's freeze files, a stretched (Rubber Band) render larger than the pool lets a
file be held is written to ``stretched/`` in the project's media folder (a folder of
the user's own in the system's temporary folder before the project has one) and
streamed from there. Its name holds its signature and its length, ``<signature>-<frames>.wav``:
a file of another length (cut short, damaged) is made again. A file is written whole
and synced under a hidden name, then linked into place, so two writers of one render
(two sessions, a batch) never replace a file another is streaming. Beyond
`FOLDER_BYTES` the least recently used files go, never one still in use.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import soundfile as sf

from mixtree.io import audio_file
from mixtree.model.pool import Source, stream_source
from mixtree.model.project import Project

#: The most a folder of stretched renders keeps, bytes (least recently used out first).
FOLDER_BYTES = 4 << 30


def folder_for(project: Project) -> Path:
    """Return the folder ``project``'s large stretched renders go to."""
    if project.media_dir is not None:
        return project.media_dir / "stretched"
    own = Path(tempfile.gettempdir()) / f"mixtree-{os.getuid()}"  # the user's own: no one else writes there
    own.mkdir(mode=0o700, exist_ok=True)
    return own / "stretched"


def find(folder: Path, key: str, rate: int, ident: int) -> Source | None:
    """Return the render of signature ``key`` in ``folder``, streamed, as source ``ident``;
    None if there is none whole (a damaged one is removed)."""
    for path in folder.glob(f"{key[:32]}-*.wav"):
        try:
            frames = int(path.stem.rsplit("-", 1)[1])
            whole = sf.info(str(path)).frames == frames
        except (ValueError, RuntimeError, OSError):
            whole = False
        if not whole:
            path.unlink(missing_ok=True)
            continue
        try:
            os.utime(path)  # used now: the last to go
            return _streamed(path, rate, key, ident)
        except Exception:  # noqa: BLE001 (it cannot be read after all: made again)
            path.unlink(missing_ok=True)
    return None


def store(folder: Path, key: str, data: np.ndarray, rate: int, ident: int, in_use: Iterable[Path] = ()) -> Source:
    """Write the render ``data`` of signature ``key`` into ``folder`` (unless a whole one is
    there already) and return it streamed, as source ``ident``; then trim the folder to
    `FOLDER_BYTES`, keeping it and the files ``in_use``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{key[:32]}-{data.shape[0]}.wav"
    part = folder / f".{path.stem}.{os.getpid()}.{threading.get_ident()}.wav"
    try:
        audio_file.write(part, data, rate, "float")
        with open(part, "rb+") as f:
            os.fsync(f.fileno())
        try:
            os.link(part, path)  # never over a file another may be streaming
        except FileExistsError:
            pass  # another writer made the same render: theirs serves
    finally:
        part.unlink(missing_ok=True)
    _trim(folder, {path, *in_use})
    return _streamed(path, rate, key, ident)


def _streamed(path: Path, rate: int, key: str, ident: int) -> Source:
    source = stream_source(ident, path, rate, digest=key)  # its signature stands for its bytes' hash
    source.rendered = True
    return source


def _trim(folder: Path, keep: set[Path]) -> None:
    files = []
    for path in folder.glob("*.wav"):
        try:
            st = path.stat()
        except OSError:
            continue
        files.append((st.st_mtime, st.st_size, path))
    total = sum(size for _, size, _ in files)
    for _, size, path in sorted(files):
        if total <= FOLDER_BYTES:
            break
        if path not in keep and not path.name.startswith("."):
            path.unlink(missing_ok=True)
            total -= size
