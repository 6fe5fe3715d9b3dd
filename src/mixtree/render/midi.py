"""MIDI in the plan: the stage that plays every MIDI track's events, resolved to absolute
frames (by `mixtree.render.midi_events`), through the instruments in one batched call."""

from __future__ import annotations

import numpy as np

from mixtree.dsp.synth import chase_kernel, release_all
from mixtree.dsp.typed import typed_list
from mixtree.effects.base import Effect


class MidiTable:
    """The MIDI tracks of a plan: slots, instruments' memory, and their events by row."""

    __slots__ = (
        "slots",
        "instruments",
        "params",
        "states",
        "ramps",
        "rate",
        "time",
        "kind",
        "d1",
        "d2",
        "lo",
        "hi",
        "held",
        "kernel",
    )

    def __init__(
        self, rows: list[tuple[int, Effect, list[tuple[int, int, int, int]], tuple[int, ...]]], rate: int, fresh: bool
    ) -> None:
        self.slots = np.array([r[0] for r in rows], np.int32)
        self.instruments = tuple(r[1] for r in rows)
        memories = [r[1].memory(fresh, r[3]) for r in rows]  # an alias instance plays its own copy
        self.params = typed_list([m[0] for m in memories])
        self.states = typed_list([m[1] for m in memories])
        self.ramps = typed_list([m[3] for m in memories])
        self.rate = float(rate)
        events = [ev for r in rows for ev in r[2]]
        bounds = np.cumsum([0] + [len(r[2]) for r in rows])
        self.lo = bounds[:-1].astype(np.int64)
        self.hi = bounds[1:].astype(np.int64)
        self.time = np.array([e[0] for e in events], np.int64)
        self.kind = np.array([e[1] for e in events], np.int8)
        self.d1 = np.array([e[2] for e in events], np.int32)
        self.d2 = np.array([e[3] for e in events], np.int32)
        self.held = np.zeros((len(rows), 128), np.int32)
        self.kernel = type(self.instruments[0]).kernel if rows else None

    def run(self, buf: np.ndarray, frames: int, position: int, events: bool = True) -> None:
        """Add every instrument's output for the block. Without ``events``, the voices
        sounding play on but no event is applied (the fade-out of a jump or a stop,
        whose notes were released). Audio-thread safe: one call."""
        if self.kernel is not None:
            self.kernel(
                buf,
                frames,
                position,
                self.slots,
                self.params,
                self.states,
                self.ramps,
                self.rate,
                self.time,
                self.kind,
                self.d1,
                self.d2,
                self.lo,
                self.hi if events else self.lo,
            )

    def chase(self, position: int) -> None:
        """Start the notes held across ``position`` and restore the controllers there
        (call where playback starts or jumps, after `all_notes_off`). Audio-thread safe."""
        if self.kernel is not None:
            chase_kernel(
                position, self.params, self.states, self.rate, self.time, self.kind, self.d1, self.d2, self.lo,
                self.hi, self.held
            )  # fmt: skip

    def all_notes_off(self) -> None:
        """Release every voice of every instrument. Audio-thread safe."""
        for r in range(self.slots.shape[0]):
            release_all(self.states[r], self.params[r], self.rate)
