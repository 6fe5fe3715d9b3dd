"""Fixtures for playing through PortAudio into a running JACK server."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import numpy as np
import pytest


class Capture:
    """A JACK client recording whatever reaches its two input ports into a fixed array."""

    def __init__(self, jack, seconds: float) -> None:
        self.client = jack.Client("mixtree-capture", no_start_server=True)
        self.rate = self.client.samplerate
        self.ports = [self.client.inports.register(f"in_{i}") for i in range(2)]
        self.buffer = np.zeros((int(seconds * self.rate), 2), dtype=np.float32)
        self.frames = 0
        self.full = threading.Event()
        self.client.set_process_callback(self._process)

    def _process(self, frames: int) -> None:
        n = min(frames, self.buffer.shape[0] - self.frames)
        if n > 0:
            for ch, port in enumerate(self.ports):
                self.buffer[self.frames : self.frames + n, ch] = port.get_array()[:n]
            self.frames += n
        else:
            self.full.set()

    def connect_from_portaudio(self) -> None:
        """Connect every non-system audio output (PortAudio's) to our inputs."""
        outs = [
            p
            for p in self.client.get_ports(is_audio=True, is_output=True)
            if not p.name.startswith(("system:", "mixtree-capture:"))
        ]
        assert len(outs) >= 2, f"PortAudio's JACK ports not found among {outs}"
        for src, dst in zip(outs[:2], self.ports, strict=True):
            self.client.connect(src, dst)


@pytest.fixture
def jack_capture() -> Iterator[type]:
    """Return a factory of `Capture`s; skip when no JACK server is running."""
    jack = pytest.importorskip("jack", reason="the JACK-Client package is not installed")
    try:
        probe = jack.Client("mixtree-probe", no_start_server=True)
    except jack.JackOpenError:
        pytest.skip("no JACK server is running (.ci/run starts `jackd -d dummy`)")
    probe.close()
    made: list[Capture] = []

    def make(seconds: float) -> Capture:
        cap = Capture(jack, seconds)
        cap.client.activate()
        made.append(cap)
        return cap

    yield make
    for cap in made:
        cap.client.deactivate()
        cap.client.close()


@pytest.fixture
def jack_device() -> int:
    """Return the PortAudio output device on the JACK host API."""
    from mixtree.engine.drivers.portaudio import load_sounddevice

    sd = load_sounddevice()
    for api in sd.query_hostapis():
        if "JACK" in api["name"] and api["devices"]:
            for d in api["devices"]:
                if sd.query_devices(d)["max_output_channels"] >= 2:
                    return d
    pytest.skip("PortAudio lists no JACK output device")
