"""Rubber Band for metatracks: pitch shifts and pitch-preserving speed changes.

A metatrack with ``pitch`` or ``preserve_pitch`` set plays a render of its subtree that
pedalboard's Rubber Band binding has stretched and transposed as a whole. Renders are
cached by what shapes them (a bounded cache, least recently used first out). Offline,
a missing render is made at once (`stretched`); a live engine has a `StretchWorker`
make it on a thread of its own while the render from before the edit plays on.

A render larger than the pool lets a file be held (``stream_above`` or the budget) is
written to a file and streamed from there, found again by its signature next time and
in later sessions (`render.stretch_files`).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import itertools
import json
import math
import queue
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

import numpy as np

from mixtree.model.document import tempo_document, track_document
from mixtree.model.pool import Source
from mixtree.model.project import Project
from mixtree.model.structure import children_tempo_map, walk
from mixtree.model.tracks import AudioTrack, Metatrack
from mixtree.render.plan import RenderPlan
from mixtree.render.stretch_files import find, folder_for, store
from mixtree.render.tap import subtree_plan, tap

#: The most memory kept stretched renders may take, bytes.
CACHE_BYTES = 512 << 20

_ids = itertools.count(1)  # stretched sources get negative ids no pool source has


class _Cache:
    """Stretched renders by signature, least recently used evicted beyond ``limit`` bytes."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._items: OrderedDict[str, Source] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> Source | None:
        with self._lock:
            source = self._items.get(key)
            if source is not None and source.offline:  # its file went: made again
                del self._items[key]
                return None
            if source is not None:
                self._items.move_to_end(key)
            return source

    def sources(self) -> list[Source]:
        with self._lock:
            return list(self._items.values())

    def put(self, key: str, source: Source) -> None:
        with self._lock:
            self._items[key] = source
            self._items.move_to_end(key)
            while len(self._items) > 1 and self.bytes() > self.limit:
                self._items.popitem(last=False)

    def bytes(self) -> int:
        return sum(s.data.nbytes for s in self._items.values() if s.data is not None)

    def __len__(self) -> int:
        return len(self._items)


cache = _Cache(CACHE_BYTES)


def signature(project: Project, m: Metatrack) -> str:
    """Return a digest of everything that shapes ``m``'s stretched sound: its children
    (and the metatracks their aliases play), its speed and pitch, the rate, the tempo
    map (beat-synced effects) and the content of the sources they play. Not ``m``'s
    own name, chain or fader: the render is taken before them."""
    shaping: dict[int, object] = {}
    todo = [m]
    while todo:  # the metatrack, and every metatrack an alias inside it plays
        t = todo.pop()
        if t.id in shaping:
            continue
        shaping[t.id] = [track_document(c, Path("/")) for c in t.children]
        for inner in walk(t.children):
            if isinstance(inner, AudioTrack):
                todo += [project.track(a.metatrack_id) for a in inner.aliases]  # type: ignore[misc]
    sources = {
        c.source.id: (c.source.sha256, c.source.offline or "")
        for t in walk([project.track(i) for i in shaping])
        if isinstance(t, AudioTrack)
        for c in t.clips
    }
    doc = {
        "rubberband": _stretcher_version(),  # a render kept on disk is not reused by another
        "rate": project.sample_rate,
        "transform": [m.speed, m.pitch, m.preserve_pitch],
        "tracks": shaping,
        "tempo": [tempo_document(children_tempo_map(project, project.track(i))) for i in shaping],  # type: ignore[arg-type]
        "sources": sorted(sources.items()),
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()


@functools.cache
def _stretcher_version() -> str:
    return importlib.metadata.version("pedalboard")


class _Transform:
    """What `_stretch` reads of a metatrack, copied so a worker never reads the model."""

    def __init__(self, project: Project, m: Metatrack, key: str, final: bool = True) -> None:
        self.id, self.name, self.speed = m.id, m.name, m.speed
        self.pitch, self.preserve_pitch = m.pitch, m.preserve_pitch
        self.folder = folder_for(project)  # where a render too large to hold goes
        # (a provisional render, made while an inner one is on its way, is not the
        # signature's sound: it is held, never filed under it)
        self.limit = min(project.pool.stream_above, project.pool.budget) if final else 1 << 62


def _stretch(plan: RenderPlan, frames: int, m: _Transform, key: str) -> Source:
    # The children's submix at their own speed, made m.speed times faster by Rubber Band;
    # the pitch moves by m.pitch, plus what the speed would do on tape without preserve_pitch.
    import pedalboard  # only a stretched metatrack needs Rubber Band: not loaded on import

    audio = tap(plan, m.id, True, frames, plan.max_block)
    semitones = m.pitch + (0.0 if m.preserve_pitch else 12.0 * math.log2(m.speed))
    out = pedalboard.time_stretch(
        np.ascontiguousarray(audio.T),
        float(plan.sample_rate),
        stretch_factor=m.speed,
        pitch_shift_in_semitones=semitones,
    )
    data = np.ascontiguousarray(out.T, dtype=np.float32)
    rate = plan.sample_rate
    if data.nbytes > m.limit:  # too large to hold: a file, streamed
        in_use = [s.path for s in cache.sources() if s.streamed]
        return store(m.folder, key, data, rate, -next(_ids), in_use)
    data.setflags(write=False)
    return Source(-next(_ids), Path(f"<stretched {m.name}>"), data, rate, rate, 2, key)


def stretched(project: Project, m: Metatrack) -> Source:
    """Return ``m``'s subtree rendered and passed through Rubber Band, from the cache or now."""
    key = signature(project, m)
    source = cache.get(key) or find(folder_for(project), key, project.sample_rate, -next(_ids))
    if source is None:
        plan, frames = subtree_plan(project, m)
        source = _stretch(plan, frames, _Transform(project, m, key), key)
    cache.put(key, source)
    return source


class StretchWorker:
    """Makes stretched renders for a live engine on a thread of its own.

    Called like `stretched` while a plan is compiled: a cached render is returned at
    once; otherwise the metatrack's subtree plan is compiled here (on the control side,
    so the worker never reads the model), queued, and the render the metatrack played
    until now is returned to play on. ``ready()`` is called (from the worker) when a new
    render is ready; the engine then compiles again. A metatrack never rendered before is
    rendered at once: there is nothing to play meanwhile. Stretched metatracks inside
    one are rendered through the worker too; a render made while an inner one was still
    on its way plays, but is not cached, and is made again once the inner one is ready.
    """

    def __init__(self, ready: Callable[[], None]) -> None:
        self._ready = ready
        self._latest: dict[int, Source] = {}
        self._wanted: dict[int, str] = {}
        self._stale = 0  # how often an old render was handed out for one on its way
        self._jobs: queue.Queue = queue.Queue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        #: What went wrong in renders on the worker, for the engine to report.
        self.failures: list[str] = []

    def __call__(self, project: Project, m: Metatrack) -> Source:
        """Return the render of ``m`` to play now (see the class)."""
        key = signature(project, m)
        source = cache.get(key) or find(folder_for(project), key, project.sample_rate, -next(_ids))
        if source is not None:
            cache.put(key, source)
        with self._lock:
            if source is not None:
                self._latest[m.id] = source
                return source
            old = self._latest.get(m.id)
            if old is not None and self._wanted.get(m.id) == key:
                self._stale += 1
                return old  # already on its way
        stale = self._stale
        plan, frames = subtree_plan(project, m, stretch=self)
        provisional = self._stale != stale  # an inner render it plays is on its way
        if old is None:
            source = _stretch(plan, frames, _Transform(project, m, key, not provisional), key)
            self._keep(m.id, key, source, provisional)
            return source
        with self._lock:
            self._wanted[m.id] = key
            self._stale += 1
        self._jobs.put((plan, frames, _Transform(project, m, key, not provisional), key, provisional))
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="mixtree-stretch", daemon=True)
            self._thread.start()
        return old

    def _keep(self, ident: int, key: str, source: Source, provisional: bool) -> None:
        if not provisional:
            cache.put(key, source)
        with self._lock:
            self._latest[ident] = source
            if self._wanted.get(ident) == key:
                del self._wanted[ident]

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            plan, frames, m, key, provisional = job
            with self._lock:
                if self._wanted.get(m.id) != key:
                    continue  # a later edit asked for another render already
            try:
                source = _stretch(plan, frames, m, key)
            except Exception as exc:  # report it, keep the old render, let a later edit retry
                self.failures.append(f"stretched render of {m.name!r} failed: {type(exc).__name__}: {exc}")
                with self._lock:
                    self._wanted.pop(m.id, None)
                continue
            self._keep(m.id, key, source, provisional)
            self._ready()

    @property
    def busy(self) -> bool:
        """Return True while a render is queued or being made."""
        with self._lock:
            return bool(self._wanted)

    def close(self) -> None:
        """Stop the worker thread (after the render it is making; queued ones are dropped)."""
        if self._thread is not None:
            with self._lock:
                self._wanted.clear()
            self._jobs.put(None)
            self._thread.join()
            self._thread = None
