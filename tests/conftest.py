"""Shared fixtures: audio files written on the fly, small projects, mixtree's test plugins."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

import mixtree as mt
from tests.effects.plugins.dpf import build as dpf

RATE = 48000


def sine(freq: float, seconds: float, rate: int = RATE, amp: float = 0.5) -> np.ndarray:
    """Return a mono sine, float32 ``(frames, 1)``."""
    t = np.arange(int(round(seconds * rate))) / rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)[:, None]


WavWriter = Callable[..., Path]


@pytest.fixture
def wav(tmp_path: Path) -> WavWriter:
    """Write ``data`` to ``tmp_path/name`` and return the path."""

    def write(data: np.ndarray, rate: int = RATE, name: str = "a.wav", subtype: str = "FLOAT") -> Path:
        path = tmp_path / name
        sf.write(str(path), data, rate, subtype=subtype)
        return path

    return write


@pytest.fixture
def ones(wav: WavWriter) -> Path:
    """A 2-second mono file of constant 1.0 (the roadmap's test source)."""
    return wav(np.ones((2 * RATE, 1), np.float32), name="ones.wav")


@pytest.fixture
def ramp(wav: WavWriter) -> Path:
    """A 1-second mono file whose sample n holds n / 48000, to check which frame plays where."""
    return wav((np.arange(RATE, dtype=np.float32) / RATE)[:, None], name="ramp.wav")


@pytest.fixture
def project() -> mt.Project:
    """An empty 48 kHz project."""
    return mt.Project(sample_rate=RATE)


PLUGIN_CACHE = Path.home() / ".cache" / "mixtree-test-plugins"


@pytest.fixture(scope="session")
def dpf_plugins() -> dict[str, Path]:
    """Return the built test plugins keyed ``"<plugin>.<format>"`` (``"mtgain.clap"``), building
    them into ``~/.cache/mixtree-test-plugins/<source hash>`` on first use."""
    reason = dpf.missing()
    if reason:
        pytest.skip(f"cannot build the test plugins: {reason}")
    return dpf.build(PLUGIN_CACHE / dpf.source_hash())
