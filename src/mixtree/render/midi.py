"""MIDI in the plan: every MIDI clip's events resolved to absolute frames, and the stage
that plays them through the tracks' instruments in one batched call."""

from __future__ import annotations

import numpy as np
from numba.typed import List

from mixtree.dsp.synth import BEND_EVENT, CC, NOTE_OFF, NOTE_ON, PROGRAM, release_all
from mixtree.effects.base import Effect
from mixtree.model.tracks import MidiTrack

_ORDER = {NOTE_OFF: 0, CC: 1, BEND_EVENT: 1, PROGRAM: 1, NOTE_ON: 2}  # at one frame: offs first
_KIND = {"cc": CC, "pitch_bend": BEND_EVENT, "program": PROGRAM}


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
        "kernel",
    )

    def __init__(self, rows: list[tuple[int, Effect, list[tuple[int, int, int, int]]]], rate: int, fresh: bool) -> None:
        self.slots = np.array([r[0] for r in rows], np.int32)
        self.instruments = tuple(r[1] for r in rows)
        memories = [inst.memory(fresh) for inst in self.instruments]
        self.params = _typed([m[0] for m in memories])
        self.states = _typed([m[1] for m in memories])
        self.ramps = _typed([m[3] for m in memories])
        self.rate = float(rate)
        events = [ev for r in rows for ev in r[2]]
        bounds = np.cumsum([0] + [len(r[2]) for r in rows])
        self.lo = bounds[:-1].astype(np.int64)
        self.hi = bounds[1:].astype(np.int64)
        self.time = np.array([e[0] for e in events], np.int64)
        self.kind = np.array([e[1] for e in events], np.int8)
        self.d1 = np.array([e[2] for e in events], np.int32)
        self.d2 = np.array([e[3] for e in events], np.int32)
        self.kernel = type(self.instruments[0]).kernel if rows else None

    def run(self, buf: np.ndarray, frames: int, position: int) -> None:
        """Add every instrument's output for the block. Audio-thread safe: one call."""
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
                self.hi,
            )

    def all_notes_off(self) -> None:
        """Release every voice of every instrument. Audio-thread safe."""
        for r in range(self.slots.shape[0]):
            release_all(self.states[r], self.params[r], self.rate)


def _typed(arrays: list[np.ndarray]) -> List:
    out = List()
    for a in arrays:
        out.append(a)
    return out


def clip_events(track: MidiTrack, a: float, b: float, transpose: float, rate: int) -> list[tuple[int, int, int, int]]:
    """Return ``track``'s events as (frame, kind, data1, data2), sorted for playback.

    A clip plays its own timeline from ``offset`` for ``duration``; notes that start
    inside that window sound and are released at the latest at the clip's end. Content
    time τ maps to project time as t = (τ − b) / a. Notes move by ``transpose``
    semitones (notes pushed outside 0..127 are dropped).
    """
    out: list[tuple[int, int, int, int]] = []

    def frame(tau: float) -> int:
        return int(round((tau - b) / a * rate))

    shift = int(round(transpose))
    for clip in track.midi_clips:
        lo, hi = clip.offset, clip.offset + clip.duration
        at = clip.start - clip.offset  # content time of the clip's own time 0
        for n in clip.notes:
            pitch = n.pitch + shift
            if not lo <= n.start < hi or not 0 <= pitch <= 127:
                continue
            on, off = frame(at + n.start), frame(at + min(n.end, hi))
            if off <= on:
                off = on + 1
            out.append((on, NOTE_ON, pitch, n.velocity))
            out.append((off, NOTE_OFF, pitch, 0))
        for e in clip.events:
            if lo <= e.time < hi:
                out.append((frame(at + e.time), _KIND[e.kind], e.number, e.value))
    out.sort(key=lambda e: (e[0], _ORDER[e[1]]))
    return out


def midi_table(tracks: list[tuple[int, MidiTrack, float, float, float]], rate: int, fresh: bool) -> MidiTable:
    """Return the MIDI table for (slot, track, a, b, transpose) rows."""
    rows = [(slot, t.instrument, clip_events(t, a, b, transpose, rate)) for slot, t, a, b, transpose in tracks]
    return MidiTable(rows, rate, fresh)
