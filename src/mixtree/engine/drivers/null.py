"""The null driver: a thread that calls the engine at real-time pace, with no device."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import numpy as np


class NullDriver:
    """Calls ``render`` once per block period from its own thread and discards the audio.

    A block that starts more than one period late counts as an xrun, and the clock
    resynchronises instead of bursting to catch up. ``last_block`` keeps the latest
    output for whoever wants to look.
    """

    name = "null"
    label = "null"

    def __init__(
        self, render: Callable[[np.ndarray], None], xrun: Callable[[], None], sample_rate: int, blocksize: int
    ) -> None:
        self._render = render
        self._xrun = xrun
        self.period = blocksize / sample_rate
        self.latency = self.period
        self.last_block = np.zeros((blocksize, 2), dtype=np.float32)
        self._running = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the pacing thread."""
        if self._thread is not None:
            return
        self._running.set()
        self._thread = threading.Thread(target=self._run, name="mixtree-null-audio", daemon=True)
        self._thread.start()

    @property
    def alive(self) -> bool:
        """Return True while the pacing thread runs."""
        return self._thread is not None and self._thread.is_alive()

    def detach(self) -> None:
        """Stop calling back after the block under way, without waiting for it."""
        self._running.clear()

    def stop(self) -> None:
        """Stop the pacing thread and wait for it."""
        self._running.clear()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        out = self.last_block
        deadline = time.perf_counter()
        while self._running.is_set():
            self._render(out)
            deadline += self.period
            delay = deadline - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            elif -delay > self.period:
                self._xrun()
                deadline = time.perf_counter()
