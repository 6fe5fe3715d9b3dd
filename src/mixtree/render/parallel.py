"""Worker threads for offline renders: a tree level's tracks split between cores.

The tracks of one level of the tree each run a chain of their own (`ParallelChains` in
`mixtree.render.stages`), so running groups of them on threads at the same time gives
the same samples as one thread, bit for bit. Their kernels run as variants that release
the GIL (`mixtree.dsp.jit.nogil`); the engine's kernels keep it. How many threads an
offline render uses is its ``threads`` argument, else ``MIXTREE_THREADS``, else one
(`threads_setting`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

#: The environment variable that sets how many threads offline renders use.
THREADS_VARIABLE = "MIXTREE_THREADS"

#: The fewest tracks a group gets (fewer: not worth a thread's hand-over).
MIN_ROWS = 2

#: Frames a block at least has in a render on several threads, so that each hand-over
#: to the workers (some 100 µs here: a thread woken and waited for) carries enough work
#: (every block size gives the same samples). Measured with `bench` (32 tracks × 4
#: effects, 2 threads): 2048 frames 0.38-0.43 s, 4096 0.33-0.38 s, 8192 0.29-0.32 s.
THREADED_BLOCK = 8192

_pools: dict[int, ThreadPoolExecutor] = {}


def threads_setting(threads: int | None = None) -> int:
    """Return how many threads an offline render uses: ``threads`` if given, else
    ``MIXTREE_THREADS`` (``0`` or ``all``: every core this process may use), else 1."""
    if threads is None:
        value = os.environ.get(THREADS_VARIABLE, "1").strip().lower()
        if value in ("0", "all"):
            return len(os.sched_getaffinity(0))
        try:
            threads = int(value)
        except ValueError:
            raise ValueError(f"{THREADS_VARIABLE} must be a whole number of threads or 'all', not {value!r}") from None
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads must be a whole number, 1 or more, not {threads!r}")
    return threads


def offline_setup(blocksize: int, threads: int | None) -> tuple[int, int]:
    """Return the block size and thread count an offline render uses, as asked."""
    n = threads_setting(threads)
    return (max(blocksize, THREADED_BLOCK) if n > 1 else blocksize), n


def run_all(calls: list[Callable[[], None]]) -> None:
    """Run ``calls``: the first on this thread, the others on worker threads at the same
    time; return when all are done (raising the first error any raised)."""
    pool = _pools.get(len(calls))
    if pool is None:
        pool = _pools[len(calls)] = ThreadPoolExecutor(len(calls) - 1, thread_name_prefix="mixtree-render")
    futures = [pool.submit(c) for c in calls[1:]]
    try:
        calls[0]()
    finally:
        for f in futures:
            f.result()
