"""The ring the audio thread writes recorded automation moves into, and the control side
reads them from: preallocated arrays, one writer, one reader, no locks."""

from __future__ import annotations

import numpy as np

#: What an entry says: the lane glides to ``value`` from ``frame`` on, takes it at once
#: there, or its move ends there; or the pass (play to stop) ends there (lane -1).
MOVE, SET, END, PASS = 0, 1, 2, 3
#: Entries kept free for the ends of moves and passes: a full ring drops moves, not ends.
RESERVED = 2048


class Recorder:
    """A single-producer, single-consumer ring of (kind, lane id, frame, value) entries.

    The audio thread `write`\\ s (scalar stores into preallocated arrays, then one counter
    store); the control side `read`\\ s everything written since its last read. Entries
    that would overwrite unread ones are dropped and counted in ``dropped``; moves are
    dropped while fewer than `RESERVED` entries are free, so every end still fits.
    """

    def __init__(self, capacity: int = 65536) -> None:
        self.kind = np.zeros(capacity, np.int8)
        self.lane = np.zeros(capacity, np.int64)
        self.frame = np.zeros(capacity, np.int64)
        self.value = np.zeros(capacity, np.float64)
        self.capacity = capacity
        self.written = 0  # entries written so far (the audio thread's only counter)
        self.taken = 0  # entries read so far (the control side's)
        self.dropped = 0

    def write(self, kind: int, lane: int, frame: int, value: float) -> None:
        """Append one entry. Audio-thread safe: no allocation, no lock."""
        room = self.capacity - (self.written - self.taken)
        if room <= 0 or (room <= RESERVED and kind <= SET):
            self.dropped += 1
            return
        i = self.written % self.capacity
        self.kind[i] = kind
        self.lane[i] = lane
        self.frame[i] = frame
        self.value[i] = value
        self.written += 1  # published last: the reader never sees a half-written entry

    def read(self) -> list[tuple[int, int, int, float]]:
        """Return the entries written since the last call, oldest first (control side)."""
        end = self.written
        out = []
        for n in range(self.taken, end):
            i = n % self.capacity
            out.append((int(self.kind[i]), int(self.lane[i]), int(self.frame[i]), float(self.value[i])))
        self.taken = end
        return out
