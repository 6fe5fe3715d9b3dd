"""The audio pool: every source decoded once, at the project's rate, shared by all clips."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import soxr

from mixtree.dsp.downmix import fold_to_stereo
from mixtree.errors import UnknownIdError
from mixtree.io import audio_file
from mixtree.model.operations import AddSource

if TYPE_CHECKING:
    from mixtree.model.project import Project


class Source:
    """Decoded audio in the pool: float32 ``(frames, channels)`` at the project rate.

    ``channels`` is 1 or 2 (mono stays mono until the pan stage). ``original_rate`` is the
    file's own rate; ``sha256`` the hash of the file's bytes. ``offline`` says why the
    file could not be read (its data is then silence); ``rendered`` marks audio the
    project rendered itself (a bounce, a freeze), which lives in the project's media folder.
    """

    __slots__ = (
        "offline",
        "rendered",
        "id",
        "path",
        "data",
        "sample_rate",
        "original_rate",
        "original_channels",
        "sha256",
    )

    def __init__(
        self,
        ident: int,
        path: Path,
        data: np.ndarray,
        sample_rate: int,
        original_rate: int,
        original_channels: int,
        sha256: str,
    ) -> None:
        self.id = ident
        self.path = path
        self.data = data
        self.sample_rate = sample_rate
        self.original_rate = original_rate
        self.original_channels = original_channels
        self.sha256 = sha256
        self.offline: str | None = None
        self.rendered = False

    @property
    def frames(self) -> int:
        """Return the length in frames at the project rate."""
        return self.data.shape[0]

    @property
    def channels(self) -> int:
        """Return 1 (mono) or 2 (stereo)."""
        return self.data.shape[1]

    @property
    def duration(self) -> float:
        """Return the length in seconds."""
        return self.frames / self.sample_rate

    def __repr__(self) -> str:
        return (
            f"Source(id={self.id}, path='{self.path.name}', frames={self.frames}, "
            f"channels={self.channels}, original_rate={self.original_rate})"
        )


def offline_source(ident: int, path: Path, sample_rate: int, frames: int, channels: int, reason: str) -> Source:
    """Return a silent stand-in for media that cannot be read, of the length it had."""
    data = np.zeros((frames, channels), dtype=np.float32)
    data.setflags(write=False)
    source = Source(ident, path, data, sample_rate, sample_rate, channels, "")
    source.offline = reason
    return source


def decode_source(ident: int, path: Path, sample_rate: int) -> Source:
    """Decode ``path``, fold it to at most stereo and resample it once to ``sample_rate``.

    Resampling uses soxr's high quality setting. Raises `MediaError` for unreadable files,
    and for sources that would exceed `audio_file.MAX_DECODED_BYTES` once resampled.
    """
    decoded = audio_file.read(path)
    data = fold_to_stereo(decoded.data)
    if decoded.sample_rate != sample_rate:
        frames = -(-decoded.frames * sample_rate // decoded.sample_rate)  # soxr's length, rounded up
        audio_file.check_decoded_size(path, frames, data.shape[1], f"resampled to {sample_rate} Hz")
        data = soxr.resample(data, decoded.sample_rate, sample_rate, quality="HQ")
    data = np.ascontiguousarray(data, dtype=np.float32)
    data.setflags(write=False)
    with path.open("rb") as f:
        digest = hashlib.file_digest(f, "sha256").hexdigest()
    return Source(ident, path, data, sample_rate, decoded.sample_rate, decoded.channels, digest)


class AudioPool:
    """The sources of one project, by id; loading a file twice returns the same source."""

    def __init__(self, project: Project) -> None:
        self._project = project
        self._sources: dict[int, Source] = {}

    def load(self, path: str | Path) -> Source:
        """Return the source for ``path``, decoding it on first use.

        Any format soundfile reads (WAV, FLAC, OGG, MP3, …) at any rate; the result is
        float32 at the project rate. Raises `MediaError` naming the file if it cannot be read.
        """
        resolved = Path(path).expanduser().resolve()
        for source in self._sources.values():
            if source.path == resolved:
                return source
        source = decode_source(self._project.registry.new_id(), resolved, self._project.sample_rate)
        self._project.apply(AddSource(source))
        return source

    def relink(self, old: int | str | Path, new: str | Path) -> Source:
        """Point the source ``old`` (its id or path) at the file ``new`` and decode it.

        Clips keep playing the same source, now with the new audio; undoable.
        """
        from mixtree.model.operations import Relink

        source = self.get(old) if isinstance(old, int) else self._by_path(Path(old))
        fresh = decode_source(source.id, Path(new).expanduser().resolve(), self._project.sample_rate)
        self._project.apply(Relink(source.id, fresh))
        return source

    @property
    def offline(self) -> list[Source]:
        """Return the sources whose media could not be read."""
        return [s for s in self._sources.values() if s.offline]

    def _by_path(self, path: Path) -> Source:
        for source in self._sources.values():
            if source.path == path.expanduser().resolve() or source.path.name == str(path):
                return source
        raise UnknownIdError("source", str(path))

    def get(self, ident: int) -> Source:
        """Return the source with id ``ident``; raise `UnknownIdError` if none."""
        try:
            return self._sources[ident]
        except KeyError:
            raise UnknownIdError("source", ident) from None

    def __iter__(self) -> Iterator[Source]:
        return iter(self._sources.values())

    def __len__(self) -> int:
        return len(self._sources)

    def __contains__(self, ident: object) -> bool:
        return ident in self._sources

    def _add(self, source: Source) -> None:
        self._sources[source.id] = source

    def _remove(self, ident: int) -> None:
        del self._sources[ident]
