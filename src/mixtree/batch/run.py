"""`render`: run a batch of jobs on a back end, with a manifest, resumption and progress."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mixtree.batch.jobs import Job, Snapshot
from mixtree.batch.local import run_local
from mixtree.batch.manifest import NAME, Manifest
from mixtree.batch.ray_backend import load_ray, run_ray
from mixtree.batch.report import Report
from mixtree.batch.runner import Row, sweep_partials

if TYPE_CHECKING:
    from rich.console import Console

#: The back ends `render` knows, by the name ``cluster`` takes.
CLUSTERS = ("local", "ray")


def manifest_path(jobs: Sequence[Job]) -> Path:
    """Return where a batch's manifest goes by default: the folder all its outputs share."""
    places = [Path(j.out).expanduser().resolve().parent for j in jobs if j.out is not None]
    places += [Path(j.stems).expanduser().resolve().parent for j in jobs if j.stems is not None]
    if not places:
        return Path(NAME).resolve()
    return Path(os.path.commonpath(places)) / NAME


def _absolute(job: Job) -> Job:
    """Return ``job`` with absolute paths: workers (Ray's above all) may run elsewhere."""

    def absolute(path: str | Path | None) -> str | None:
        return None if path is None else str(Path(path).expanduser().resolve())

    project = job.project if isinstance(job.project, Snapshot) else Path(absolute(job.project))  # type: ignore[arg-type]
    return replace(job, project=project, out=absolute(job.out), stems=absolute(job.stems))


def _check_outputs(jobs: Sequence[Job]) -> None:
    seen: dict[Path, int] = {}
    for job in jobs:
        for path in [*job.outputs, *([Path(job.stems)] if job.stems is not None else [])]:
            path = path.expanduser().resolve()
            if path in seen:
                raise ValueError(f"jobs {seen[path]} and {job.index} both write '{path}': give each job its own output")
            seen[path] = job.index


def render(
    jobs: Iterable[Job],
    workers: int | None = None,
    cluster: str | None = None,
    *,
    address: str | None = None,
    manifest: str | Path | None = None,
    resume: bool = True,
    progress: bool | Console | None = None,
    imports: Sequence[str] = (),
    retries: int = 1,
) -> Report:
    """Render ``jobs``: on a local process pool, or on Ray with ``cluster="ray"``.

    Parameters
    ----------
    jobs
        `Job` s, as `grid` makes them.
    workers
        Local worker processes; None: one per core this process may use.
    cluster
        ``"ray"`` to run the jobs as Ray tasks (``pip install 'mixtree[ray]'``); None or
        ``"local"`` for the local pool.
    address
        The Ray cluster's address (default: ``RAY_ADDRESS``, else a Ray started here).
    manifest
        The JSON Lines manifest (default: ``manifest.jsonl`` in the folder the outputs
        share); ``manifest.parquet`` is written beside it when pyarrow is installed.
    resume
        Skip jobs the manifest records as done whose files still hold what they wrote.
    progress
        Show a progress bar (a `rich.console.Console` to draw on); None: when stderr is a terminal.
    imports
        Modules each worker imports before loading projects (where a project's own effects live).
    retries
        How many times a job whose worker died is run again before it is reported.

    Returns
    -------
    Report
        Every job's manifest row, in job order, and the counts.

    A job that fails is reported in its row and the others go on. Ctrl+C stops the
    workers (a job in flight leaves no partial file), rewrites the manifest with every
    job that finished, and raises ``KeyboardInterrupt``.
    """
    jobs = list(jobs)
    if len({j.index for j in jobs}) < len(jobs):  # jobs made by hand: numbered in the order given
        jobs = [replace(j, index=k) for k, j in enumerate(jobs)]
    jobs = sorted((_absolute(j) for j in jobs), key=lambda j: j.index)
    if cluster not in (None, *CLUSTERS):
        raise ValueError(f"cluster must be one of {', '.join(CLUSTERS)} or None, not {cluster!r}")
    if cluster == "ray":
        load_ray()  # before any work: say how to install it
    _check_outputs(jobs)
    book = Manifest(manifest if manifest is not None else manifest_path(jobs))
    keys = [job.key for job in jobs]
    key_of = {job.index: key for job, key in zip(jobs, keys, strict=True)}
    rows: dict[str, Row] = {}
    todo = []
    for job, key in zip(jobs, keys, strict=True):
        row = book.done(job, key) if resume else None
        if row is not None:
            rows[key] = row
        else:
            todo.append(job)
    skipped = len(jobs) - len(todo)
    bar: Any = _quiet()
    if sys.stderr.isatty() if progress is None else progress:
        # rich only where a bar is drawn: importing it costs ``import mixtree`` time
        from rich.console import Console

        from mixtree.batch.progress import batch_progress

        bar = batch_progress(len(todo), skipped, progress if isinstance(progress, Console) else Console(stderr=True))
    t0 = time.perf_counter()
    try:
        with bar as advance:

            def emit(row: Row) -> None:
                row["key"] = key_of[row["index"]]  # as the project file was when the batch began
                book.append(row)
                rows[row["key"]] = row
                advance(row)

            if cluster == "ray":
                run_ray(todo, emit, address, imports, retries)
            else:
                run_local(todo, emit, workers, imports, retries)
    finally:
        sweep_partials(todo)  # what a worker killed mid-write left: never a half file beside the others
        parquet = book.close(keys)
    return Report(
        [rows[k] for k in keys if k in rows],
        skipped=skipped,
        elapsed=time.perf_counter() - t0,
        manifest=book.path,
        parquet=parquet,
        backend=cluster or "local",
    )


class _quiet:
    """No progress bar: a callback that does nothing."""

    def __enter__(self) -> object:
        return lambda row: None

    def __exit__(self, *exc: object) -> None:
        return None
