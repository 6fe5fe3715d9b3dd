"""Typed lists filled by cached compiled code (imported where lists are first built).

Filling a ``numba.typed.List`` from Python compiles numba's own list functions, which
are not cached: seconds in every new process (an engine's warm-up built ~170 lists).
These functions do the same work and load from numba's on-disk cache.
"""

from __future__ import annotations

import numba as nb
import numpy as np
from numba import types
from numba.typed import List

#: What the clip reader takes: float32 ``(frames, channels)`` read-only arrays.
SOURCE = types.Array(types.float32, 2, "C", readonly=True)


@nb.njit(cache=True)
def first(item: np.ndarray) -> List:
    """Return a new typed list of ``item``'s type holding ``item`` (a reference)."""
    out = List()
    out.append(item)
    return out


@nb.njit(cache=True)
def append(out: List, item: np.ndarray) -> None:
    """Append ``item`` (a reference) to ``out``."""
    out.append(item)


def filled(items: list[np.ndarray]) -> List:
    """Return a typed list referencing ``items`` (not empty; all of one numba type)."""
    out = first(items[0])
    for item in items[1:]:
        append(out, item)
    return out


@nb.njit(cache=True)
def no_sources() -> List:
    """Return an empty typed list of `SOURCE` arrays."""
    return List.empty_list(SOURCE)


def sources(arrays: list[np.ndarray]) -> List:
    """Return a typed list of `SOURCE` arrays: read-only views of ``arrays`` (float32,
    2-D, C-contiguous), sharing their memory."""
    if not arrays:
        return no_sources()
    views = []
    for a in arrays:
        view = a.view()
        view.flags.writeable = False
        views.append(view)
    return filled(views)
