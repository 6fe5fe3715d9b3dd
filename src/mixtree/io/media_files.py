"""Media files copied into a project's folder without ever overwriting different content."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path


def sha256_of(path: Path) -> str:
    """Return the hex SHA-256 of the file at ``path``."""
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def copy_into(file: Path, folder: Path, sha256: str | None = None, name: str | None = None) -> Path:
    """Copy ``file`` into ``folder`` as ``name`` (default: its own name) and return the copy.

    A file of that name already in ``folder`` is reused if it holds the same content
    (SHA-256, ``sha256`` when the caller knows it) and never overwritten otherwise: the
    copy then gets a name of its own (``kick-2.wav``, ``kick-3.wav``, …).
    """
    folder.mkdir(parents=True, exist_ok=True)
    name = name or file.name
    digest = sha256 or sha256_of(file)
    stem, suffix = Path(name).stem, Path(name).suffix
    k = 1
    dest = folder / name
    while dest.exists():
        if dest.is_file() and sha256_of(dest) == digest:
            return dest
        k += 1
        dest = folder / f"{stem}-{k}{suffix}"
    shutil.copy2(file, dest)
    return dest
