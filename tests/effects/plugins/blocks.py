"""Helpers of the plugin-host tests: test signals, and a signal run through a host in blocks."""

from __future__ import annotations

import numpy as np


def noise(frames: int, channels: int = 2, seed: int = 0) -> np.ndarray:
    """Return uniform noise in ±0.5, float32 ``(frames, channels)``."""
    return np.random.default_rng(seed).uniform(-0.5, 0.5, (frames, channels)).astype(np.float32)


def run(plugin, x: np.ndarray, block: int, midi=None, outputs: int = 2) -> np.ndarray:  # noqa: ANN001 - any host
    """Process ``x`` through ``plugin`` in blocks of ``block`` frames; return the output."""
    y = np.zeros((len(x), outputs), np.float32)
    for start in range(0, len(x), block):
        n = min(block, len(x) - start)
        plugin.process(x[start : start + n], y[start : start + n], n, midi)
    return y
