"""The render plan: a project compiled into arrays, and the block loop that runs it.

A plan never reads the model. Its structure (slots, clips, sources, processing order) is
fixed when it is built; what changes while it plays (the smoothed gains) lives in arrays
that only the thread running the plan writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numba.typed import List

from mixtree.dsp.clips import read_clips
from mixtree.dsp.mixer import clear, mix_into_parents, write_output

#: Block sizes a plan accepts, in frames.
MIN_BLOCK, MAX_BLOCK = 32, 8192


@dataclass(frozen=True, slots=True)
class ClipTable:
    """Every audible clip of the project as parallel arrays, one row per clip."""

    track: np.ndarray  # int32 slot
    start: np.ndarray  # int64 absolute first frame
    end: np.ndarray  # int64 absolute end frame (exclusive)
    source: np.ndarray  # int32 index into the plan's sources
    offset: np.ndarray  # int64 source frame at the clip's first frame
    gain: np.ndarray  # float32 linear
    fade_in: np.ndarray  # int64 frames
    fade_out: np.ndarray  # int64 frames
    curve: np.ndarray  # int8 fade curve code
    reversed: np.ndarray  # bool
    upmix: np.ndarray  # float32 gain of a mono source on each side


@dataclass(slots=True)
class RenderPlan:
    """A compiled project: slot 0 is the master, slots 1.. the tracks in tree order.

    ``gain``/``target``/``step`` are float64 ``(slots, 2)`` left/right fader gains (volume,
    pan and audibility folded together), their targets and per-frame ramp steps.
    ``levels`` lists the non-master slots by depth, deepest first: each level mixes into
    the one above. ``track_buf`` is the pre-allocated float32 ``(slots, max_block, 2)``
    working memory.
    """

    sample_rate: int
    max_block: int
    ids: np.ndarray
    parent: np.ndarray
    mono: np.ndarray
    levels: tuple[np.ndarray, ...]
    clips: ClipTable
    sources: List
    gain: np.ndarray
    target: np.ndarray
    step: np.ndarray
    track_buf: np.ndarray = field(repr=False)

    @property
    def slots(self) -> int:
        """Return the number of slots, the master included."""
        return self.ids.shape[0]

    def slot_of(self, ident: int) -> int:
        """Return the slot of the track with id ``ident``, or -1."""
        hits = np.flatnonzero(self.ids == ident)
        return int(hits[0]) if hits.size else -1

    def process(self, out: np.ndarray, position: int) -> None:
        """Render ``out.shape[0]`` frames starting at absolute frame ``position`` into ``out``.

        ``out`` is float32 ``(frames, 2)`` with ``frames <= max_block``; it is overwritten.
        Audio-thread safe: a fixed number of compiled calls, no allocation.
        """
        frames = out.shape[0]
        buf = self.track_buf
        c = self.clips
        clear(buf, frames)
        read_clips(
            buf,
            frames,
            position,
            c.track,
            c.start,
            c.end,
            c.source,
            c.offset,
            c.gain,
            c.fade_in,
            c.fade_out,
            c.curve,
            c.reversed,
            c.upmix,
            self.sources,
        )
        for level in self.levels:
            mix_into_parents(buf, frames, level, self.parent, self.gain, self.target, self.step)
        write_output(buf, frames, 0, self.gain, self.target, self.step, out)
