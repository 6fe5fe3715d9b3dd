"""Mute and solo in a track tree, by DAW convention, over arrays."""

from __future__ import annotations

import numpy as np

from mixtree.dsp.jit import njit


@njit(cache=True)
def audibility(
    parent: np.ndarray,
    mute: np.ndarray,
    solo: np.ndarray,
    solo_safe: np.ndarray,
    send_src: np.ndarray,
    send_dst: np.ndarray,
    scratch: np.ndarray,
    out: np.ndarray,
) -> None:
    """Write into ``out`` whether each slot passes sound.

    Slots are in tree pre-order (a parent before its children), slot 0 the master. With
    no solo anywhere, every unmuted slot sounds. Otherwise a slot sounds if it is unmuted
    and it is soloed, inside a soloed track (soloing a group soloes its subtree), on the
    way from a soloed track to the master (ancestors stay open), a bus fed (through
    ``send_src`` → ``send_dst``) by a soloed track, or solo-safe. A muted ancestor
    silences its subtree through its own fader. ``scratch`` is a bool array of the same
    length. Audio-thread safe: no allocation.
    """
    n = parent.shape[0]
    any_solo = False
    for s in range(1, n):
        if solo[s]:
            any_solo = True
    # scratch[s]: s or an ancestor is soloed (top-down pass)
    for s in range(n):
        p = parent[s]
        scratch[s] = solo[s] or (p >= 0 and scratch[p])
    # a bus fed by a soloed track counts as soloed, and so on down a chain of buses
    changed = True
    while changed:
        changed = False
        for k in range(send_src.shape[0]):
            if scratch[send_src[k]] and not scratch[send_dst[k]]:
                scratch[send_dst[k]] = True
                changed = True
    for s in range(n):
        out[s] = scratch[s] or solo_safe[s] or s == 0
    # a soloed slot opens its ancestors (bottom-up pass)
    for s in range(n - 1, 0, -1):
        if out[s] and (scratch[s] or solo_safe[s]):
            p = parent[s]
            while p > 0 and not out[p]:
                out[p] = True
                p = parent[p]
    for s in range(n):
        out[s] = (out[s] or not any_solo) and not mute[s]
