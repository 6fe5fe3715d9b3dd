"""The exceptions mixtree raises: one root, each child also the builtin it means."""

from __future__ import annotations

from pathlib import Path


class MixtreeError(Exception):
    """Root of every error mixtree raises on purpose."""


class MediaError(MixtreeError, OSError):
    """An audio file is missing, empty, corrupt or unsupported.

    The message names the file and the reason; ``path`` keeps the file.
    """

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"cannot open '{self.path}': {reason}")

    def __str__(self) -> str:
        return f"cannot open '{self.path}': {self.reason}"


class ProjectFileError(MixtreeError, ValueError):
    """A project file cannot be read: the message names the file, the place and the problem."""

    def __init__(self, path: str | Path, where: str, reason: str) -> None:
        self.path = Path(path)
        self.where = where
        self.reason = reason
        place = f" at {where}" if where else ""
        super().__init__(f"cannot load project '{self.path}'{place}: {reason}")


class UnknownIdError(MixtreeError, KeyError):
    """An id names no track, clip or source of the project."""

    def __init__(self, kind: str, ident: object) -> None:
        self.kind = kind
        self.ident = ident
        super().__init__(f"no {kind} with id {ident!r}")

    def __str__(self) -> str:
        return f"no {self.kind} with id {self.ident!r}"


class MidiFileError(MixtreeError, ValueError):
    """A Standard MIDI File cannot be read: the message names the file and the problem."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"cannot import MIDI file '{self.path}': {reason}")


class SaveError(MixtreeError, OSError):
    """A project could not be saved: the message names the project file and the reason.

    The file, its backup and its autosaves are left as they were.
    """

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"cannot save project '{self.path}': {reason}")

    def __str__(self) -> str:
        return f"cannot save project '{self.path}': {self.reason}"


class QueueFullError(MixtreeError, RuntimeError):
    """The engine's command queue is full (its audio thread is not taking commands).

    The edit that needed the command was not made.
    """


class PluginError(MixtreeError, OSError):
    """A plugin cannot be found, loaded, run or restored: the message names the plugin
    (its path, URI or id) and the problem; ``plugin`` keeps that name."""

    def __init__(self, plugin: str, reason: str) -> None:
        self.plugin = str(plugin)
        self.reason = reason
        super().__init__(f"plugin '{self.plugin}': {reason}")

    def __str__(self) -> str:
        return f"plugin '{self.plugin}': {self.reason}"


class MissingDependencyError(MixtreeError, ImportError):
    """An optional part of mixtree needs a package that is not installed; the message says
    how to install it."""
