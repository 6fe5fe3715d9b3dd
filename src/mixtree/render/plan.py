"""The render plan: a project compiled into arrays, and the block loop that runs it.

A plan never reads the model. Its structure (slots, clips, sources, processing order) is
fixed when it is built; what changes while it plays (fader values, smoothed gains,
meters) lives in arrays that only the thread running the plan writes.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from mixtree.dsp.clips import ClipTable, read_clips
from mixtree.dsp.delays import DelayLines, delay_slots
from mixtree.dsp.jit import entry, njit
from mixtree.dsp.lanes import DRAWN, KNOT, LaneTable, ParameterLanes, fill_parameters, release_lane, touch_lane
from mixtree.dsp.mixer import (
    FaderLanes,
    Faders,
    Mix,
    SendRows,
    blend_slots,
    clear,
    fader_stage,
    fader_targets,
    mix_buffers,
    mix_into_parents,
    mix_sends,
    write_output,
)
from mixtree.dsp.smoothing import ramp_step
from mixtree.dsp.varispeed import VarispeedTable, read_varispeed
from mixtree.dsp.warp import WarpTable, fill_warps
from mixtree.dsp.windows import Windows
from mixtree.render.audibility import audibility
from mixtree.render.latency import Compensation
from mixtree.render.midi import MidiTable
from mixtree.render.stages import ParallelChains, Stage

if TYPE_CHECKING:
    from numba.typed import List

#: Block sizes a plan accepts, in frames.
MIN_BLOCK, MAX_BLOCK = 32, 8192

#: A clip window of every frame: a clip or note that is not in an alias may start anywhere.
ALWAYS = (-(2**62), 2**62)

_serials = itertools.count(1)


def next_serial() -> int:
    """Return a number no plan had before (plans are matched by it, never by ``id()``)."""
    return next(_serials)


@dataclass(slots=True, eq=False)
class SendTable:
    """Every send: its id and its row of ``rows`` (slots, pre/post fader, smoothed level),
    the rows each segment runs (``by_level``), and by send id, its row (``index_by_id``)
    and the rows its alias instances send through (``copies``)."""

    ids: np.ndarray
    rows: SendRows
    by_level: tuple[np.ndarray, ...]
    index_by_id: dict[int, int]
    copies: dict[int, tuple[int, ...]]


@dataclass(slots=True, eq=False)
class RenderPlan:
    """A compiled project: slot 0 is the master, slots 1.. the tracks in tree order.

    ``ids`` holds each slot's id (`slot_by_id` the reverse): a track's own, or for a track
    played again inside an alias an instance id; ``track_ids`` the id of the track each
    slot plays; ``instance_slots`` lists, by track id, the slots of its instances, which
    follow its fader; ``instance_keys`` gives an instance slot's key by its id (the key
    its effects' memory goes by, see `Effect.memory`).

    Per slot: ``volume`` (linear), ``pan``, ``mute``, ``solo``, ``solo_safe`` and the
    derived ``audible``; ``faders`` their smoothed left/right gains and meters. ``lanes``
    holds every automation lane (``lane_index``: by lane id, its entries there, one per
    alias instance; ``clocks``: by lane id, the timelines those run on, for recording),
    ``fader_lanes`` each slot's volume, pan and mute lanes
    among them (a send's is in its row), ``parameter_lanes`` which lanes fill which rows of
    the automated effects' ``parameter_arrays`` (each block, a lane's pieces or values:
    `mixtree.dsp.smoothing`; ``held_lanes`` and ``held_arrays`` the same, values, for
    instruments and effects without kernels, from the block's first knot on); ``mix``
    the per-frame gains
    and levels the fader stage works out each block. The
    non-master slots run in segments, in order: ``levels`` holds each segment's head (the
    slots whose chains and sends run there), ``mix_levels`` every slot it mixes into its
    parent (the head, then plain groups of higher ranks); a slot always runs after its
    children and the tracks sending to it. ``track_buf`` is the pre-allocated float32
    ``(slots, max_block, 2)`` working memory. ``level_stages`` holds each segment's
    effect stages, ``master_stages`` the master's. A track whose output turns
    non-finite, or whose unbatchable effect raises, is flagged in ``failed`` (with
    ``fail_reasons``) and stays silent until cleared. ``carry_map`` receives, at the
    swap, the slot each track had in the plan playing before (-1: new), so state
    survives it. ``meters``: whether the faders meter each slot (an offline render's
    plan, which nobody watches, only mixes).
    """

    sample_rate: int
    max_block: int
    ids: np.ndarray
    slot_by_id: dict[int, int]
    track_ids: np.ndarray
    instance_slots: dict[int, tuple[int, ...]]
    instance_keys: dict[int, tuple[int, ...]]
    parent: np.ndarray
    mono: np.ndarray
    levels: tuple[np.ndarray, ...]
    mix_levels: tuple[np.ndarray, ...]
    level_stages: tuple[tuple[Stage, ...], ...]
    master_stages: tuple[Stage, ...]
    sends: SendTable
    clips: ClipTable
    varispeed: VarispeedTable
    sources: List
    windows: Windows
    streams: Any  # `render.streams.Streams` of its streamed sources (control side), or None
    warps: WarpTable
    midi: MidiTable
    volume: np.ndarray
    pan: np.ndarray
    mute: np.ndarray
    solo: np.ndarray
    solo_safe: np.ndarray
    audible: np.ndarray
    faders: Faders
    lanes: LaneTable
    lane_index: dict[int, tuple[int, ...]]
    clocks: dict[int, list[Any]]  # by lane id: (output frames, `TimeMap`) per copy (control side only)
    fader_lanes: FaderLanes
    parameter_lanes: ParameterLanes
    parameter_arrays: tuple[np.ndarray, ...]
    held_lanes: ParameterLanes
    held_arrays: tuple[np.ndarray, ...]
    compensation: Compensation
    delays: DelayLines
    rings: tuple[np.ndarray, ...]  # the arrays of ``delays.ring``, for the control side
    slot_line: np.ndarray
    send_line: np.ndarray
    line_keys: tuple[tuple[str, int, int], ...]
    latency_sources: tuple[tuple[Any, int], ...]  # (effect, the latency compensated): hosted or not 0
    hosted: tuple[Any, ...]  # the plugins whose `idle` the control side calls
    carry_map: np.ndarray
    crossfade: bool = False
    meters: bool = True
    serial: int = field(default_factory=next_serial)
    track_buf: np.ndarray = field(init=False, repr=False)
    failed: np.ndarray = field(init=False, repr=False)
    reported: np.ndarray = field(init=False, repr=False)
    fail_reasons: list[str] = field(init=False, repr=False)
    _scratch: np.ndarray = field(init=False, repr=False)
    _old: RenderPlan | None = field(init=False, repr=False, default=None)
    _old_buf: np.ndarray = field(init=False, repr=False)
    _xf_done: int = field(init=False, repr=False, default=0)
    _xf_length: int = field(init=False, repr=False, default=0)
    tap_slot: int = field(init=False, repr=False, default=-1)
    tap_level: int = field(init=False, repr=False, default=-1)
    tap_pre: bool = field(init=False, repr=False, default=True)
    tap_after_mix: bool = field(init=False, repr=False, default=False)
    tap_buf: np.ndarray = field(init=False, repr=False)
    synchronous: bool = field(init=False, repr=False, default=False)
    clips_in_stages: ParallelChains | None = field(init=False, repr=False, default=None)
    mix: Mix = field(init=False, repr=False)
    _moving: tuple[np.ndarray, ...] = field(init=False, repr=False)
    _held: tuple[np.ndarray, ...] = field(init=False, repr=False)
    _calls: tuple[Any, ...] = field(init=False, repr=False, default=())
    _fader_arguments: tuple[Any, ...] = field(init=False, repr=False, default=())

    def __post_init__(self) -> None:
        n = self.ids.shape[0]
        self.mix = mix_buffers(n, self.sends.rows, self.max_block)
        f, lanes, w = self.faders, self.lanes, self.windows
        # a tail's reads (the old position, after a seek) leave no trace in the streams' hints
        self._moving = (f.gain, f.step, f.last, f.handover, f.handover_left, f.peak, f.rms, lanes.state, lanes.live,
                        lanes.step, lanes.left, lanes.last, self.sends.rows.gain, self.delays.pos,
                        w.refs, w.last_miss, *self.rings)  # fmt: skip
        self._held = tuple(np.empty_like(a) for a in self._moving)
        self.track_buf = np.zeros((n, self.max_block, 2), dtype=np.float32)
        self._old_buf = np.zeros((0, self.max_block, 2), dtype=np.float32)
        self.tap_buf = np.zeros((self.max_block, 2), dtype=np.float32)
        self.failed = np.zeros(n, dtype=np.bool_)
        self.reported = np.zeros(n, dtype=np.bool_)
        self.fail_reasons = [""] * n
        self._scratch = np.zeros(n, dtype=np.bool_)
        self.update_faders(0)

    @property
    def latency(self) -> int:
        """Return how many frames the master's output lags the timeline (plugin latency,
        compensated across the tree: see `mixtree.render.latency`)."""
        return self.compensation.latency

    def tap_latency(self) -> int:
        """Return how many frames the tapped track's signal (`set_tap`) lags the timeline."""
        s, c = self.tap_slot, self.compensation
        if self.tap_after_mix:
            return int(c.arrival[s] + c.slot_delay[s])
        return int(c.inputs[s] if self.tap_pre else c.arrival[s])

    @property
    def slots(self) -> int:
        """Return the number of slots, the master included."""
        return self.ids.shape[0]

    def slot_of(self, ident: int) -> int:
        """Return the slot of the track with id ``ident``, or -1."""
        return self.slot_by_id.get(ident, -1)

    def set_fader(self, ident: int, column: np.ndarray, value: float) -> bool:
        """Write ``value`` into ``column`` (`volume`, `pan`, `mute` or `solo`) for track
        ``ident`` and its alias instances; return False if the plan does not play it.
        Call `update_faders` after. Audio-thread safe."""
        slot = self.slot_by_id.get(ident, -1)
        if slot >= 0:
            column[slot] = value
        copies = self.instance_slots.get(ident, ())
        for s in copies:
            column[s] = value
        return slot >= 0 or len(copies) > 0

    def update_faders(self, ramp_frames: int) -> None:
        """Recompute audibility and fader targets; changed ones ramp over ``ramp_frames``.

        Audio-thread safe: two compiled calls, no allocation.
        """
        audibility(
            self.parent,
            self.mute,
            self.solo,
            self.solo_safe,
            self.sends.rows.src,
            self.sends.rows.dst,
            self._scratch,
            self.audible,
        )
        fader_targets(self.volume, self.pan, self.mono, self.audible, self.faders, self.fader_lanes, ramp_frames)

    def adopt(self, previous: RenderPlan, ramp_frames: int, xfade_frames: int) -> None:
        """Take over from ``previous`` (the plan playing until now), on the audio thread.

        Tracks and sends both plans share keep their current gain and ramp to this plan's
        targets over ``ramp_frames``, lanes playing a recorded move go on with it; for the
        first ``xfade_frames`` the clips of both plans are read and crossfaded, so moving
        clips or retiming a metatrack while playing glides. Slots are matched by track id
        here, so the plan playing may be an older one than this plan was compiled against.
        """
        _match_ids(self.ids, previous.ids, self.carry_map)
        _adopt_gains(self.carry_map, previous.faders, self.faders, self.fader_lanes, ramp_frames)
        _adopt_sends(self.sends.ids, previous.sends.ids, previous.sends.rows.gain, self.sends.rows, ramp_frames)
        self._adopt_moves(previous)
        self._adopt_delays(previous)
        if self.crossfade and xfade_frames > 0 and self._old_buf.shape[0] >= previous.slots:
            self._old = previous
            self._xf_done = 0
            self._xf_length = xfade_frames

    def _adopt_delays(self, previous: RenderPlan) -> None:
        # delay lines the previous plan had, of the same length, go on with what they hold
        if not self.line_keys:
            return
        old = {key: k for k, key in enumerate(previous.line_keys)}
        for k, key in enumerate(self.line_keys):
            o = old.get(key, -1)
            if o >= 0:
                self.rings[k][...] = previous.rings[o]
                self.delays.pos[k] = previous.delays.pos[o]

    def _adopt_moves(self, previous: RenderPlan) -> None:
        # lanes playing a recorded move, or returning from one, go on exactly where they are
        old, new = previous.lanes, self.lanes
        for ident, entries in previous.lane_index.items():
            ko = entries[0]
            if old.state[ko] == DRAWN:
                continue
            for kn in self.lane_index.get(ident, ()):
                new.state[kn] = old.state[ko]
                new.live[kn] = old.live[ko]
                new.target[kn] = old.target[ko]
                new.step[kn] = old.step[ko]
                new.left[kn] = old.left[ko]
                new.last[kn] = old.last[ko]

    @property
    def crossfading(self) -> bool:
        """Return True while the clips of the previous plan are still fading out."""
        return self._old is not None and self._xf_done < self._xf_length

    def prepare_crossfade(self, previous: RenderPlan) -> None:
        """Allocate the buffer a crossfade from ``previous`` (or a plan of up to 8 slots more)
        reads into (control side)."""
        rows = max(previous.slots, self.slots) + 8
        self._old_buf = np.zeros((rows, self.max_block, 2), dtype=np.float32)

    def set_send_level(self, ident: int, gain: float, ramp_frames: int) -> None:
        """Glide send ``ident`` to linear ``gain`` over ``ramp_frames``. Audio-thread safe."""
        sends = self.sends
        k = sends.index_by_id.get(ident, -1)
        if k >= 0:
            self._glide_send(k, gain, ramp_frames)
        for c in sends.copies.get(ident, ()):
            self._glide_send(c, gain, ramp_frames)

    def _glide_send(self, row: int, gain: float, ramp_frames: int) -> None:
        rows = self.sends.rows
        rows.target[row] = gain
        rows.step[row] = ramp_step(rows.gain[row], gain, max(1, ramp_frames))

    def keep_gains(self) -> None:
        """Have every block leave each slot's per-frame gains in ``mix.gains`` (none
        worked out in the mixing alone: `Mix`), for a reader after the block (stems)."""
        self.mix.may_defer[:] = False

    def set_tap(self, ident: int, pre_effects: bool) -> None:
        """Copy track ``ident``'s buffer into ``tap_buf`` every block, before or after its
        effects (always before its fader). For bounce and freeze; offline plans only."""
        slot = self.slot_of(ident)
        if slot <= 0:
            raise ValueError(f"track #{ident} is not played by this plan")
        if self.clips_in_stages is not None:  # a tap before effects may copy the clips: read them first
            self.clips_in_stages.reads = [None] * len(self.clips_in_stages.reads)
            self.clips_in_stages = None
        self.tap_slot = slot
        self.tap_level = next(i for i, level in enumerate(self.mix_levels) if slot in level)
        self.tap_after_mix = slot not in self.levels[self.tap_level]  # a plain group: no chain
        self.tap_pre = pre_effects

    def touch_lane(self, lane_id: int, value: float, glide: bool = True) -> None:
        """Play ``value`` on lane ``lane_id`` (every instance of it) instead of its curve,
        from the next block (gliding there, or at once). Audio-thread safe."""
        for k in self.lane_index.get(lane_id, ()):
            touch_lane(self.lanes, k, value, glide)

    def release_lane(self, lane_id: int) -> None:
        """Let lane ``lane_id`` return to its curve. Audio-thread safe."""
        for k in self.lane_index.get(lane_id, ()):
            release_lane(self.lanes, k)

    def release_previous(self) -> None:
        """Drop the reference to the previous plan once the crossfade is over (control side)."""
        if not self.crossfading:
            self._old = None

    def process(self, out: np.ndarray, position: int, tail: bool = False) -> None:
        """Render ``out.shape[0]`` frames starting at absolute frame ``position`` into ``out``.

        ``out`` is float32 ``(frames, 2)`` with ``frames <= max_block``; it is overwritten.
        A ``tail`` is the fade-out after a jump or a stop, rendered after the block at the
        new position: it plays no MIDI events, so no note starts there that nothing would
        end (the released voices sound on, their envelopes running a second time for those
        few milliseconds), and the faders, lanes and send levels move on from where the
        block left them, not from where the tail leaves them. Audio-thread safe: a fixed
        number of compiled calls, no allocation.
        """
        if not tail:
            self._process(out, position, True)
            return
        for live, held in zip(self._moving, self._held):  # noqa: B905 - same length
            held[...] = live
        xf_done = self._xf_done
        self._process(out, position, False)
        for live, held in zip(self._moving, self._held):  # noqa: B905 - same length
            live[...] = held
        self._xf_done = xf_done

    def bind(self) -> None:
        """Resolve the compiled code of the block loop's calls on the plan's own arrays
        once (their types never change), so that no block pays numba's dispatch for them.
        Control side (the engine binds a plan before publishing it); else the first block."""
        buf, lanes, mix = self.track_buf, self.lanes, self.mix
        level = self.mix_levels[0] if self.mix_levels else np.zeros(0, np.int32)
        faders = self.faders
        self._fader_arguments = (
            self.volume, self.pan, self.mono, self.audible, faders, lanes, self.fader_lanes, mix, self.sends.rows,
            self.parameter_lanes,
        )  # fmt: skip
        self._calls = (
            entry(clear, buf, 0),
            entry(read_clips, buf, 0, 0, self.clips, self.sources, self.windows),
            entry(fader_stage, 0, 0, *self._fader_arguments),
            entry(mix_into_parents, buf, 0, level, self.parent, mix, faders, self.failed, self.meters),
            entry(fill_parameters, lanes, self.held_lanes, 0, 0, False),
        )

    def _process(self, out: np.ndarray, position: int, events: bool) -> None:
        frames = out.shape[0]
        buf = self.track_buf
        if not self._calls:
            self.bind()
        self.read_sources(buf, frames, position)
        old = self._old
        if old is not None and self._xf_done < self._xf_length:
            old.read_sources(self._old_buf, frames, position)
            blend_slots(buf, self._old_buf, frames, self.carry_map, self._xf_done, self._xf_length)
            self._xf_done += frames
        _, _, fader_stage_of, mix_into, fill_parameters_of = self._calls
        lanes = self.lanes
        if self.held_lanes.lane.shape[0]:
            knot = position - position % KNOT
            fill_parameters_of(lanes, self.held_lanes, knot, position + frames - knot, False)
        self.midi.run(buf, frames, position, events=events)
        mix = self.mix
        fader_stage_of(frames, position, *self._fader_arguments)
        failed = self.failed
        reasons = self.fail_reasons
        delayed = len(self.line_keys) > 0
        sends = self.sends
        tap = self.tap_level
        after_mix = self.tap_after_mix
        segments = zip(self.mix_levels, self.level_stages, sends.by_level)  # noqa: B905 - same length
        for li, (level, stages, level_sends) in enumerate(segments):
            if li == tap and self.tap_pre and not after_mix:
                self.tap_buf[:frames] = buf[self.tap_slot, :frames]
            for stage in stages:
                stage.run(buf, frames, position, failed, reasons)
            if li == tap and not self.tap_pre and not after_mix:
                self.tap_buf[:frames] = buf[self.tap_slot, :frames]
            if level_sends.shape[0]:
                mix_sends(buf, frames, level_sends, sends.rows, mix, failed, self.send_line, self.delays)
            if delayed:
                delay_slots(buf, frames, level, self.slot_line, self.delays)
            mix_into(buf, frames, level, self.parent, mix, self.faders, failed, self.meters)
            if li == tap and after_mix:
                self.tap_buf[:frames] = buf[self.tap_slot, :frames]
        for stage in self.master_stages:
            stage.run(buf, frames, position, failed, reasons)
        write_output(buf, frames, 0, mix, self.faders, failed, out)

    def read_sources(self, buf: np.ndarray, frames: int, position: int) -> None:
        """Clear ``buf`` and add every clip sounding in the block (first working out the
        block's warped times, which lanes read too). Audio-thread safe."""
        c = self.clips
        v = self.varispeed
        if self.warps.parent.shape[0]:
            fill_warps(self.warps, position, frames, float(self.sample_rate))
        calls = self._calls  # (an old plan crossfading out may not be bound)
        clear_of, read_clips_of = (calls[0], calls[1]) if calls else (clear, read_clips)
        clear_of(buf, frames)
        if self.clips_in_stages is not None:
            return  # the first level's threads read them (`read_clips_in_stages`)
        read_clips_of(buf, frames, position, c, self.sources, self.windows)
        if v.track.shape[0]:
            read_varispeed(buf, frames, position, v, self.sources, self.warps, self.windows)
        if self.synchronous and self.streams is not None and self.streams.fill_missing():
            # offline: what was missing is read now, and the block read again
            clear_of(buf, frames)
            read_clips_of(buf, frames, position, c, self.sources, self.windows)
            if v.track.shape[0]:
                read_varispeed(buf, frames, position, v, self.sources, self.warps, self.windows)

    def read_clips_in_stages(self) -> bool:
        """Have the first level's threads (a `ParallelChains`) each read their tracks'
        clips, if that gives the same bits as reading them all first; return whether it
        does. Not with varispeed clips (they add after the others), streamed sources (the
        windows' hints are shared), MIDI on a track with clips (it adds after them), clips
        on tracks of other levels, or a tap (`set_tap` undoes it: a tap before effects
        copies the clips before the first level's chains run)."""
        stages = self.level_stages[0] if self.level_stages else ()
        first = stages[0] if len(stages) == 1 and isinstance(stages[0], ParallelChains) else None
        if first is None or self.tap_slot >= 0 or self.varispeed.track.shape[0] or self.streams is not None:
            return False
        on = set(self.clips.track.tolist())
        if not on or on & self.midi.slots() or not first.read_clips_first(self.clips, self.sources, self.windows):
            return False
        self.clips_in_stages = first
        return True

    def read_synchronously(self) -> None:
        """Read streamed sources as a block needs them, waiting for the disk (offline
        renders; a live plan is fed ahead by the engine's reader thread)."""
        self.synchronous = True

    def chase(self, position: int) -> None:
        """Set the instruments up for playback starting at ``position`` (note chase).
        Audio-thread safe."""
        self.midi.chase(position)

    def all_notes_off(self) -> None:
        """Release every note of every instrument (stop, seek, loop jump). Audio-thread safe."""
        self.midi.all_notes_off()

    def next_failure(self) -> int:
        """Return a slot that failed since the last call (marking it reported), or -1."""
        return _next_failure(self.failed, self.reported)


@njit(cache=True)
def _adopt_gains(carry_map: np.ndarray, old: Faders, faders: Faders, lanes: FaderLanes, ramp_frames: int) -> None:
    gain, target, step = faders.gain, faders.target, faders.step
    for s in range(carry_map.shape[0]):
        o = carry_map[s]
        if o < 0:
            continue
        played = not np.isnan(old.last[o, 0])  # the old plan ran this slot: its true gains
        if lanes.volume[s] >= 0 or lanes.pan[s] >= 0 or lanes.mute[s] >= 0:
            if played:  # automated: crossfade from what played to the lanes
                faders.handover[s, 0] = old.last[o, 0]
                faders.handover[s, 1] = old.last[o, 1]
                faders.handover_left[s] = faders.handover_frames[s] = max(1, ramp_frames)
            continue
        for ch in range(2):
            gain[s, ch] = old.last[o, ch] if played else old.gain[o, ch]
            step[s, ch] = ramp_step(gain[s, ch], target[s, ch], max(1, ramp_frames))


@njit(cache=True)
def _next_failure(failed: np.ndarray, reported: np.ndarray) -> int:
    for s in range(failed.shape[0]):
        if failed[s] and not reported[s]:
            reported[s] = True
            return s
    return -1


@njit(cache=True)
def _match_ids(ids: np.ndarray, old_ids: np.ndarray, out: np.ndarray) -> None:
    for s in range(ids.shape[0]):
        out[s] = -1
        for o in range(old_ids.shape[0]):
            if old_ids[o] == ids[s]:
                out[s] = o
                break


@njit(cache=True)
def _adopt_sends(ids: np.ndarray, old_ids: np.ndarray, old_gain: np.ndarray, rows: SendRows, ramp_frames: int) -> None:
    for k in range(ids.shape[0]):
        for o in range(old_ids.shape[0]):
            if old_ids[o] == ids[k]:
                rows.gain[k] = old_gain[o]
                rows.step[k] = ramp_step(rows.gain[k], rows.target[k], max(1, ramp_frames))
                break
