"""Fold multichannel audio to at most two channels."""

from __future__ import annotations

import numpy as np

_C = np.float32(np.sqrt(0.5))

# ITU-R BS.775 fold-down of 5.1 (L R C LFE Ls Rs): centre and surrounds at -3 dB, LFE dropped.
_FIVE_ONE = np.array([[1, 0], [0, 1], [_C, _C], [0, 0], [_C, 0], [0, _C]], dtype=np.float32)


def fold_to_stereo(data: np.ndarray) -> np.ndarray:
    """Return ``data`` ``(frames, channels)`` with at most two channels.

    Mono and stereo pass through unchanged. Six channels are taken as 5.1 (L R C LFE Ls
    Rs) and folded with ITU-R BS.775 (C, Ls, Rs at -3 dB; LFE dropped). Any other count:
    even-numbered channels (0, 2, …) average into the left, odd-numbered into the right,
    so the level of a channel heard alone never rises.
    """
    channels = data.shape[1]
    if channels <= 2:
        return data
    if channels == 6:
        matrix = _FIVE_ONE
    else:
        matrix = np.zeros((channels, 2), dtype=np.float32)
        matrix[0::2, 0] = 1.0 / len(range(0, channels, 2))
        matrix[1::2, 1] = 1.0 / len(range(1, channels, 2))
    return np.ascontiguousarray(data @ matrix, dtype=np.float32)
