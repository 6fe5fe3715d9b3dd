"""Numba typed lists: how kernels take one array per track in a single call."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from numba.typed import List


def typed_list(arrays: list[np.ndarray]) -> List:
    """Return a numba typed list referencing (not copying) ``arrays`` (control side)."""
    if arrays:
        from mixtree.dsp.listing import filled

        return filled(arrays)
    from numba.typed import List

    out = List()
    for a in arrays:
        out.append(a)
    return out
