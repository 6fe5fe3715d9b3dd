"""The audio pool: every source at the project's rate, shared by all clips, under a memory budget."""

from __future__ import annotations

import hashlib
import warnings
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import soxr

from mixtree.dsp.downmix import fold_to_stereo
from mixtree.errors import MediaError, UnknownIdError
from mixtree.io import audio_file
from mixtree.io.stream import StreamReader, exact_frames, file_stamp, resampled_frames
from mixtree.model.operations import AddSource, SetProjectAttribute

if TYPE_CHECKING:
    from mixtree.model.project import Project


class InMemory:
    """A source's audio decoded whole and held: float32 ``(frames, channels)``, read-only."""

    __slots__ = ("data",)
    kind = "memory"

    def __init__(self, data: np.ndarray) -> None:
        self.data = data

    @property
    def frames(self) -> int:
        """Return the length in frames."""
        return self.data.shape[0]

    @property
    def channels(self) -> int:
        """Return 1 or 2."""
        return self.data.shape[1]

    @property
    def nbytes(self) -> int:
        """Return the bytes held."""
        return self.data.nbytes

    def reader(self) -> _ArrayReader:
        """Return a reader of frames at any position (`StreamReader`'s interface)."""
        return _ArrayReader(self.data)


class Streamed:
    """A source's audio left in its file and decoded as it plays (`StreamReader`).

    ``file_frames`` is the file's length when it was opened: a file found shorter later
    is truncated, and its source goes offline.
    """

    __slots__ = ("path", "sample_rate", "frames", "channels", "file_frames", "stamp", "digest")
    kind = "stream"
    nbytes = 0

    def __init__(
        self,
        path: Path,
        sample_rate: int,
        frames: int,
        channels: int,
        file_frames: int,
        stamp: tuple[int, int] | None = None,
        digest: str | None = None,
    ) -> None:
        self.path = path
        self.sample_rate = sample_rate
        self.frames = frames
        self.channels = channels
        self.file_frames = file_frames
        self.stamp = stamp  # the file's size and mtime when loaded: a file changed since goes offline
        self.digest = digest  # its bytes' sha256 then: a new stamp on the same bytes is taken

    def reader(self) -> StreamReader:
        """Open the file for reading at the project rate; raise `MediaError` if it cannot be."""
        return StreamReader(self.path, self.sample_rate, self.file_frames, self.stamp, self.digest)


class _ArrayReader:
    """`StreamReader`'s interface over an array held in memory."""

    def __init__(self, data: np.ndarray) -> None:
        self.data = data
        self.frames = data.shape[0]

    def read(self, start: int, out: np.ndarray) -> int:
        """Copy the frames from ``start`` into ``out``; past the end, silence."""
        got = max(0, min(out.shape[0], self.frames - max(start, 0)))
        out[:got] = self.data[start : start + got] if got else out[:0]
        out[got:] = 0.0
        return got

    def close(self) -> None:
        """Nothing to close."""


Media = InMemory | Streamed


class Source:
    """Audio in the pool at the project rate, one of two kinds (its ``media``): decoded
    whole and held in memory (`InMemory`, ``data`` is float32 ``(frames, channels)``), or
    streamed from its file as it plays (`Streamed`, ``data`` is None).

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
        "media",
        "sample_rate",
        "original_rate",
        "original_channels",
        "sha256",
        "stamp",
    )

    def __init__(
        self,
        ident: int,
        path: Path,
        data: np.ndarray | Media,
        sample_rate: int,
        original_rate: int,
        original_channels: int,
        sha256: str,
    ) -> None:
        self.id = ident
        self.path = path
        self.media: Media = InMemory(data) if isinstance(data, np.ndarray) else data
        self.sample_rate = sample_rate
        self.original_rate = original_rate
        self.original_channels = original_channels
        self.sha256 = sha256
        self.offline: str | None = None
        self.rendered = False
        self.stamp: tuple[int, int] | None = None  # the file's size and mtime (ns) when it was read

    @property
    def data(self) -> np.ndarray | None:
        """Return the decoded audio if it is held in memory, else None (streamed)."""
        return self.media.data if isinstance(self.media, InMemory) else None

    @property
    def streamed(self) -> bool:
        """Return True if the audio is read from its file as it plays."""
        return isinstance(self.media, Streamed)

    def reader(self) -> StreamReader | _ArrayReader:
        """Return a reader of the audio (``read(start, out)``); raise `MediaError` if a
        streamed file cannot be opened."""
        return self.media.reader()

    @property
    def frames(self) -> int:
        """Return the length in frames at the project rate."""
        return self.media.frames

    @property
    def channels(self) -> int:
        """Return 1 (mono) or 2 (stereo)."""
        return self.media.channels

    @property
    def duration(self) -> float:
        """Return the length in seconds."""
        return self.frames / self.sample_rate

    @property
    def nbytes(self) -> int:
        """Return the bytes the decoded audio takes (whether held or not)."""
        return self.frames * self.channels * 4

    def __repr__(self) -> str:
        return (
            f"Source(id={self.id}, path='{self.path.name}', frames={self.frames}, "
            f"channels={self.channels}, original_rate={self.original_rate}, kind='{self.media.kind}')"
        )


def offline_source(ident: int, path: Path, sample_rate: int, frames: int, channels: int, reason: str) -> Source:
    """Return a silent stand-in for media that cannot be read, of the length it had."""
    data = np.zeros((frames, channels), dtype=np.float32)
    data.setflags(write=False)
    source = Source(ident, path, data, sample_rate, sample_rate, channels, "")
    source.offline = reason
    return source


def _digest(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def decode_source(ident: int, path: Path, sample_rate: int) -> Source:
    """Decode ``path``, fold it to at most stereo and resample it once to ``sample_rate``.

    Resampling uses soxr's high quality setting. Raises `MediaError` for unreadable files,
    and for sources that would exceed `audio_file.MAX_DECODED_BYTES` once resampled.
    """
    stamp = _stamp(path)
    decoded = audio_file.read(path)
    data = fold_to_stereo(decoded.data)
    if decoded.sample_rate != sample_rate:
        frames = -(-decoded.frames * sample_rate // decoded.sample_rate)  # soxr's length, rounded up
        audio_file.check_decoded_size(path, frames, data.shape[1], f"resampled to {sample_rate} Hz")
        data = soxr.resample(data, decoded.sample_rate, sample_rate, quality="HQ")
    data = np.ascontiguousarray(data, dtype=np.float32)
    data.setflags(write=False)
    source = Source(ident, path, data, sample_rate, decoded.sample_rate, decoded.channels, _digest(path))
    source.stamp = stamp
    return source


def stream_source(ident: int, path: Path, sample_rate: int, digest: str | None = None) -> Source:
    """Open ``path`` for streaming: its header is read and its bytes hashed (unless their
    ``digest`` is given), nothing decoded.

    Raises `MediaError` for a file that cannot be opened or whose header is out of bounds.
    """
    stamp = _stamp(path)
    info = audio_file.info(path)
    if info.format == "MP3":
        audio_file.warn_if_late(path)
    frames = exact_frames(path)
    if frames < info.frames and info.format == "MP3" and info.frames - frames > info.sample_rate:
        warnings.warn(
            f"'{path}': only {frames} of the {info.frames} frames its header gives could be decoded "
            "(a damaged header or a truncated file): the rest is missing",
            audio_file.MediaWarning,
            stacklevel=3,
        )
    reader = StreamReader(path, sample_rate, frames)
    reader.close()
    digest = digest or _digest(path)
    media = Streamed(path, sample_rate, reader.frames, reader.channels, frames, stamp, digest)
    source = Source(ident, path, media, sample_rate, info.sample_rate, info.channels, digest)
    source.stamp = stamp
    return source


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        return file_stamp(path)
    except OSError:
        return None  # reading it says why


def _streamed_media(source: Source) -> Streamed | None:
    """Return the streamed kind of ``source``'s audio if its file still gives the same
    frames in a format that seeks exactly, else None (its decoded audio must stay)."""
    if source.offline or source.rendered or source.streamed:
        return None
    if source.stamp is None or _stamp(source.path) != source.stamp:
        return None  # changed since it was decoded: what is held cannot be read again
    try:
        head = audio_file.info(source.path)
    except MediaError:
        return None
    if head.format not in STREAMABLE:
        return None
    file_frames = exact_frames(source.path) if head.format == "MP3" else head.frames
    frames = resampled_frames(file_frames, head.sample_rate, source.sample_rate)
    if frames != source.frames or min(head.channels, 2) != source.channels:
        return None
    return Streamed(source.path, source.sample_rate, frames, source.channels, file_frames, source.stamp, source.sha256)


#: The pool's memory budget by default, bytes of decoded audio: 1 GiB.
DEFAULT_BUDGET = 1 << 30

#: Files that would decode to more than this (bytes) always stream, whatever the budget.
STREAM_ABOVE = 256 << 20

#: Container formats that can stream: those soundfile seeks in exactly, and MP3 (which
#: `StreamReader` seeks in early, so that it is exact too).
STREAMABLE = {"WAV", "FLAC", "OGG", "AIFF", "W64", "RF64", "CAF", "MP3"}


@dataclass(frozen=True, slots=True)
class PoolMemory:
    """What the pool holds: ``held`` bytes of decoded audio (``in_memory`` sources), under
    ``budget``; ``streamed`` sources hold nothing here (their windows belong to plans)."""

    held: int
    budget: int
    in_memory: int
    streamed: int


class AudioPool:
    """The sources of one project, by id; loading a file twice returns the same source.

    Decoded audio stays in memory within ``budget`` bytes (a project setting, saved with
    it); the least recently used is evicted (its source then streams) to make room, and
    files that would decode to more than ``stream_above`` bytes, or are bigger than the
    budget, stream from the start.
    """

    def __init__(self, project: Project) -> None:
        self._project = project
        self._sources: dict[int, Source] = {}
        self._recent: OrderedDict[int, None] = OrderedDict()  # in-memory sources, least recent first
        self.stream_above = STREAM_ABOVE

    @property
    def budget(self) -> int:
        """Return the bytes of decoded audio the pool may hold (default 1 GiB)."""
        return self._project._pool_budget

    @budget.setter
    def budget(self, value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"the pool budget must be a whole number of bytes, 0 or more, not {value!r}")
        self._evict(0, value)
        self._project.apply(SetProjectAttribute("pool_budget", int(value)))

    def memory(self) -> PoolMemory:
        """Return what the pool holds in memory (`PoolMemory`)."""
        held = [s for s in self._sources.values() if isinstance(s.media, InMemory) and not s.offline]
        return PoolMemory(
            held=sum(s.media.nbytes for s in held),
            budget=self.budget,
            in_memory=len(held),
            streamed=sum(1 for s in self._sources.values() if s.streamed),
        )

    def touch(self, source: Source) -> None:
        """Mark ``source`` as just used (it is evicted last)."""
        if source.id in self._recent:
            self._recent.move_to_end(source.id)

    def _decoded_size(self, path: Path) -> int | None:
        """Return the bytes ``path`` would take decoded at the project rate if it can
        stream (a format that seeks exactly), else None (it must be decoded whole)."""
        try:
            head = audio_file.info(path)
        except MediaError:
            return None  # decoding says why
        if head.format not in STREAMABLE:
            return None
        return resampled_frames(head.frames, head.sample_rate, self._project.sample_rate) * min(head.channels, 2) * 4

    def open_source(self, ident: int, path: Path) -> Source:
        """Return a source ``ident`` for ``path``: decoded whole if it is at most
        ``stream_above`` bytes and fits the budget once the least recently used decoded
        audio is evicted, else streamed. Raises `MediaError` naming the file."""
        rate = self._project.sample_rate
        size = self._decoded_size(path)
        if size is not None:
            if size > min(self.stream_above, self.budget):
                return stream_source(ident, path, rate)
            if not self._evict(size, self.budget):
                return stream_source(ident, path, rate)
        return decode_source(ident, path, rate)

    def _evict(self, room: int, budget: int) -> bool:
        """Evict decoded audio, least recently used first, until ``room`` more bytes fit
        ``budget``; return False if they cannot."""
        held = self.memory().held
        for ident in list(self._recent):
            if held + room <= budget:
                break
            source = self._sources[ident]
            media = source.media
            streamed = _streamed_media(source)
            if streamed is None or not isinstance(media, InMemory):
                continue  # audio that cannot be read again from its file stays
            held -= media.nbytes
            source.media = streamed
            del self._recent[ident]
        return held + room <= budget

    def load(self, path: str | Path) -> Source:
        """Return the source for ``path``, decoding it on first use (or streaming it: see
        the class).

        Any format soundfile reads (WAV, FLAC, OGG, MP3, …) at any rate; the result is
        float32 at the project rate. Raises `MediaError` naming the file if it cannot be read.
        """
        resolved = Path(path).expanduser().resolve()
        for source in self._sources.values():
            if source.path == resolved:
                self.touch(source)
                return source
        source = self.open_source(self._project.registry.new_id(), resolved)
        self._project.apply(AddSource(source))
        return source

    def relink(self, old: int | str | Path, new: str | Path) -> Source:
        """Point the source ``old`` (its id or path) at the file ``new`` and decode it.

        Clips keep playing the same source, now with the new audio; undoable.
        """
        from mixtree.model.operations import Relink

        source = self.get(old) if isinstance(old, int) else self._by_path(Path(old))
        fresh = self.open_source(source.id, Path(new).expanduser().resolve())
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
        if isinstance(source.media, InMemory) and not source.offline and not source.rendered:
            self._recent[source.id] = None

    def _remove(self, ident: int) -> None:
        del self._sources[ident]
        self._recent.pop(ident, None)
