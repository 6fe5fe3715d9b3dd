"""Peak overviews of the pool's sources: what a waveform is drawn from, at several zooms.

A source's overview holds, for every `BASE` frames of its file (at the file's own rate),
the lowest and highest sample over all its channels; each coarser level merges `FACTOR`
buckets of the one below. Overviews are computed on one worker thread (never the audio
thread) from the file in large blocks with numpy, and cached in a ``peaks`` folder beside
the project, as Ardour keeps its peak files (an unsaved project caches under the user's
cache folder). A cache entry names the file's path, size and modification time: a file
changed since is read again.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from mixtree.model.pool import Source

#: File frames per bucket of the finest level.
BASE = 256
#: Buckets of one level merged into one of the next.
FACTOR = 4
#: Levels: BASE, BASE×4, … BASE×4**(LEVELS-1) frames per bucket.
LEVELS = 6
#: Frames read from the file at a time (a multiple of BASE): small enough that no one
#: numpy call on a block holds the GIL the audio callback needs for long.
BLOCK = BASE * 256
#: Version of the cache files' layout.
FORMAT = 1


@dataclass(frozen=True)
class Overview:
    """A source's peaks: ``levels[k]`` is float32 ``(buckets, 2)`` of (min, max) over
    ``BASE * FACTOR**k`` file frames each; ``rate`` is the file's sample rate."""

    rate: int
    frames: int
    levels: tuple[np.ndarray, ...]

    def frames_per_bucket(self, level: int) -> int:
        """Return how many file frames one bucket of ``level`` covers."""
        return BASE * FACTOR**level


def compute(path: str | Path) -> Overview:
    """Read ``path`` block by block and return its overview (every level)."""
    with sf.SoundFile(str(path)) as f:
        rate, frames = f.samplerate, f.frames
        parts = []
        for block in f.blocks(blocksize=BLOCK, dtype="float32", always_2d=True):
            parts.append(_buckets(block))
            time.sleep(0)  # let the audio thread in between blocks
    base = np.concatenate(parts) if parts else np.zeros((0, 2), np.float32)
    return Overview(rate, frames, _levels(base))


def of_array(data: np.ndarray, rate: int) -> Overview:
    """Return the overview of audio held in memory, float32 ``(frames, channels)``."""
    return Overview(rate, data.shape[0], _levels(_buckets(np.asarray(data, np.float32))))


def _buckets(block: np.ndarray) -> np.ndarray:
    """Return (min, max) over all channels of every BASE frames of ``block`` (the last
    bucket may be short)."""
    n, channels = block.shape
    whole = n - n % BASE
    block = np.ascontiguousarray(block)
    out = np.empty(((n + BASE - 1) // BASE, 2), np.float32)
    if whole:  # the frames of a bucket, all channels, lie side by side in memory
        rows = block[:whole].reshape(-1, BASE * channels)
        rows.min(axis=1, out=out[: whole // BASE, 0])
        rows.max(axis=1, out=out[: whole // BASE, 1])
    if whole < n:
        out[-1] = block[whole:].min(), block[whole:].max()
    return out


def _levels(base: np.ndarray) -> tuple[np.ndarray, ...]:
    levels = [base]
    for _ in range(LEVELS - 1):
        below = levels[-1]
        n = below.shape[0]
        pad = (-n) % FACTOR
        if pad:  # the edge bucket repeats: it changes neither the min nor the max
            below = np.concatenate([below, np.repeat(below[-1:], pad, axis=0)]) if n else below
        merged = below.reshape(-1, FACTOR, 2)
        levels.append(np.stack([merged[:, :, 0].min(axis=1), merged[:, :, 1].max(axis=1)], axis=1))
    return tuple(levels)


def cache_dir(project_path: Path | None) -> Path:
    """Return where overviews are cached: ``peaks/`` beside the project's file, or the
    user's cache folder for a project without one."""
    if project_path is not None:
        return project_path.parent / "peaks"
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "mixtree" / "peaks"


def _key(path: Path) -> tuple[str, str]:
    """Return the cache file's name for ``path`` and the stamp its contents must carry."""
    st = path.stat()
    name = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:24]
    return f"{path.stem[:40]}-{name}.npz", f"{FORMAT}:{st.st_size}:{st.st_mtime_ns}"


def load_or_compute(path: Path, folder: Path) -> tuple[Overview, bool]:
    """Return the overview of the file ``path``, from the cache in ``folder`` when it
    is current (and True), else computed and written there (and False)."""
    name, stamp = _key(path)
    cached = folder / name
    try:
        with np.load(cached) as z:
            if str(z["stamp"]) == stamp:
                levels = tuple(z[f"level{k}"] for k in range(LEVELS))
                return Overview(int(z["rate"]), int(z["frames"]), levels), True
    except (OSError, KeyError, ValueError):
        pass  # none yet, or unreadable: computed again
    overview = compute(path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(".tmp.npz")
        arrays = {f"level{k}": a for k, a in enumerate(overview.levels)}
        np.savez(tmp, stamp=np.array(stamp), rate=overview.rate, frames=overview.frames, **arrays)
        os.replace(tmp, cached)
    except OSError:
        pass  # a read-only place: the overview still serves this session
    return overview, False


class PeakStore:
    """Overviews of a project's sources, built on one worker thread.

    ``ready(source_id)`` is called from the worker when a source's overview is done;
    ``failed(source_id, message)`` when its file cannot be read.
    """

    def __init__(
        self,
        folder: Callable[[], Path],
        ready: Callable[[int], None],
        failed: Callable[[int, str], None],
    ) -> None:
        self._folder = folder
        self._ready = ready
        self._failed = failed
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mixtree-peaks")
        self._lock = threading.Lock()
        self._done: dict[int, Overview] = {}
        self._pending: dict[int, Future[None]] = {}
        self.reused = 0  # overviews read back from the cache

    def request(self, source: Source) -> None:
        """Build ``source``'s overview on the worker unless it is built or on its way."""
        with self._lock:
            if source.id in self._done or source.id in self._pending:
                return
            self._pending[source.id] = self._pool.submit(self._build, source)

    def get(self, source_id: int) -> Overview | None:
        """Return the overview of ``source_id`` if it is built."""
        with self._lock:
            return self._done.get(source_id)

    def _build(self, source: Source) -> None:
        try:
            if source.path.is_file():
                overview, reused = load_or_compute(source.path, self._folder())
                self.reused += reused
            elif source.data is not None:
                overview = of_array(source.data, source.sample_rate)
            else:
                raise OSError(f"cannot draw '{source.path.name}': the file is missing")
        except Exception as exc:
            with self._lock:
                self._pending.pop(source.id, None)
            self._failed(source.id, f"{type(exc).__name__}: {exc}")
            return
        with self._lock:
            self._done[source.id] = overview
            self._pending.pop(source.id, None)
        self._ready(source.id)

    def wait(self, timeout: float = 30.0) -> bool:
        """Wait until every requested overview is built; return False on timeout."""
        with self._lock:
            futures = list(self._pending.values())
        for f in futures:
            try:
                f.result(timeout)
            except TimeoutError:
                return False
        return True

    def close(self) -> None:
        """Stop the worker (an overview being built is finished first)."""
        self._pool.shutdown(wait=True, cancel_futures=True)
