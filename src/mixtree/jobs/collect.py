"""Collect a project: copy it and every medium it uses into one folder."""

from __future__ import annotations

import warnings
from pathlib import Path

from mixtree.io.audio_file import MediaWarning
from mixtree.io.media_files import copy_into
from mixtree.model.project_file import load, save


def collect(project_path: str | Path, folder: str | Path) -> Path:
    """Copy the project at ``project_path`` into ``folder``, its media into ``folder/media``.

    Returns the new project file, whose media paths point at the copies. A file already
    in ``folder/media`` is reused when it holds the same audio and never overwritten
    when it does not: the copy gets a name of its own. Offline media cannot be copied;
    they stay referenced where they were, with a `MediaWarning`. Collecting into the
    project's own folder is refused (it would copy every file onto itself), and so is
    collecting over a project file already there.
    """
    source_file = Path(project_path).expanduser().resolve()
    folder = Path(folder).expanduser().resolve()
    if folder == source_file.parent:
        raise ValueError(f"'{folder}' is the folder the project is in already: collect it into another folder")
    target = folder / source_file.name
    if target.exists():
        raise ValueError(f"'{target}' exists already: collect into another folder, or move that project away first")
    project = load(source_file)
    folder.mkdir(parents=True, exist_ok=True)
    media = folder / "media"
    left = []
    for source in project.pool:
        if source.offline:
            left.append(str(source.path))
            continue
        source.path = copy_into(source.path, media, source.sha256)
    if left:
        warnings.warn(f"offline media not collected: {', '.join(left)}", MediaWarning, stacklevel=2)
    return save(project, target)
