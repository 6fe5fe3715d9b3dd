"""The worker process of a sandboxed plugin: ``python -m mixtree.effects.plugins.sandbox_worker
CONTROL GO DONE MEMORY MAX_BLOCK SOURCE`` (the first four: file descriptors it inherits)
loads the plugin with `open_plugin` and serves `SandboxedPlugin`: control requests on its
main thread, blocks on an audio thread. It may crash or hang: that is why it runs alone."""

from __future__ import annotations

import contextlib
import mmap
import os
import resource
import sys
import threading
from multiprocessing.connection import Connection
from typing import Any

import numpy as np

from mixtree.effects.plugin import open_plugin
from mixtree.effects.plugins import sandbox as shared
from mixtree.effects.plugins.base import PluginInstance
from mixtree.errors import PluginError

#: Seconds between the plugin's idle calls (its main-thread work) while no request comes.
IDLE = 0.1


def _reason(exc: Exception) -> str:
    return exc.reason if isinstance(exc, PluginError) else f"{type(exc).__name__}: {exc}"


def serve_audio(plugin: PluginInstance, arrays: dict[str, np.ndarray], go: int, done: int) -> None:
    """Process one block per byte on ``go`` and answer with one on ``done``; exit the process
    when the caller is gone (the audio thread)."""
    header, index, value = arrays["header"], arrays["param_index"], arrays["param_value"]
    inputs, outputs, error = arrays["inputs"], arrays["outputs"], arrays["error"]
    midi = shared.midi_view(arrays)
    ids = [p.id for p in plugin.parameters]
    while os.read(go, 1):
        try:
            for k in range(int(header[shared.PARAMS])):
                plugin.set_parameter(ids[index[k]], float(value[k]))
            plugin.process(inputs, outputs, int(header[shared.FRAMES]), midi if header[shared.HAS_MIDI] else None)
            header[shared.LATENCY] = plugin.latency
            header[shared.RESTART] = getattr(plugin, "restart_requested", False)
            header[shared.ERROR] = 0
        except Exception as exc:  # the caller raises it as the plugin's error
            text = _reason(exc).encode("utf-8", "replace")[: len(error)]
            error[:] = 0
            error[: len(text)] = np.frombuffer(text, np.uint8)
            header[shared.ERROR] = 1
        header[shared.DONE] = header[shared.SEQ]
        os.write(done, shared.GO)
    os._exit(0)  # the caller closed the pipe: nobody is left to clean up for


def answer(plugin: PluginInstance, header: np.ndarray, request: tuple[Any, ...]) -> Any:
    """Carry out one control request and return its result."""
    op, args = request[0], request[1:]
    result = None
    if op == "get":
        result = plugin.get_parameter(*args)
    elif op == "set":
        plugin.set_parameter(*args)
    elif op == "activate":
        plugin.activate(*args)
    elif op == "deactivate":
        plugin.deactivate()
    elif op == "save":
        result = plugin.save_state()
    elif op == "load":
        plugin.load_state(*args)
    else:
        raise ValueError(f"unknown request {op!r}")
    header[shared.LATENCY] = plugin.latency
    header[shared.RESTART] = getattr(plugin, "restart_requested", False)
    return result


def main(argv: list[str]) -> int:
    """Load the plugin ``argv`` names and serve its `SandboxedPlugin` until closed."""
    control, go, done, memfd, max_block = map(int, argv[:5])
    source = argv[5]
    with contextlib.suppress(ValueError, OSError):  # a crash leaves no core file of a plugin's memory
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    conn = Connection(control)
    try:
        plugin = open_plugin(source, trust_scan=False)  # it runs here so that it may fail
    except Exception as exc:  # reported to the caller as the reason
        conn.send(("error", type(exc).__name__, _reason(exc)))
        return 1
    info = plugin.info
    places = shared.layout(len(plugin.parameters), info.inputs, info.outputs, max_block)
    size = places["size"][0]
    os.ftruncate(memfd, size)
    memory = mmap.mmap(memfd, size)
    arrays = shared.views(memory, places)
    header = arrays["header"]
    header[shared.LATENCY] = plugin.latency
    threading.Thread(target=serve_audio, args=(plugin, arrays, go, done), daemon=True).start()
    conn.send(("ready", info, tuple(plugin.parameters), size, places))
    idle = getattr(plugin, "idle", None)
    while True:
        try:
            if not conn.poll(IDLE):
                if idle is not None:
                    idle()
                continue
            request = conn.recv()
        except (EOFError, OSError):
            os._exit(0)  # the caller is gone
        if request[0] == "close":
            plugin.close()
            conn.send(("ok", None))
            return 0
        try:
            conn.send(("ok", answer(plugin, header, request)))
        except Exception as exc:  # the caller raises it
            conn.send(("error", type(exc).__name__, _reason(exc)))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
