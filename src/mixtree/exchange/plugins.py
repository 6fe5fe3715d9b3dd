"""Plugins other applications name: found by their VST3 file name and hosted here, at their defaults."""

from __future__ import annotations

from pathlib import Path

from mixtree.effects.base import Effect
from mixtree.effects.plugin import Plugin
from mixtree.errors import MixtreeError

#: Where VST3 plugins are looked for by their file name.
VST3_FOLDERS = [Path.home() / ".vst3", Path("/usr/lib/vst3"), Path("/usr/local/lib/vst3")]


def vst3_named(name: str) -> Effect | None:
    """Return the VST3 plugin whose bundle is called ``name`` (``.vst3`` added if missing)
    in one of `VST3_FOLDERS`, loaded at its defaults; None if none is installed or it
    does not load."""
    file = Path(name).name
    if not file:
        return None
    if not file.endswith(".vst3"):
        file += ".vst3"
    for folder in VST3_FOLDERS:
        candidate = folder / file
        if candidate.exists():
            try:
                return Plugin(str(candidate))
            except (MixtreeError, OSError, ValueError):
                return None
    return None
