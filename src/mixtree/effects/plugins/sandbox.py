"""Hosted plugins in a worker process: `SandboxedPlugin` runs any `PluginInstance` in
``python -m mixtree.effects.plugins.sandbox_worker``, so a plugin that crashes or hangs
takes down its worker, never the caller.

Design. Metadata, state, activation and parameter reads go over a control socket
(pickled requests, control side only). Audio goes through shared memory (an anonymous
``memfd`` both processes map: input and output blocks, parameter changes, MIDI events)
with a synchronous handshake per block: the caller writes one byte to the *go* pipe
and waits, with ``poll`` and a deadline, for one byte on the *done* pipe. The caller
makes no arrays in steady state; a worker that dies closes the done pipe (EOF: noticed
at once, its exit signal names the crash) and one that misses the deadline is killed.
Being synchronous, the sandbox adds no latency: `latency` is the plugin's own. Workers
run in their own session, so a Ctrl-C meant for the caller does not reach them. Linux
only (``memfd_create``).
"""

from __future__ import annotations

import contextlib
import mmap
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import weakref
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np

import mixtree
from mixtree.effects.parameters import Parameter
from mixtree.effects.plugins.base import MidiBlock, PluginInfo
from mixtree.errors import PluginError

__all__ = ["DEADLINE", "SandboxedPlugin"]

#: Seconds a worker may take over one block before it counts as hanging.
DEADLINE = 0.5
#: Seconds a worker may take to start (load the plugin) or answer a control request.
CONTROL_DEADLINE = 20.0
#: How many MIDI events one block passes on (more are dropped).
MIDI_CAPACITY = 1024
#: Bytes kept for the message of an exception the plugin's process raised.
ERROR_BYTES = 512

# The header's int64 slots.
FRAMES, SEQ, DONE, LATENCY, PARAMS, MIDI_COUNT, HAS_MIDI, ERROR, RESTART = range(9)
HEADER = 9

GO = b"\x01"


def layout(parameters: int, inputs: int, outputs: int, max_block: int) -> dict[str, tuple[int, str, tuple[int, ...]]]:
    """Return the shared block's arrays as name → (byte offset, dtype, shape); both sides
    compute it from the same numbers."""
    parts = [
        ("header", "<i8", (HEADER,)),
        ("param_index", "<i8", (max(parameters, 1),)),
        ("param_value", "<f8", (max(parameters, 1),)),
        ("midi_frame", "<i4", (MIDI_CAPACITY,)),
        ("midi_data", "u1", (MIDI_CAPACITY, 3)),
        ("midi_size", "u1", (MIDI_CAPACITY,)),
        ("error", "u1", (ERROR_BYTES,)),
        ("inputs", "<f4", (max_block, inputs)),
        ("outputs", "<f4", (max_block, outputs)),
    ]
    out, offset = {}, 0
    for name, dtype, shape in parts:
        out[name] = (offset, dtype, shape)
        size = int(np.prod(shape)) * np.dtype(dtype).itemsize
        offset += -(-size // 64) * 64  # every array on its own cache line
    out["size"] = (offset, "", ())
    return out


def views(memory: mmap.mmap, places: dict[str, tuple[int, str, tuple[int, ...]]]) -> dict[str, np.ndarray]:
    """Return the arrays `layout` places in ``memory``."""
    return {
        name: np.ndarray(shape, dtype, buffer=memory, offset=offset)
        for name, (offset, dtype, shape) in places.items()
        if name != "size"
    }


def midi_view(arrays: dict[str, np.ndarray]) -> MidiBlock:
    """Return the `MidiBlock` the shared block holds."""
    count = arrays["header"][MIDI_COUNT : MIDI_COUNT + 1]
    return MidiBlock(arrays["midi_frame"], arrays["midi_data"], arrays["midi_size"], count)


class _Worker:
    """One worker process and the channels to it; made and closed on the control side."""

    def __init__(self, source: str, max_block: int) -> None:
        ours, theirs = socket.socketpair()
        go_r, go_w = os.pipe()
        done_r, done_w = os.pipe()
        self.memfd = os.memfd_create("mixtree-sandbox", os.MFD_CLOEXEC)
        child = [theirs.fileno(), go_r, done_w, self.memfd]
        root = str(Path(mixtree.__file__).resolve().parents[1])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
        command = [sys.executable, "-m", "mixtree.effects.plugins.sandbox_worker", *map(str, child), str(max_block)]
        try:
            # the plugin's own printing goes to stderr, never into the caller's stdout
            self.proc = subprocess.Popen(
                [*command, source],
                stdin=subprocess.DEVNULL,
                stdout=2,
                pass_fds=child,
                close_fds=True,
                env=env,
                start_new_session=True,
            )
        finally:
            theirs.close()
            os.close(go_r)
            os.close(done_w)
        self.conn = Connection(ours.detach())
        self.go, self.done = go_w, done_r
        self.poller = select.poll()
        self.poller.register(done_r, select.POLLIN)
        self.memory: mmap.mmap | None = None
        self.arrays: dict[str, np.ndarray] = {}
        self.closed = False
        fds = [self.go, self.done, self.memfd]
        self._finalizer = weakref.finalize(self, _kill, self.proc, fds, self.conn)

    def map(self, size: int, places: dict[str, tuple[int, str, tuple[int, ...]]]) -> None:
        """Map the shared block the worker sized."""
        self.memory = mmap.mmap(self.memfd, size)
        self.arrays = views(self.memory, places)

    def exit_reason(self, wait: float) -> str:
        """Return how the worker ended, waiting up to ``wait`` seconds (killing it after)."""
        try:
            code = self.proc.wait(wait)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return "closed its pipes without exiting (killed)"
        if code in (-signal.SIGKILL, -signal.SIGTERM):
            return f"was killed ({signal.Signals(-code).name})"
        if code < 0:
            return f"crashed ({signal.Signals(-code).name})"
        return f"exited with status {code}"

    def kill(self) -> None:
        """Kill the worker at once (it does not answer)."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.proc.pid, signal.SIGKILL)

    def close(self) -> None:
        """Kill the worker if it still runs and close every channel."""
        if not self.closed:
            self.closed = True
            self._finalizer()


def _kill(proc: subprocess.Popen, fds: list[int], conn: Connection) -> None:
    if proc.poll() is None:
        proc.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(5.0)
    for fd in fds:
        with contextlib.suppress(OSError):
            os.close(fd)
    conn.close()


class SandboxedPlugin:
    """A plugin run in a worker process, as a `PluginInstance`.

    ``source`` is what `mixtree.effects.plugin.open_plugin` takes. `process` waits for
    the worker (synchronously: no added latency) up to ``deadline`` seconds; if the
    worker crashes or misses the deadline, it is killed, `process` writes silence and
    raises `PluginError`, and ``failed`` says what happened until `recover` starts a new
    worker with the last state saved and the parameter values set since. Blocks hold at
    most ``max_block`` frames. `process`, `set_parameter` (while active) and `latency`
    are audio-thread safe; the rest runs on one control thread.

    Raises
    ------
    PluginError
        The plugin does not load in the worker, or the worker does not start.
    """

    def __init__(self, source: str, deadline: float = DEADLINE, max_block: int = 8192) -> None:
        if not deadline > 0:
            raise ValueError(f"deadline must be above 0 s, not {deadline!r}")
        if max_block < 1:
            raise ValueError(f"max_block must be at least 1, not {max_block!r}")
        self.source = str(source)
        self.deadline = float(deadline)
        self.max_block = int(max_block)
        #: Why the worker was lost ("plugin 'x': crashed (SIGSEGV)"), or None while it works.
        self.failed: str | None = None
        self._why = ""
        self._lock = threading.Lock()  # one control request at a time
        self._active: tuple[int, int] | None = None  # (sample rate, max block) while active
        self._state: bytes | None = None
        self._seq = 0
        self._worker: _Worker | None = self._start()
        n = len(self.parameters)
        self._index = {p.id: i for i, p in enumerate(self.parameters)}
        # values set since the last state loaded, given back to a recovered worker
        self._values = np.zeros(n, np.float64)
        self._known = np.zeros(n, np.bool_)
        # values set but not yet sent: a single-producer single-consumer ring of parameter
        # indexes, each queued at most once (flagged) and sent with its latest value
        self._pending = np.zeros(n, np.float64)
        self._queued = np.zeros(n, np.bool_)
        self._ring = np.zeros(max(n, 1), np.int64)
        self._head = self._tail = 0
        with contextlib.suppress(PluginError):  # a plugin that cannot save starts over on recovery
            self._state = self._call("save")

    # --- the worker ----------------------------------------------------------------------------

    def _start(self) -> _Worker:
        worker = _Worker(self.source, self.max_block)
        try:
            ready = worker.conn.poll(CONTROL_DEADLINE)
            reply = worker.conn.recv() if ready else None
        except (EOFError, OSError):
            reply = ("lost",)
        if reply is None or reply[0] != "ready":
            if reply is None:
                worker.kill()
                why = f"its worker did not start within {CONTROL_DEADLINE:g} s"
            elif reply[0] == "error":
                why = reply[2]
            else:
                why = f"its worker {worker.exit_reason(5.0)} while loading it"
            worker.close()
            raise PluginError(self.source, why)
        _, info, parameters, size, places = reply
        self.info: PluginInfo = info
        self.parameters: tuple[Parameter, ...] = parameters
        worker.map(size, places)
        return worker

    @property
    def pid(self) -> int:
        """Return the worker's process id."""
        return self._worker.proc.pid if self._worker is not None else -1

    def _fail(self, what: str) -> PluginError:
        error = PluginError(self.info.name, what)
        if self.failed is None:
            self._why = what
            self.failed = str(error)
        return error

    def _call(self, *request: Any) -> Any:
        """Send one control request to the worker and return its answer (control side)."""
        worker = self._worker
        if worker is None:
            raise PluginError(self.info.name, "is closed")
        if self.failed is not None:
            raise PluginError(self.info.name, f"{self._why}; recover() restarts it")
        return self._ask(worker, request)

    def _ask(self, worker: _Worker, request: tuple[Any, ...]) -> Any:
        with self._lock:
            try:
                worker.conn.send(request)
                if not worker.conn.poll(CONTROL_DEADLINE):
                    worker.kill()
                    raise self._fail(f"did not answer {request[0]!r} within {CONTROL_DEADLINE:g} s (killed)")
                reply = worker.conn.recv()
            except (EOFError, OSError):
                raise self._fail(worker.exit_reason(5.0)) from None
        if reply[0] == "ok":
            return reply[1]
        kind, message = reply[1], reply[2]
        if kind == "ValueError":
            raise ValueError(message)
        raise PluginError(self.info.name, message)

    def recover(self) -> None:
        """Start a new worker after a failure and give it the last state saved, the parameter
        values set since and the activation it had; does nothing while the worker works.

        Raises
        ------
        PluginError
            The plugin does not load again or refuses its state (it stays failed).
        """
        if self.failed is None or self._worker is None:
            return
        self._worker.close()
        worker = self._start()
        try:
            if self._state is not None:
                self._ask(worker, ("load", self._state))
            for i in np.flatnonzero(self._known):
                self._ask(worker, ("set", self.parameters[i].id, float(self._values[i])))
            if self._active is not None:
                self._ask(worker, ("activate", *self._active))
        except BaseException:
            worker.close()
            raise
        # values still queued go to the new worker with its next block: they are the latest
        self._worker = worker  # published whole before the audio thread may use it
        self.failed = None

    # --- the PluginInstance protocol -----------------------------------------------------------

    def activate(self, sample_rate: int, max_block: int) -> None:
        """Prepare to process at ``sample_rate`` in blocks of at most ``max_block`` frames."""
        if max_block > self.max_block:
            raise ValueError(f"{self.info.name} is sandboxed for blocks of up to {self.max_block} frames, "
                             f"not {max_block}")  # fmt: skip
        self._call("activate", int(sample_rate), int(max_block))
        self._active = (int(sample_rate), int(max_block))

    def deactivate(self) -> None:
        """Stop processing (tails and internal state may be dropped)."""
        if self._active is not None:
            self._active = None
            if self.failed is None:
                self._call("deactivate")

    def _param(self, ident: str) -> int:
        try:
            return self._index[ident]
        except KeyError:
            known = ", ".join(self._index) or "none"
            raise ValueError(f"{self.info.name} has no parameter {ident!r} (it has {known})") from None

    def set_parameter(self, ident: str, value: float) -> None:
        """Set parameter ``ident`` to ``value`` (its own unit); takes effect from the next
        `process`, or at once while inactive. Audio-thread safe while active."""
        i = self._param(ident)
        v = self.parameters[i].check(value)
        self._values[i] = v
        self._known[i] = True
        if self._active is None:
            if self.failed is None:
                self._call("set", ident, v)
            return
        self._pending[i] = v
        if not self._queued[i]:
            self._queued[i] = True
            self._ring[self._head % len(self._ring)] = i
            self._head += 1

    def get_parameter(self, ident: str) -> float:
        """Return parameter ``ident``'s value as the plugin holds it."""
        self._param(ident)
        return float(self._call("get", ident))

    def process(self, inputs: np.ndarray, outputs: np.ndarray, frames: int, midi: MidiBlock | None) -> None:
        """Run ``frames`` frames in the worker: float32 ``inputs[:frames]`` in, ``outputs[:frames]``
        out, ``midi`` on its frames. Audio-thread code: copies into and out of the shared
        block only; waits at most ``deadline`` seconds.

        Raises
        ------
        PluginError
            The worker crashed, missed the deadline or is lost since (``outputs`` silent), or
            the plugin's process raised.
        """
        if frames <= 0:
            return
        worker = self._worker
        if self.failed is not None or worker is None:
            outputs[:frames] = 0.0
            raise PluginError(self.info.name, self._why if worker is not None else "is closed")
        a = worker.arrays
        header = a["header"]
        if a["inputs"].shape[1]:
            a["inputs"][:frames] = inputs[:frames]
        k = 0
        ring, n = self._ring, len(self._ring)
        while self._tail != self._head:
            i = ring[self._tail % n]
            self._queued[i] = False  # before reading the value: a newer one queues again
            a["param_index"][k] = i
            a["param_value"][k] = self._pending[i]
            self._tail += 1
            k += 1
        header[PARAMS] = k
        if midi is None:
            header[HAS_MIDI] = 0
        else:
            m = min(int(midi.count[0]), MIDI_CAPACITY)
            a["midi_frame"][:m] = midi.frame[:m]
            a["midi_data"][:m] = midi.data[:m]
            a["midi_size"][:m] = midi.size[:m]
            header[MIDI_COUNT] = m
            header[HAS_MIDI] = 1
        self._seq += 1
        header[FRAMES] = frames
        header[SEQ] = self._seq
        try:
            os.write(worker.go, GO)
            end = time.monotonic() + self.deadline
            while True:
                if not worker.poller.poll(max(end - time.monotonic(), 0.0) * 1000.0):
                    worker.kill()
                    raise self._fail(f"did not answer within {self.deadline:g} s (killed)")
                if not os.read(worker.done, 1):
                    raise self._fail(worker.exit_reason(1.0))
                if header[DONE] == self._seq:
                    break
        except PluginError:
            outputs[:frames] = 0.0
            raise
        except OSError:  # a pipe the dead worker held
            outputs[:frames] = 0.0
            raise self._fail(worker.exit_reason(1.0)) from None
        if header[ERROR]:
            outputs[:frames] = 0.0
            text = bytes(a["error"]).rstrip(b"\x00").decode("utf-8", "replace")
            raise PluginError(self.info.name, f"process raised {text}")
        outputs[:frames] = a["outputs"][:frames]

    @property
    def latency(self) -> int:
        """Return the latency the plugin reports, frames (the sandbox adds none)."""
        worker = self._worker
        return int(worker.arrays["header"][LATENCY]) if worker is not None else 0

    @property
    def restart_requested(self) -> bool:
        """Return whether the plugin asked to be activated again (see `Plugin.idle`, which
        then starts a new worker in its state)."""
        worker = self._worker
        return bool(worker.arrays["header"][RESTART]) if worker is not None else False

    def save_state(self) -> bytes:
        """Return the plugin's complete state, kept to restore a recovered worker; while the
        worker is lost, the last state kept (a project can still be saved).

        Raises
        ------
        PluginError
            The plugin fails to save it, or the worker is lost before anything was kept.
        """
        if self.failed is not None and self._state is not None:
            return self._state
        state = self._call("save")
        self._state = state
        return state

    def load_state(self, state: bytes) -> None:
        """Restore a state `save_state` returned; raise `PluginError` if refused."""
        self._call("load", bytes(state))
        self._state = bytes(state)
        self._known[:] = False  # the state holds the values now

    def close(self) -> None:
        """Close the plugin and end its worker."""
        worker, self._worker = self._worker, None
        if worker is None:
            return
        if self.failed is None:
            with contextlib.suppress(OSError, EOFError):
                worker.conn.send(("close",))
                if worker.conn.poll(CONTROL_DEADLINE):
                    worker.conn.recv()
        worker.close()

    def __repr__(self) -> str:
        return f"SandboxedPlugin({self.source!r})"
