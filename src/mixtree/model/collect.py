"""Collect a project: copy it and every medium it uses into one folder."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

from mixtree.io.audio_file import MediaWarning
from mixtree.model.project_file import load, save


def collect(project_path: str | Path, folder: str | Path) -> Path:
    """Copy the project at ``project_path`` into ``folder``, its media into ``folder/media``.

    Returns the new project file, whose media paths point at the copies. Offline media
    cannot be copied; they stay referenced where they were, with a `MediaWarning`.
    """
    project = load(project_path)
    folder = Path(folder).expanduser().resolve()
    media = folder / "media"
    media.mkdir(parents=True, exist_ok=True)
    taken: set[str] = set()
    left = []
    for source in project.pool:
        if source.offline:
            left.append(str(source.path))
            continue
        name = source.path.name
        stem, suffix, k = source.path.stem, source.path.suffix, 1
        while name in taken:
            k += 1
            name = f"{stem}-{k}{suffix}"
        taken.add(name)
        shutil.copy2(source.path, media / name)
        source.path = media / name
    if left:
        warnings.warn(f"offline media not collected: {', '.join(left)}", MediaWarning, stacklevel=2)
    return save(project, folder / Path(project_path).name)
