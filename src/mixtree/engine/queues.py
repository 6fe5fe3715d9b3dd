"""Queues between the control side and the audio thread; neither side ever waits.

Both rely on CPython's guarantee that a single list-item or attribute store, and a
single ``deque`` append or popleft, happen whole under the GIL: with one producer and
one consumer, that makes them lock-free.
"""

from __future__ import annotations

from collections import deque
from typing import Any


class CommandQueue:
    """A bounded single-producer/single-consumer FIFO on a pre-allocated ring.

    The control side `push`es, the audio thread `pop`s. Pushing to a full queue returns
    False instead of waiting; popping an empty one returns None.
    """

    __slots__ = ("_ring", "_capacity", "_head", "_tail")

    def __init__(self, capacity: int = 8192) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, not {capacity}")
        self._ring: list[Any] = [None] * capacity
        self._capacity = capacity
        self._head = 0  # written by the consumer only
        self._tail = 0  # written by the producer only

    @property
    def capacity(self) -> int:
        """Return how many commands fit."""
        return self._capacity

    def __len__(self) -> int:
        return self._tail - self._head

    def push(self, item: Any) -> bool:
        """Append ``item``; return False (dropping nothing) if the queue is full."""
        tail = self._tail
        if tail - self._head >= self._capacity:
            return False
        self._ring[tail % self._capacity] = item
        self._tail = tail + 1  # publish only after the slot is written
        return True

    def pop(self) -> Any:
        """Return the oldest item, or None if empty. Audio-thread safe: no allocation."""
        head = self._head
        if head == self._tail:
            return None
        i = head % self._capacity
        item = self._ring[i]
        self._ring[i] = None
        self._head = head + 1
        return item


class EventQueue:
    """A bounded queue the audio thread posts to and the control side drains.

    When it is full the oldest events give way to new ones and are counted in
    ``dropped``; the audio thread never waits.
    """

    __slots__ = ("_events", "dropped")

    def __init__(self, capacity: int = 4096) -> None:
        self._events: deque[Any] = deque(maxlen=capacity)
        self.dropped = 0

    def post(self, event: Any) -> None:
        """Append ``event``, dropping the oldest if full. Audio-thread safe."""
        if len(self._events) == self._events.maxlen:
            self.dropped += 1
        self._events.append(event)

    def drain(self) -> list[Any]:
        """Return and remove every queued event, oldest first (control side)."""
        out = []
        events = self._events
        while events:
            try:
                out.append(events.popleft())
            except IndexError:  # pragma: no cover - only if a second consumer appears
                break
        return out

    def __len__(self) -> int:
        return len(self._events)
