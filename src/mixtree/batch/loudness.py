"""Integrated loudness (ITU-R BS.1770, gated) through pyloudnorm."""

from __future__ import annotations

import warnings

import numpy as np

#: pyloudnorm's gating block, seconds: anything shorter has no loudness.
BLOCK = 0.400


def integrated_loudness(audio: np.ndarray, rate: int) -> float:
    """Return the integrated loudness of float ``(frames, channels)`` audio, LUFS.

    ``-inf`` for silence (every block under the absolute gate), NaN for audio shorter
    than one 400 ms gating block.
    """
    import pyloudnorm  # here: it imports scipy.signal, which `import mixtree` does not need

    if audio.shape[0] <= BLOCK * rate:
        return float("nan")
    with warnings.catch_warnings(), np.errstate(divide="ignore"):
        warnings.simplefilter("ignore")  # pyloudnorm warns of clipping; the peak says it
        return float(pyloudnorm.Meter(rate).integrated_loudness(audio.astype(np.float64)))
