"""Turn float audio into what a file's sample format stores, deterministically."""

from __future__ import annotations

import numpy as np


class Quantizer:
    """Convert float32 chunks for one output file's ``subtype`` (soundfile's name).

    PCM_16 gets TPDF dither of ±1 LSB from a generator seeded once per file, drawn so that
    the bytes do not depend on how the audio is chunked; PCM_24 is rounded; every PCM
    format clips out-of-range samples instead of wrapping. Lossy formats get clipped floats.
    """

    def __init__(self, subtype: str, seed: int = 0) -> None:
        self.bits = {"PCM_16": 16, "PCM_24": 24}.get(subtype, 0)
        self.clip = subtype in ("VORBIS", "MPEG_LAYER_III")
        self._rng = np.random.default_rng(seed)

    def __call__(self, audio: np.ndarray) -> np.ndarray:
        """Return ``audio`` (float32 ``(frames, channels)``) ready for ``SoundFile.write``."""
        if self.bits == 0:
            return np.clip(audio, -1.0, 1.0) if self.clip else audio
        scale = float(2 ** (self.bits - 1))
        x = audio.astype(np.float64) * scale
        if self.bits <= 16:
            r = self._rng.random((*x.shape, 2))
            x += r[..., 0] - r[..., 1]
        q = np.clip(np.round(x), -scale, scale - 1).astype(np.int32)
        return q << (32 - self.bits)
