"""The sounddevice driver: PortAudio output through the system's audio API (ALSA, JACK, …)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from mixtree.errors import MixtreeError


class DeviceError(MixtreeError, OSError):
    """The audio device cannot be opened or PortAudio is missing."""


def load_sounddevice() -> Any:
    """Import sounddevice, turning a missing PortAudio into a `DeviceError` that says what to install."""
    try:
        import sounddevice
    except OSError as exc:  # sounddevice raises OSError when libportaudio is absent
        raise DeviceError(f"the sounddevice driver needs PortAudio: {exc} (install libportaudio2)") from exc
    return sounddevice


class PortAudioDriver:
    """Plays through a PortAudio output stream; its callback fills ``outdata`` in place."""

    name = "sounddevice"

    def __init__(
        self,
        render: Callable[[np.ndarray], None],
        xrun: Callable[[], None],
        sample_rate: int,
        blocksize: int,
        device: int | str | None = None,
    ) -> None:
        sd = load_sounddevice()
        self._render = render
        self._xrun = xrun
        try:
            self._stream = sd.OutputStream(
                samplerate=sample_rate,
                blocksize=blocksize,
                device=device,
                channels=2,
                dtype="float32",
                latency="low",
                callback=self._callback,
            )
        except (sd.PortAudioError, ValueError) as exc:
            raise DeviceError(f"cannot open audio device {device!r}: {exc}") from exc
        self.latency = float(self._stream.latency)
        self.device = self._stream.device

    def _callback(self, outdata: np.ndarray, frames: int, time: Any, status: Any) -> None:
        # Audio thread: flags are cheap attribute reads; the player never raises.
        if status.output_underflow:
            self._xrun()
        self._render(outdata)

    @property
    def alive(self) -> bool:
        """Return True while the stream is active."""
        return bool(self._stream.active)

    def start(self) -> None:
        """Start the stream."""
        self._stream.start()

    def stop(self) -> None:
        """Stop and close the stream."""
        if not self._stream.closed:
            self._stream.stop()
            self._stream.close()
