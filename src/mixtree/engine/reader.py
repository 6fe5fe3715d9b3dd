"""The engine's reader thread: keeps the windows of streamed sources filled ahead of playback.

One per engine, on the control side. It services the plan playing and the plan waiting
to be taken (`Streams.service`: where each streamed clip plays, then ``LOOKAHEAD``
seconds ahead at its rate, in 8192-frame chunks), most urgent first, and sleeps when
all is ready. The audio thread never waits for it: a window it has not filled in time
plays silence (see `mixtree.dsp.windows`). Decoding releases the GIL (libsndfile through
cffi, soxr), so the audio thread runs beside it; what holds the GIL (the Python working
out what to fill, a fill's bookkeeping, the non-finite scan) is kept to tens of
microseconds a buffer, since a callback that wants the GIL then waits for it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from mixtree.render.plan import RenderPlan

#: Seconds the thread sleeps when every window is ready (a seek wakes it at once).
IDLE = 0.04

#: Seconds it sleeps while no plan streams anything (a plan that does wakes it).
ASLEEP = 0.5

#: Buffers filled per look at a plan: each look works out every reference's wants (Python
#: holding the GIL the audio thread may be waiting for), so not too few; a seek ends one
#: early (`Streams.aim`), and a plan waiting to be taken is looked at between them.
BATCH = 8


class Reader:
    """A thread filling the streamed windows of the plans ``plans()`` returns: where
    ``heard()`` says the audio thread reads (an output frame), where ``playhead()`` says
    playback goes (a seek's target at once) and where ``loop()`` says a loop jumps back
    to (-1 for none)."""

    def __init__(
        self,
        plans: Callable[[], tuple[RenderPlan, ...]],
        loop: Callable[[], int],
        playhead: Callable[[], int],
        heard: Callable[[], int],
    ) -> None:
        self._plans = plans
        self._loop = loop
        self._playhead = playhead
        self._heard = heard
        self._stop = threading.Event()
        self._wake = threading.Event()
        self.cpu_seconds = 0.0  # CPU time the thread spent, for the benchmark
        self.fills = 0  # buffers filled
        self.warnings: list[str] = []  # sources that went offline, for `Engine.events`
        self._trouble = ""  # the last unexpected error, said once
        self._thread = threading.Thread(target=self._run, name="mixtree-reader", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Look at the plans now (a seek, a new plan)."""
        self._wake.set()

    def close(self) -> None:
        """Stop the thread and close the files its plans hold open."""
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=5.0)

    def ready(self, timeout: float = 5.0) -> bool:
        """Wait until every streamed window wanted now is filled; return False after ``timeout``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(p.streams is None or p.streams.all_ready() for p in self._plans()):
                return True
            self._wake.set()
            time.sleep(0.002)
        return False

    def _run(self) -> None:
        start = time.thread_time()
        while not self._stop.is_set():
            self._wake.clear()  # before looking: a wake while it looks is kept for the wait
            done = 0
            streaming = False
            loop = self._loop()
            for plan in self._plans():
                streams = plan.streams
                if streams is not None:
                    streaming = True
                    streams.report = self.warnings  # reported by `Engine.events`, not warned here
                    streams.loop_at = loop
                    streams.heard, streams.playhead = self._heard(), self._playhead()
                    try:
                        done += streams.service(budget=BATCH)
                    except Exception as exc:  # the thread must outlive any one plan's trouble
                        message = f"the disk reader: {type(exc).__name__}: {exc}"
                        if message != self._trouble:  # said once, not every time it looks
                            self._trouble = message
                            self.warnings.append(message)
                        time.sleep(IDLE)
            self.fills += done
            self.cpu_seconds = time.thread_time() - start
            if not done:
                self._wake.wait(IDLE if streaming else ASLEEP)
