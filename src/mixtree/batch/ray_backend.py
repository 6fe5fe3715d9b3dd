"""The Ray back end: the same jobs as Ray tasks, on a cluster or a local Ray instance.

Install it with ``pip install 'mixtree[ray]'``. ``address`` (or ``RAY_ADDRESS``) names
the cluster; without either, Ray starts on this machine. Jobs travel through Ray's object
store (a project held in memory with them); project files and media are read, and
outputs written, by the workers at the paths the jobs name, so on a cluster those paths
must be shared. Ray reuses its worker processes, so kernels compile once per worker; a
task whose worker dies is retried once by Ray, then reported as failed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from mixtree.batch.jobs import Job, Snapshot
from mixtree.batch.runner import Row, failed_row, run_job, start_worker
from mixtree.errors import MissingDependencyError

#: What a job whose project travels apart from it names instead (its task takes the project).
SENT = Snapshot(b"", "sent apart")

#: What to tell someone who asks for Ray without it.
INSTALL = "cluster='ray' needs Ray, which is not installed: pip install 'mixtree[ray]'"


def load_ray() -> Any:
    """Return the ``ray`` module, or raise `MissingDependencyError` saying how to install it."""
    try:
        import ray
    except ImportError as exc:
        raise MissingDependencyError(INSTALL) from exc
    return ray


def ray_job(job: Job, imports: Sequence[str], attempt: int = 1, snapshot: Snapshot | None = None) -> Row:
    """Run ``job`` in a Ray worker (the body of the remote task), over ``snapshot`` when its
    project travelled apart from it (once through the object store for all its jobs)."""
    start_worker(imports)
    return run_job(job if snapshot is None else replace(job, project=snapshot), attempt)


def run_ray(
    jobs: Sequence[Job],
    emit: Callable[[Row], None],
    address: str | None = None,
    imports: Sequence[str] = (),
    retries: int = 1,
) -> None:
    """Run ``jobs`` as Ray tasks, calling ``emit(row)`` as each ends.

    Connects to ``address`` unless Ray is initialised already (then that cluster is
    used as it is); a Ray instance this call started is shut down at the end.
    """
    ray = load_ray()
    started = not ray.is_initialized()
    if started:
        ray.init(address=address, log_to_driver=False, include_dashboard=False)
    try:
        task = ray.remote(max_retries=retries, retry_exceptions=False)(ray_job)
        stored: dict[int, Any] = {}  # a project in memory goes into the object store once
        refs = {}
        for job in jobs:
            if isinstance(job.project, Snapshot):
                ref = stored.get(id(job.project))
                if ref is None:
                    ref = stored[id(job.project)] = ray.put(job.project)
                refs[task.remote(replace(job, project=SENT), list(imports), 1, ref)] = job
            else:
                refs[task.remote(job, list(imports))] = job
        try:
            while refs:
                done, _ = ray.wait(list(refs), num_returns=min(len(refs), 8), timeout=0.5)
                for ref in done:
                    job = refs.pop(ref)
                    try:
                        row = ray.get(ref)
                    except (ray.exceptions.WorkerCrashedError, ray.exceptions.NodeDiedError) as exc:
                        why = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                        died = f"WorkerDied: its worker died on each of {retries + 1} attempts ({why})"
                        row = failed_row(job, retries + 1, died)
                    except ray.exceptions.RayError as exc:
                        row = failed_row(job, 1, f"{type(exc).__name__}: {exc}")
                    emit(row)
        except BaseException:
            for ref in refs:
                ray.cancel(ref, force=True)
            raise
    finally:
        if started:
            ray.shutdown()
