"""Non-finite samples (NaN, ±inf) made silent, in place."""

from __future__ import annotations

import numpy as np

from mixtree.dsp.jit import njit


@njit(cache=True)
def zero_nonfinite(data: np.ndarray) -> bool:
    """Set every NaN or infinite sample of C-contiguous float32 ``data`` to 0, in place;
    return True if there was one. The look is a vectorised maximum over the samples'
    bits (an exponent all ones is NaN or infinite), about 5 µs for 40960 stereo frames,
    less than ``np.isfinite(...).any()`` and without its boolean array; it keeps the GIL,
    which costs a waiting thread less than handing it over and back."""
    bits = data.reshape(-1).view(np.uint32)
    most = np.uint32(0)
    for j in range(bits.shape[0]):
        most = max(most, bits[j] & np.uint32(0x7FFFFFFF))
    if most < np.uint32(0x7F800000):
        return False
    flat = data.reshape(-1)
    for j in range(bits.shape[0]):
        if bits[j] & np.uint32(0x7F800000) == np.uint32(0x7F800000):
            flat[j] = 0.0
    return True
