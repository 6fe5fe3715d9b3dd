"""Numba typed lists: how kernels take one array per track in a single call."""

from __future__ import annotations

import numpy as np
from numba.typed import List


def typed_list(arrays: list[np.ndarray]) -> List:
    """Return a numba typed list referencing (not copying) ``arrays`` (control side)."""
    out = List()
    for a in arrays:
        out.append(a)
    return out
