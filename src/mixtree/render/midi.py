"""MIDI in the plan: the stage that plays every MIDI track's events, resolved to absolute
frames (by `mixtree.render.midi_events`), through the instruments: one batched call per
instrument type."""

from __future__ import annotations

import numpy as np

from mixtree.dsp.jit import compiled
from mixtree.dsp.lanes import KNOT
from mixtree.dsp.synth import BEND_EVENT, CC, NOTE_OFF, NOTE_ON, PROGRAM, MidiEvents
from mixtree.dsp.typed import typed_list
from mixtree.effects.base import Effect
from mixtree.effects.plugins.base import midi_block
from mixtree.render.stages import NO_AUTOMATION, Automation, solo_runner

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
        "memories",
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
        self.kernel = compiled(kind.kernel)
        self.chase_kernel = compiled(kind.chase_kernel)
        self.release_kernel = compiled(kind.release_kernel)
        self.slots = np.array([r[0] for r in rows], np.int32)
        self.instruments = tuple(r[1] for r in rows)
        memories = [r[1].memory(fresh, r[3]) for r in rows]  # an alias instance plays its own copy
        self.params = typed_list([m[0] for m in memories])
        self.states = typed_list([m[1] for m in memories])
        self.ramps = typed_list([m[3] for m in memories])
        # the same rows for calls from Python: indexing a typed list there compiles numba's getitem
        self.memories = tuple((m[1], m[0]) for m in memories)
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
            for state, params in self.memories:
                self.release_kernel(state, params, self.rate)


class SoloInstrument:
    """One instrument without a kernel (a hosted plugin) on one MIDI track: its events
    are handed to it as MIDI bytes on their frames of each block (`MidiBlock`) through
    ``instrument.process_midi(block, rate, midi)``, which adds its output to ``block``.

    Under automation (``auto``: see `ParameterAutomation.held`) the block is split at
    every `KNOT` of the timeline and the lanes' values there handed over first
    (`Effect.automation_value`), as `mixtree.render.stages.SoloStage` does for effects.
    Notes held across a start or a jump start again there (chase); a stop or a jump
    ends every sounding note.
    """

    __slots__ = ("slot", "instrument", "rate", "time", "kind", "d1", "d2", "midi", "auto", "automated",
                 "sounding", "pending", "started")  # fmt: skip

    def __init__(self, row: Row, instrument: Effect, rate: int, automation: Automation | None) -> None:
        self.slot = row[0]
        self.instrument = instrument
        self.rate = rate
        events = row[2]
        self.time = np.array([e[0] for e in events], np.int64)
        self.kind = np.array([e[1] for e in events], np.int8)
        self.d1 = np.array([e[2] for e in events], np.int32)
        self.d2 = np.array([e[3] for e in events], np.int32)
        self.midi = midi_block()
        self.auto = automation(self.slot, row[1]) if automation else NO_AUTOMATION
        ids = [p.id for p in self.instrument.parameters]
        self.automated = tuple((r, ids[r]) for r in range(self.auto.shape[0]) if not np.isnan(self.auto[r, 0]))
        self.sounding = np.zeros(128, np.bool_)
        self.pending: list[tuple[int, int, int]] = []  # (kind, d1, d2) for the next block's first frame
        self.started = False

    def run(self, buf: np.ndarray, frames: int, position: int, events: bool) -> None:
        """Add the instrument's output for the block (see `MidiTable.run`)."""
        instrument = self.instrument
        if not self.started:
            self.started = True
            instrument.automation_ended()
        block = buf[self.slot, :frames]
        lo = int(np.searchsorted(self.time, position)) if events else 0
        hi = int(np.searchsorted(self.time, position + frames)) if events else 0
        i = 0
        while i < frames:
            end = frames
            if self.automated:
                knot = (position + i) // KNOT * KNOT
                for row, pid in self.automated:
                    instrument.automation_value(pid, float(self.auto[row, 1 + knot - position + position % KNOT]))
                end = min(frames, knot + KNOT - position)
            cut = int(np.searchsorted(self.time[lo:hi], position + end)) + lo
            self._fill(position + i, lo, cut)
            instrument.process_midi(block[i:end], self.rate, self.midi)
            lo, i = cut, end

    def _fill(self, start: int, lo: int, hi: int) -> None:
        # the MIDI bytes of events lo:hi (and what is pending) on their frames from ``start``
        midi = self.midi
        n = 0
        for kind, d1, d2 in self.pending:
            n = self._put(n, 0, kind, d1, d2)
        self.pending.clear()
        for e in range(lo, hi):
            n = self._put(n, int(self.time[e]) - start, int(self.kind[e]), int(self.d1[e]), int(self.d2[e]))
        midi.count[0] = n

    def _put(self, n: int, frame: int, kind: int, d1: int, d2: int) -> int:
        midi = self.midi
        if n >= midi.frame.shape[0]:
            return n  # more events than a block holds: the rest are dropped
        size = 3
        if kind == NOTE_ON:
            status = 0x90
            self.sounding[d1] = d2 > 0
        elif kind == NOTE_OFF:
            status, d2 = 0x80, 64
            self.sounding[d1] = False
        elif kind == CC:
            status = 0xB0
        elif kind == BEND_EVENT:
            status, d1, d2 = 0xE0, (d2 + 8192) & 0x7F, ((d2 + 8192) >> 7) & 0x7F
        else:  # PROGRAM
            status, size = 0xC0, 2
        midi.frame[n] = frame
        midi.data[n, 0], midi.data[n, 1], midi.data[n, 2] = status, d1, d2
        midi.size[n] = size
        return n + 1

    def chase(self, position: int) -> None:
        """Start the notes held across ``position`` and set the controllers as the events
        before it left them, at the next block's first frame."""
        held: dict[int, int] = {}
        controllers: dict[tuple[int, int], int] = {}
        for e in range(int(np.searchsorted(self.time, position))):
            kind, d1, d2 = int(self.kind[e]), int(self.d1[e]), int(self.d2[e])
            if kind == NOTE_ON:
                held[d1] = d2
            elif kind == NOTE_OFF:
                held.pop(d1, None)
            else:
                controllers[kind, d1 if kind == CC else 0] = d2 if kind != PROGRAM else d1
        for (kind, number), value in controllers.items():
            self.pending.append((kind, number, value) if kind == CC else (kind, value, value))
        self.pending += [(NOTE_ON, note, velocity) for note, velocity in held.items()]

    def all_notes_off(self) -> None:
        """End every sounding note at the next block's first frame, and the sustain pedal."""
        self.pending += [(NOTE_OFF, int(n), 0) for n in np.flatnonzero(self.sounding)]
        self.pending.append((CC, 64, 0))


class MidiTable:
    """The MIDI tracks of a plan, in one `InstrumentGroup` per instrument type, and one
    `SoloInstrument` per instrument without a kernel that plays MIDI (a hosted plugin).

    An instrument that does neither (an offline placeholder) plays nothing.
    """

    __slots__ = ("groups", "solos")

    def __init__(self, rows: list[Row], rate: int, fresh: bool, automation: Automation | None = None) -> None:
        by_type: dict[type[Effect], list[Row]] = {}
        for row in rows:
            by_type.setdefault(type(row[1]), []).append(row)
        self.groups = tuple(
            InstrumentGroup(kind, group, rate, fresh, automation)
            for kind, group in by_type.items()
            if kind.kernel is not None
        )
        runners = [
            (row, solo_runner(row[1], row[3], rate, fresh))
            for row in rows
            if type(row[1]).kernel is None and hasattr(row[1], "process_midi")
        ]
        self.solos = tuple(SoloInstrument(row, runs, rate, automation) for row, runs in runners if runs is not None)

    def run(self, buf: np.ndarray, frames: int, position: int, events: bool = True) -> None:
        """Add every instrument's output for the block. Without ``events``, the voices
        sounding play on but no event is applied (the fade-out of a jump or a stop,
        whose notes were released). Audio-thread safe: one call per instrument type."""
        for group in self.groups:
            group.run(buf, frames, position, events)
        for solo in self.solos:
            solo.run(buf, frames, position, events)

    def slots(self) -> set[int]:
        """Return the slots the instruments add into."""
        return {int(s) for group in self.groups for s in group.slots} | {solo.slot for solo in self.solos}

    def chase(self, position: int) -> None:
        """Start the notes held across ``position`` and restore the controllers there
        (call where playback starts or jumps, after `all_notes_off`). Audio-thread safe."""
        for group in self.groups:
            group.chase(position)
        for solo in self.solos:
            solo.chase(position)

    def all_notes_off(self) -> None:
        """Release every voice of every instrument. Audio-thread safe."""
        for solo in self.solos:
            solo.all_notes_off()
        for group in self.groups:
            group.all_notes_off()
