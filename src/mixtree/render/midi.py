"""MIDI in the plan: the stage that plays every MIDI track's events, resolved to absolute
frames (by `mixtree.render.midi_events`), through the instruments: one batched call per
instrument type."""

from __future__ import annotations

import numpy as np

from mixtree.dsp.synth import MidiEvents
from mixtree.dsp.typed import typed_list
from mixtree.effects.base import Effect
from mixtree.render.stages import NO_AUTOMATION, Automation

#: A MIDI row: (slot, instrument, events as (frame, kind, data1, data2), alias instance key).
Row = tuple[int, Effect, list[tuple[int, int, int, int]], tuple[int, ...]]


class InstrumentGroup:
    """The MIDI tracks whose instruments share one type: slots, memory, events by row.

    The type gives three kernels (see `Effect`): ``kernel(buf, frames, position, slots,
    params, states, ramps, autos, rate, events)`` renders the rows' voices with their
    events (`MidiEvents`) and automation (``autos``: per row, the array
    `ParameterAutomation.held` gives, or an empty one), ``chase_kernel(position, params,
    states, rate, events, held)`` sets them up for playback from a position, and
    ``release_kernel(state, params, rate)`` releases one row's voices.
    """

    __slots__ = (
        "slots",
        "instruments",
        "params",
        "states",
        "ramps",
        "autos",
        "rate",
        "events",
        "no_events",
        "held",
        "kernel",
        "chase_kernel",
        "release_kernel",
    )

    def __init__(
        self, kind: type[Effect], rows: list[Row], rate: int, fresh: bool, automation: Automation | None = None
    ) -> None:  # fmt: skip
        self.kernel = kind.kernel
        self.chase_kernel = kind.chase_kernel
        self.release_kernel = kind.release_kernel
        self.slots = np.array([r[0] for r in rows], np.int32)
        self.instruments = tuple(r[1] for r in rows)
        memories = [r[1].memory(fresh, r[3]) for r in rows]  # an alias instance plays its own copy
        self.params = typed_list([m[0] for m in memories])
        self.states = typed_list([m[1] for m in memories])
        self.ramps = typed_list([m[3] for m in memories])
        self.autos = typed_list([automation(r[0], r[1]) if automation else NO_AUTOMATION for r in rows])
        self.rate = float(rate)
        events = [ev for r in rows for ev in r[2]]
        bounds = np.cumsum([0] + [len(r[2]) for r in rows])
        lo = bounds[:-1].astype(np.int64)
        self.events = MidiEvents(
            time=np.array([e[0] for e in events], np.int64),
            kind=np.array([e[1] for e in events], np.int8),
            d1=np.array([e[2] for e in events], np.int32),
            d2=np.array([e[3] for e in events], np.int32),
            lo=lo,
            hi=bounds[1:].astype(np.int64),
        )
        self.no_events = self.events._replace(hi=lo)  # every row empty: voices play on, nothing new
        self.held = np.zeros((len(rows), 128), np.int32)

    def run(self, buf: np.ndarray, frames: int, position: int, events: bool) -> None:
        """Add the rows' output for the block (see `MidiTable.run`). Audio-thread safe."""
        self.kernel(  # type: ignore[misc]
            buf, frames, position, self.slots, self.params, self.states, self.ramps, self.autos, self.rate,
            self.events if events else self.no_events
        )  # fmt: skip

    def chase(self, position: int) -> None:
        """Set the rows up for playback from ``position``. Audio-thread safe."""
        if self.chase_kernel is not None:
            self.chase_kernel(position, self.params, self.states, self.rate, self.events, self.held)

    def all_notes_off(self) -> None:
        """Release every voice of every row. Audio-thread safe."""
        if self.release_kernel is not None:
            for r in range(self.slots.shape[0]):
                self.release_kernel(self.states[r], self.params[r], self.rate)


class MidiTable:
    """The MIDI tracks of a plan, in one `InstrumentGroup` per instrument type.

    An instrument without a kernel (an offline placeholder) plays nothing.
    """

    __slots__ = ("groups",)

    def __init__(self, rows: list[Row], rate: int, fresh: bool, automation: Automation | None = None) -> None:
        by_type: dict[type[Effect], list[Row]] = {}
        for row in rows:
            by_type.setdefault(type(row[1]), []).append(row)
        self.groups = tuple(
            InstrumentGroup(kind, group, rate, fresh, automation)
            for kind, group in by_type.items()
            if kind.kernel is not None
        )

    def run(self, buf: np.ndarray, frames: int, position: int, events: bool = True) -> None:
        """Add every instrument's output for the block. Without ``events``, the voices
        sounding play on but no event is applied (the fade-out of a jump or a stop,
        whose notes were released). Audio-thread safe: one call per instrument type."""
        for group in self.groups:
            group.run(buf, frames, position, events)

    def chase(self, position: int) -> None:
        """Start the notes held across ``position`` and restore the controllers there
        (call where playback starts or jumps, after `all_notes_off`). Audio-thread safe."""
        for group in self.groups:
            group.chase(position)

    def all_notes_off(self) -> None:
        """Release every voice of every instrument. Audio-thread safe."""
        for group in self.groups:
            group.all_notes_off()
