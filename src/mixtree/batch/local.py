"""The local back end: a pool of spawned worker processes, each reused for many jobs.

Each worker is a fresh interpreter (``spawn``: no state inherited from the caller),
compiles the kernels on its first job and keeps them for the rest; every job loads its
project anew (`mixtree.batch.runner`). The pool hands a worker one job at a time, so
when a worker dies (a plugin crashes it, the system kills it) the pool knows which job
it held: that job is run again once on a new worker, then reported as failed.

Ctrl+C reaches the workers too; they ignore it, and the pool stops them (SIGTERM: a job
in flight removes its partial files) before it lets the interrupt go on.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
from collections import deque
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection, wait
from typing import Any

from mixtree.batch.jobs import Job
from mixtree.batch.runner import Row, failed_row, import_modules, run_job, start_worker

#: Seconds a worker has to finish after it is told to stop, before it is killed.
STOP_GRACE = 5.0


def default_workers() -> int:
    """Return how many workers "all local cores" means: the CPUs this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _terminated(*_: Any) -> None:
    sys.exit(143)  # SystemExit unwinds the job, whose ``finally`` removes partial files


def worker_main(conn: Connection, imports: Sequence[str]) -> None:
    """Run jobs sent over ``conn`` until it closes or sends None (a worker process's body)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is the pool's to handle
    signal.signal(signal.SIGTERM, _terminated)
    start_worker(imports)
    while True:
        try:
            message = conn.recv()
        except EOFError:
            return
        if message is None:
            return
        job, attempt = message
        conn.send(run_job(job, attempt))


class _Worker:
    """One worker process, its end of the pipe and the job it holds."""

    def __init__(self, context: Any, imports: Sequence[str]) -> None:
        self.conn, child = context.Pipe()
        self.process = context.Process(target=worker_main, args=(child, list(imports)), daemon=True)
        self.process.start()
        child.close()
        self.job: tuple[Job, int] | None = None

    def give(self, job: Job, attempt: int) -> None:
        self.job = (job, attempt)
        self.conn.send((job, attempt))

    def take(self) -> Row | None:
        """Return the finished job's row, or None if the worker died instead."""
        try:
            if self.conn.poll():
                row = self.conn.recv()
                self.job = None
                return row
        except (EOFError, OSError):
            pass
        if self.process.is_alive():
            raise BlockingIOError  # woken for nothing: not done, not dead
        return None

    def stop(self, graceful: bool) -> None:
        if self.process.is_alive():
            try:
                if graceful and self.job is None:
                    self.conn.send(None)
                else:
                    self.process.terminate()
            except OSError:
                pass
            self.process.join(STOP_GRACE)
            if self.process.is_alive():
                self.process.kill()
                self.process.join()
        self.conn.close()


def _death(process: Any) -> str:
    process.join(1.0)
    code = process.exitcode
    if code is not None and code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit status {code}"


def run_local(
    jobs: Sequence[Job],
    emit: Callable[[Row], None],
    workers: int | None = None,
    imports: Sequence[str] = (),
    retries: int = 1,
) -> None:
    """Run ``jobs`` on ``workers`` spawned processes (default: every core), calling
    ``emit(row)`` as each ends.

    A job whose worker dies is run again (``retries`` times), then reported as failed.
    """
    count = default_workers() if workers is None else workers
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"workers must be a whole number >= 1, not {workers!r}")
    if not jobs:
        return
    import_modules(imports)  # a module that does not import fails here, once, not in every worker
    context = multiprocessing.get_context("spawn")
    pending = deque((job, 1) for job in jobs)
    size = min(count, len(jobs))
    pool: list[_Worker] = []
    graceful = False
    try:
        while pending or any(w.job for w in pool):
            while len(pool) < min(size, len(pending) + sum(w.job is not None for w in pool)):
                pool.append(_Worker(context, imports))  # at the start, and in place of one that died
            for w in list(pool):
                if w.job is None and pending:
                    job, attempt = pending.popleft()
                    try:
                        w.give(job, attempt)
                    except OSError:  # it died while idle: the job waits for the worker in its place
                        pending.appendleft((job, attempt))
                        w.job = None
                        w.stop(graceful=False)
                        pool.remove(w)
                    except Exception as exc:  # noqa: BLE001 - a job that cannot be sent (a value that does not pickle)
                        w.job = None
                        emit(failed_row(job, attempt, f"{type(exc).__name__}: {exc}"))
            busy = [w for w in pool if w.job is not None]
            ready = set(wait([w.conn for w in busy] + [w.process.sentinel for w in busy], timeout=1.0))
            for w in busy:
                if w.conn not in ready and w.process.sentinel not in ready:
                    continue
                try:
                    row = w.take()
                except BlockingIOError:
                    continue
                if row is not None:
                    emit(row)
                    continue
                job, attempt = w.job  # type: ignore[misc]
                why = _death(w.process)
                if attempt <= retries:
                    pending.appendleft((job, attempt + 1))
                else:
                    emit(failed_row(job, attempt, f"WorkerDied: its worker died ({why}) on each of {attempt} attempts"))
                w.job = None
                w.stop(graceful=False)
                pool.remove(w)
        graceful = True
    except KeyboardInterrupt:
        for w in pool:  # rows sent before the interrupt still go on record
            try:
                if w.job is not None and w.conn.poll():
                    emit(w.conn.recv())
                    w.job = None
            except (EOFError, OSError):
                pass
        raise
    finally:
        for w in pool:
            w.stop(graceful)
