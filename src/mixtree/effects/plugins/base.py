"""What every plugin host offers: a plugin's identity, its parameters, and an instance
that processes float32 ``(frames, channels)`` blocks. LV2 (`lv2`), CLAP (`clap`) and
VST3 (`vst3`) each implement `PluginInstance`; `mixtree.effects.plugin` builds the
`Effect` users insert on top of it."""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import NamedTuple, Protocol

import numpy as np

from mixtree.effects.parameters import Parameter

#: The plugin formats mixtree hosts.
FORMATS = ("lv2", "clap", "vst3")

_libm = ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6")


@contextmanager
def kept_fp_env() -> Iterator[None]:
    """Keep the calling thread's floating-point environment across a plugin's loading:
    a library built with ``-ffast-math`` switches flush-to-zero on for the thread that
    loads it (zam-plugins and DPF builds do), and Python's arithmetic must not change."""
    env = ctypes.create_string_buffer(512)  # fenv_t is 32 bytes on x86-64 glibc: room to spare
    _libm.fegetenv(env)
    try:
        yield
    finally:
        _libm.fesetenv(env)


@dataclass(frozen=True, slots=True)
class PluginInfo:
    """Who a plugin is: enough to find it again on another machine.

    ``format`` is one of `FORMATS`; ``uri`` its identity in that format (the LV2 URI,
    the CLAP plugin id, the VST3 class id or name); ``path`` the bundle or file it was
    loaded from; ``inputs``/``outputs`` its main audio channels (0 inputs: an
    instrument or generator); ``instrument`` whether it takes MIDI notes.
    """

    format: str
    uri: str
    path: str
    name: str
    vendor: str = ""
    version: str = ""
    inputs: int = 2
    outputs: int = 2
    instrument: bool = False


class MidiBlock(NamedTuple):
    """The MIDI events of one block, preallocated: event ``i`` of ``count`` is the
    message ``data[i, :size[i]]`` on frame ``frame[i]`` of the block (in frame order)."""

    frame: np.ndarray  # int32 (capacity,)
    data: np.ndarray  # uint8 (capacity, 3)
    size: np.ndarray  # uint8 (capacity,)
    count: np.ndarray  # int64 (1,): how many events this block holds


def midi_block(capacity: int = 1024) -> MidiBlock:
    """Return an empty `MidiBlock` that holds up to ``capacity`` events (control side)."""
    return MidiBlock(
        np.zeros(capacity, np.int32), np.zeros((capacity, 3), np.uint8), np.zeros(capacity, np.uint8),
        np.zeros(1, np.int64),
    )  # fmt: skip


class PluginInstance(Protocol):
    """One loaded plugin instance of any format.

    Life cycle: load (the format's constructor) → `activate` → `process` many times
    → `deactivate` → `close`. ``parameters`` are described with the plugin's own ids
    (stable across sessions: an LV2 port symbol, a CLAP parameter id), ranges and units,
    values in the plugin's own unit. `process` is audio-thread code: it allocates no
    arrays, blocks on nothing and runs the plugin on exactly ``frames`` frames.
    """

    info: PluginInfo
    parameters: tuple[Parameter, ...]

    def activate(self, sample_rate: int, max_block: int) -> None:
        """Prepare to process at ``sample_rate`` in blocks of at most ``max_block`` frames."""

    def deactivate(self) -> None:
        """Stop processing (tails and internal state may be dropped)."""

    def set_parameter(self, ident: str, value: float) -> None:
        """Set parameter ``ident`` to ``value`` (its own unit); takes effect from the next
        `process`. Audio-thread safe."""

    def get_parameter(self, ident: str) -> float:
        """Return parameter ``ident``'s value as the plugin holds it."""

    def process(self, inputs: np.ndarray, outputs: np.ndarray, frames: int, midi: MidiBlock | None) -> None:
        """Run ``frames`` frames: read float32 ``inputs[:frames]`` (``(max_block, inputs)``),
        write float32 ``outputs[:frames]`` (``(max_block, outputs)``); ``midi``'s events
        land on their frames. Audio-thread safe."""

    @property
    def latency(self) -> int:
        """Return the latency the plugin reports, frames."""

    def save_state(self) -> bytes:
        """Return the plugin's complete state (opaque; `load_state` takes it back)."""

    def load_state(self, state: bytes) -> None:
        """Restore a state `save_state` returned; raise `PluginError` if refused."""

    def close(self) -> None:
        """Free the instance and unload what only it used."""
