"""Run one job where it lands (a pool worker, a Ray task): load, set, render, measure, write.

Each job starts from a fresh load of its project, so nothing one job set leaks into the
next; the process stays, so its compiled kernels serve every job it runs. A job never
raises: what went wrong is its row's ``error``.
"""

from __future__ import annotations

import ctypes
import gc
import glob
import hashlib
import importlib
import math
import os
import shutil
import socket
import time
import traceback
import warnings
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from mixtree.batch.addresses import set_parameter
from mixtree.batch.jobs import Job, load_project
from mixtree.batch.loudness import integrated_loudness
from mixtree.errors import MediaError
from mixtree.io.audio_file import write
from mixtree.jobs.stems import export_stems
from mixtree.model.project import Project
from mixtree.render.offline import render
from mixtree.units import db_to_gain

#: A manifest row: plain JSON values (see `mixtree.batch.manifest`).
Row = dict[str, Any]


def worker_name() -> str:
    """Return what rows call this process: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


def rss_mb() -> float:
    """Return this process's resident memory now, MiB (0 where the system does not say)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return 0.0


def _malloc_trim() -> Callable[[int], int] | None:
    try:
        return ctypes.CDLL(None).malloc_trim  # glibc
    except (AttributeError, OSError):
        return None


_TRIM = _malloc_trim()


#: Whether this process is a batch worker (see `start_worker`), and has run a job yet.
_worker = {"on": False, "warm": False}


def start_worker(imports: Sequence[str] = ()) -> None:
    """Make this process a batch worker: import ``imports`` (where a project's own effects
    live), and let every job end by handing its memory back (`release_memory`)."""
    import_modules(imports)
    _worker["on"] = True


def release_memory() -> None:
    """Free what the last job left behind, as a worker does after each one.

    A loaded project holds reference cycles (its tracks point back at it), so its decoded
    media wait for the cyclic collector, which runs its full pass rarely: hundreds of MiB
    pile up. A full pass over a warm worker's objects (its compiled kernels) takes 0.15 s,
    so after its first job a worker freezes what exists then, and each later pass looks at
    new objects only (under a millisecond). Then glibc, which keeps freed pages for reuse,
    is asked to return them (``malloc_trim``; also under a millisecond).
    """
    gc.collect()
    if not _worker["warm"]:
        gc.freeze()
        _worker["warm"] = True
    if _TRIM is not None:
        _TRIM(0)


def file_digest(path: str | Path) -> str:
    """Return the sha256 of a file's bytes, hex."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def import_modules(modules: Sequence[str]) -> None:
    """Import ``modules`` (those defining a project's own effects) before loading projects."""
    for name in modules:
        importlib.import_module(name)


def _partial(path: Path) -> Path:
    # beside the target, so the rename is atomic; the extension kept, as it picks the format
    return path.with_name(f".{path.stem}.part-{os.getpid()}{path.suffix}")


def sweep_partials(jobs: Iterable[Job]) -> int:
    """Remove what workers killed while writing (a Ray task cancelled by force, a SIGKILL)
    left of ``jobs``' outputs: their hidden part files and folders. Return how many."""
    removed = 0
    for job in jobs:
        for target, pattern in (
            (job.out, lambda p: f".{glob.escape(p.stem)}.part-*{glob.escape(p.suffix)}"),
            (job.stems, lambda p: f".{glob.escape(p.name)}.part-*"),
        ):
            if target is None:
                continue
            path = Path(target).expanduser()
            for left in path.parent.glob(pattern(path)) if path.parent.is_dir() else ():
                if left.is_dir():
                    shutil.rmtree(left, ignore_errors=True)
                else:
                    left.unlink(missing_ok=True)
                removed += 1
    return removed


def _apply(project: Project, job: Job) -> None:
    for address, value in job.parameters.items():
        set_parameter(project, address, value)


def _write_mix(job: Job, audio: np.ndarray, rate: int) -> Path:
    path = Path(job.out).expanduser()  # type: ignore[arg-type]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _partial(path)
    try:
        write(tmp, audio, rate, job.subtype)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _write_stems(project: Project, job: Job) -> list[Path]:
    folder = Path(job.stems).expanduser()  # type: ignore[arg-type]
    tmp = folder.with_name(f".{folder.name}.part-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        made = export_stems(
            project, tmp, job.start, job.duration, subtype=job.subtype, extension=job.stem_type,
            blocksize=job.blocksize,
        )  # fmt: skip
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for p in made:
            os.replace(p, folder / p.name)
            paths.append(folder / p.name)
        return paths
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run_job(job: Job, attempt: int = 1) -> Row:
    """Render ``job`` and return its manifest row; never raise (``error`` says what failed)."""
    t0 = time.perf_counter()
    row: Row = {
        **_head(job),
        "seconds": None,
        "peak": None,
        "peak_db": None,
        "loudness_lufs": None,
        "gain_db": None,
        "render_time": None,
        "worker": worker_name(),
        "attempts": attempt,
        "rss_mb": None,
        "error": None,
        "finished": None,
    }
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            project = load_project(job.project)
            offline = project.pool.offline
            if offline:  # a render of silence in their place is not the job asked for
                raise MediaError(offline[0].path, f"offline ({offline[0].offline}); {len(offline)} source(s) in all")
            _apply(project, job)
            audio = render(project, job.start, job.duration, blocksize=job.blocksize)
        rate = project.sample_rate
        gain = 1.0
        if job.normalize_lufs is not None:
            measured = integrated_loudness(audio, rate)
            if math.isfinite(measured):
                gain = float(db_to_gain(job.normalize_lufs - measured))
                audio *= np.float32(gain)
        outputs = []
        if job.out is not None:
            outputs.append(_write_mix(job, audio, rate))
        if job.stems is not None:
            outputs += _write_stems(project, job)
        peak = float(np.max(np.abs(audio))) if audio.size else 0.0
        loudness = integrated_loudness(audio, rate)
        row.update(
            outputs=[str(p) for p in outputs],
            sha256=[file_digest(p) for p in outputs],
            seconds=audio.shape[0] / rate,
            peak=peak,
            peak_db=20 * math.log10(peak) if peak > 0 else None,
            loudness_lufs=loudness if math.isfinite(loudness) else None,
            gain_db=20 * math.log10(gain),
        )
        notes = sorted({str(w.message) for w in caught if issubclass(w.category, UserWarning)})
        if notes:
            row["warnings"] = notes
    except Exception as exc:  # noqa: BLE001 - a job's failure is data: its row says it
        row["error"] = f"{type(exc).__name__}: {exc}"
        row["traceback"] = traceback.format_exc(limit=-6)
    row["render_time"] = time.perf_counter() - t0
    if _worker["on"]:
        project = audio = None  # noqa: F841 - let go of the project, its media and its render first
        release_memory()
    row["rss_mb"] = round(rss_mb(), 1)
    row["finished"] = datetime.now(UTC).isoformat(timespec="milliseconds")
    return row


def _head(job: Job) -> Row:
    # what every row of ``job`` starts with, rendered or not
    return {
        "index": job.index,
        "key": job.key,
        "project": job.project_name,
        "parameters": dict(job.parameters),
        "outputs": [],
        "sha256": [],
    }


def failed_row(job: Job, attempts: int, error: str) -> Row:
    """Return the row of a job that ran nowhere to its end (its worker died, say)."""
    return {
        **_head(job),
        "worker": None,
        "attempts": attempts,
        "error": error,
        "finished": datetime.now(UTC).isoformat(timespec="milliseconds"),
    }
