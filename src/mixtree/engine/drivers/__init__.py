"""Audio drivers, one module each, picked by name: ``sounddevice`` (PortAudio) or ``null``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np

#: ``callback(out)`` fills float32 ``(frames, 2)`` in place; ``xrun()`` counts an underrun.
Render = Callable[[np.ndarray], None]


class Driver(Protocol):
    """What the engine needs of a driver: start, stop, detach, and the latency it achieved."""

    name: str
    latency: float  # seconds from a sample rendered to it sounding (the device's estimate)
    label: str  # the device, as messages name it

    @property
    def alive(self) -> bool:
        """Return True while the driver calls back."""

    def start(self) -> None:
        """Begin calling back."""

    def detach(self) -> None:
        """Stop handing blocks to the engine at once, without waiting (the device may be gone)."""

    def stop(self) -> None:
        """Stop calling back and release the device; safe to call twice."""


def open_driver(
    name: str,
    render: Render,
    xrun: Callable[[], None],
    sample_rate: int,
    blocksize: int,
    device: int | str | None = None,
) -> Driver:
    """Return a started-ready driver ``name`` calling ``render`` every block."""
    if name == "null":
        from mixtree.engine.drivers.null import NullDriver

        return NullDriver(render, xrun, sample_rate, blocksize)
    if name == "sounddevice":
        from mixtree.engine.drivers.portaudio import PortAudioDriver

        return PortAudioDriver(render, xrun, sample_rate, blocksize, device)
    raise ValueError(f"driver must be 'sounddevice' or 'null', not {name!r}")
