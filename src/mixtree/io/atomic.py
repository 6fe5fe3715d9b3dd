"""Atomic file writing: a crash or a full disk leaves the old file, and its backup, whole."""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def write_atomically(path: Path, data: bytes, backup: bool = True) -> None:
    """Write ``data`` to ``path`` so that a crash or a full disk leaves the old file whole.

    The bytes go to a hidden temporary file in the same folder and are flushed to disk;
    only then does a rename put them in place. With ``backup``, the previous file is kept
    as ``path`` + ``.bak``, itself copied beside the old backup first and renamed over it,
    so a failure at any point leaves the previous file and the previous backup whole.
    Raises ``OSError`` as the system does (naming the temporary files it was writing).
    """
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        _write_synced(tmp, data)
        if backup and path.exists():
            bak = path.with_name(path.name + ".bak")
            bak_tmp = path.with_name(f".{bak.name}.tmp")
            try:
                shutil.copyfile(path, bak_tmp)
                _sync(bak_tmp)
                shutil.copystat(path, bak_tmp)
                os.replace(bak_tmp, bak)
            finally:
                bak_tmp.unlink(missing_ok=True)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    sync_folder(path.parent)


def _write_synced(path: Path, data: bytes) -> None:
    with path.open("wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _sync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sync_folder(folder: Path) -> None:
    """Make renames inside ``folder`` durable (where the file system can sync a folder)."""
    try:
        _sync(folder)
    except OSError:  # pragma: no cover - some file systems cannot fsync a folder
        pass
