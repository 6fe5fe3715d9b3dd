"""Plugin delay compensation: where the mixing graph needs delay lines so that every path
into every mixing point arrives at the same time.

A slot's chain delays its signal by its plugins' reported latency. Each slot's inputs
(its children and the sends into it) arrive at the latest of their times, ``inputs[s]``;
its output leaves ``arrival[s] = inputs[s] + chain[s]`` frames after the timeline. Every
edge into a mixing point that arrives early is delayed by the difference: the edge from a
slot to its parent, and each send on its own (a track feeding a parent and a bus may be
early for one and not the other). The master's output is ``arrival[0]`` frames late:
offline renders skip that much, the engine reports it.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Compensation(NamedTuple):
    """What `compensate` worked out: per slot its inputs' and output's time (frames after
    the timeline) and its parent edge's delay, per send its delay."""

    inputs: np.ndarray  # int64 per slot
    arrival: np.ndarray  # int64 per slot
    slot_delay: np.ndarray  # int64 per slot (the master's: 0)
    send_delay: np.ndarray  # int64 per send

    @property
    def latency(self) -> int:
        """Return how late the master's output is, frames."""
        return int(self.arrival[0])


def compensate(chain: np.ndarray, parent: np.ndarray, sends: list[tuple[int, int]]) -> Compensation:
    """Return the compensation of a plan whose slot ``s`` delays by ``chain[s]`` frames,
    mixes into ``parent[s]`` (-1: the master) and sends as ``sends`` (source, bus) say."""
    n = chain.shape[0]
    feeds: list[list[int]] = [[] for _ in range(n)]
    for s in range(1, n):
        feeds[parent[s]].append(s)
    for src, dst in sends:
        feeds[dst].append(src)
    inputs = np.full(n, -1, np.int64)

    def arrival(s: int) -> int:
        # the graph has no cycles (the model refuses them), and is shallow: recursion is fine
        if inputs[s] < 0:
            inputs[s] = max((arrival(c) for c in feeds[s]), default=0)
        return int(inputs[s] + chain[s])

    out = np.array([arrival(s) for s in range(n)], np.int64)
    slot_delay = np.zeros(n, np.int64)
    for s in range(1, n):
        slot_delay[s] = inputs[parent[s]] - out[s]
    send_delay = np.array([inputs[dst] - out[src] for src, dst in sends], np.int64)
    return Compensation(inputs, out, slot_delay, send_delay)
