"""Compile a project into a `RenderPlan`: the one module of render/ that reads the model."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

import numpy as np

from mixtree.dsp.clips import ClipTable, source_list
from mixtree.dsp.delays import delay_lines
from mixtree.dsp.fades import curve_code
from mixtree.dsp.mixer import FaderLanes, SendRows, faders_for
from mixtree.dsp.varispeed import VarispeedTable
from mixtree.effects.base import Effect
from mixtree.model.clip import Clip
from mixtree.model.pool import Source
from mixtree.model.project import Project
from mixtree.model.structure import ancestors, speed_curve, tempo_map_of, walk
from mixtree.model.tracks import AudioTrack, BusTrack, Metatrack, MidiTrack, Send, Track
from mixtree.render.lanes import LaneBuilder, ParameterAutomation, TimeMap
from mixtree.render.latency import compensate
from mixtree.render.midi_events import midi_table
from mixtree.render.plan import ALWAYS, MAX_BLOCK, MIN_BLOCK, RenderPlan, SendTable
from mixtree.render.stages import chain_stages
from mixtree.render.streams import StreamBuilder
from mixtree.render.warps import Warps
from mixtree.units import db_to_gain

#: A mono clip on a stereo track sits at the constant-power centre on both sides.
MONO_IN_STEREO = float(np.sqrt(0.5))


def check_block(blocksize: int) -> int:
    """Return ``blocksize`` if it is a whole number of frames in 32..8192, else raise."""
    if isinstance(blocksize, bool) or not isinstance(blocksize, int | np.integer):
        raise ValueError(f"block size must be a whole number of frames, not {blocksize!r}")
    if not MIN_BLOCK <= blocksize <= MAX_BLOCK:
        raise ValueError(f"block size must be within {MIN_BLOCK}..{MAX_BLOCK}, not {blocksize}")
    return int(blocksize)


def instance_id(instance: tuple[int, ...], track_id: int) -> int:
    """Return the id of the slot playing track ``track_id`` inside alias instance
    ``instance`` (negative: never a model id; stable from plan to plan, so the slot's
    fader state and effect memory carry over a recompile)."""
    return -1 - (hash((instance, track_id)) & (2**62 - 1))


@dataclass(frozen=True, slots=True)
class Placed:
    """A track the plan runs, with the map of its content time: τ = a·x + b, where x is
    project time, or the child time of ``warp`` (a metatrack with automated speed above
    it, see `Warps`)."""

    track: Track
    a: float
    b: float
    parent: int | None  # id of the entry it mixes into (None: the master)
    transpose: float = 0.0  # semitones MIDI notes move by (metatrack pitch over MIDI)
    instance: tuple[int, ...] = ()  # the aliases (outermost first) it plays inside; () itself
    window_frames: tuple[int, int] = ALWAYS  # the output frames where its clips and notes may start
    # aliases of frozen or stretched metatracks it hosts: (metatrack, a, b, window frames),
    # played from that metatrack's render
    rendered: list[tuple[Metatrack, float, float, tuple[int, int]]] = field(default_factory=list)
    warp: int = -1

    @property
    def id(self) -> int:
        """Return the entry's id: the track's own, or its `instance_id` inside an alias."""
        return instance_id(self.instance, self.track.id) if self.instance else self.track.id


def needs_stretch(track: Track) -> bool:
    """Return True for a metatrack whose sound needs Rubber Band: pitch or preserved pitch
    over audio. Over MIDI alone, notes are transposed and speed never changes pitch."""
    if not isinstance(track, Metatrack) or (track.pitch == 0.0 and not track.preserve_pitch):
        return False
    return any(isinstance(t, AudioTrack) for t in walk(track.children))


def passes_through(t: Track) -> bool:
    """Return True for a metatrack that only sums its children: unity fader, centre pan,
    no effects, sends, mute, solo or automation. The plan mixes its children straight into its
    parent (its transform still applies to them), so plain nesting costs nothing."""
    return (
        isinstance(t, Metatrack) and not t.effects and not t.sends and not t.mute and not t.solo
        and t.volume_db == 0.0 and t.pan == 0.0 and t.frozen is None and not needs_stretch(t)
        and not any(lane.plays or lane.records for lane in t.lanes.values())
    )  # fmt: skip


def _plays_a_render(project: Project, m: Metatrack) -> bool:
    # An alias of a stretched metatrack plays its stretched render; of a frozen one, its
    # frozen render, which is in project time: usable where m's timeline is project time.
    if needs_stretch(m):
        return True
    return m.frozen is not None and all(
        x.speed == 1.0 and x.offset == 0.0 and speed_curve(project, x) is None for x in ancestors(project, m)
    )


def playing_tracks(
    project: Project,
    root: Metatrack | None = None,
    keep: int | None = None,
    warps: Warps | None = None,
    meter_groups: bool = False,
) -> list[Placed]:
    """Return the tracks a plan runs, in tree order, with their time maps.

    A frozen metatrack, and one played through Rubber Band, stands for its subtree. A
    metatrack that `passes_through` gets no slot of its own (unless it is ``keep``, or
    ``meter_groups`` asks for every metatrack outside an alias to be metered). With
    ``root``, only that metatrack's subtree, as if it stood at the top with no transform
    (how its stretched or frozen sound is rendered). An alias on an audio track plays
    the aliased metatrack's children again, as an instance of each, mixing into the
    alias's host inside the alias's span; an alias of a frozen or stretched metatrack
    plays its render instead (a frozen one only where its timeline is project time).
    Inside an instance, metatracks play live (their transform as varispeed, pitch over
    MIDI only). Metatracks with automated speed are added to ``warps``.
    """
    out: list[Placed] = []
    warps = warps if warps is not None else Warps(project, MIN_BLOCK)

    def inside(m: Metatrack, a: float, b: float, warp: int) -> tuple[float, float, int]:
        """Return the map of ``m``'s children's time, ``m`` sitting at (a, b, warp)."""
        w = warps.add(m, warp, a, b)
        return (1.0, 0.0, w) if w >= 0 else (a * m.speed, (b - m.offset) * m.speed, warp)

    def visit(
        tracks: list[Track],
        a: float,
        b: float,
        warp: int,
        parent: int | None,
        transpose: float,
        instance: tuple[int, ...],
        window_frames: tuple[int, int],
    ) -> None:
        for t in tracks:
            elide = t is not root and t.id != keep and passes_through(t) and not (meter_groups and not instance)
            here = Placed(t, a, b, parent, transpose, instance, window_frames, warp=warp)
            if not elide:
                out.append(here)
            if isinstance(t, AudioTrack):
                for alias in t.aliases:
                    m = project.track(alias.metatrack_id)
                    assert isinstance(m, Metatrack)
                    w0 = max(window_frames[0], int(round(warps.frame(warp, a, b, alias.start))))
                    w1 = min(window_frames[1], int(round(warps.frame(warp, a, b, alias.end))))
                    if w0 < w1:
                        # m's own timeline runs at alias.offset when the host is at alias.start
                        bm = b + alias.offset - alias.start
                        if _plays_a_render(project, m):
                            here.rendered.append((m, a, bm, (w0, w1)))
                        else:
                            visit(m.children, *inside(m, a, bm, warp), here.id, transpose + m.pitch,
                                  (*instance, alias.id), (w0, w1))  # fmt: skip
                continue
            if not isinstance(t, Metatrack):
                continue
            live = instance or t is root or not (needs_stretch(t) or (t.frozen is not None and root is None))
            if not live:
                continue
            inner_parent = parent if elide else here.id
            if t is root:
                visit(t.children, a, b, warp, inner_parent, transpose, instance, window_frames)
            else:
                visit(t.children, *inside(t, a, b, warp), inner_parent, transpose + t.pitch, instance, window_frames)

    visit([root] if root is not None else project.top_tracks, 1.0, 0.0, -1, None, 0.0, (), ALWAYS)
    return out


@dataclass(frozen=True, slots=True)
class CompileOptions:
    """How `compile_plan` builds a plan.

    ``max_block``: the largest block it renders, frames. ``previous``: the plan now
    playing; the new one gets room to crossfade from it, so that `RenderPlan.adopt` can
    hand fader state over at the swap and glide the clips (a recompile while playing does
    not click). ``fresh``: run every effect on private memory at rest, leaving the live
    effects alone (offline renders). ``root``: play only that metatrack's subtree,
    untransformed. ``keep``: a track that must get its own slot even if it passes
    through (see `playing_tracks`). ``stretch``: what gives the stretched render of a
    metatrack that needs Rubber Band (default: render it now, `stretch.stretched`; a
    live engine passes one that re-renders on a worker while the old render plays).
    ``loop_at``: where the engine's loop starts again (frames; -1: none): streamed clips
    there keep buffers of their own (`render.streams`). ``threads``: how many threads a
    ``fresh`` plan's batched stages run on (`render.parallel`). ``meter_groups``: give
    every metatrack (outside aliases) a slot, so that the plan meters it even when it only
    sums its children (a UI showing every track's meter; it costs a mix per group level).
    """

    max_block: int = 512
    previous: RenderPlan | None = None
    fresh: bool = False
    root: Metatrack | None = None
    keep: int | None = None
    stretch: Callable[[Project, Metatrack], Source] | None = None
    loop_at: int = -1
    threads: int = 1
    meter_groups: bool = False


def compile_plan(project: Project, options: CompileOptions = CompileOptions()) -> RenderPlan:  # noqa: B008
    """Compile ``project`` into a render plan, as ``options`` say (`CompileOptions`)."""
    max_block, previous, fresh, root, keep = (
        options.max_block, options.previous, options.fresh, options.root, options.keep
    )  # fmt: skip
    max_block = check_block(max_block)
    warps = Warps(project, max_block)
    placed = playing_tracks(project, root, keep, warps, options.meter_groups)
    tracks: list[Track] = [project.master, *(p.track for p in placed)]
    n = len(tracks)
    slot = {project.master.id: 0} | {p.id: i for i, p in enumerate(placed, start=1)}
    ids = np.array(list(slot), dtype=np.int64)
    parent = np.array([-1] + [slot[p.parent] if p.parent is not None else 0 for p in placed], np.int32)
    instances = {i: p.instance for i, p in enumerate(placed, start=1) if p.instance}
    copies: dict[int, list[int]] = {}
    for i in instances:
        copies.setdefault(tracks[i].id, []).append(i)
    routes = _send_routes(project, placed, slot)
    rank = _ranks(tracks, parent, [(src, dst) for _, _, src, dst in routes])
    ranks = [np.flatnonzero(rank == r).astype(np.int32) for r in range(1, int(rank.max()) + 1)]
    send_rank = [rank[src] for _, _, src, _ in routes]
    levels, mixes = _segments(ranks, tracks, send_rank)
    send_copies: dict[int, list[int]] = {}
    for k, (send, ident, _, _) in enumerate(routes):
        if ident != send.id:
            send_copies.setdefault(send.id, []).append(k)
    compensation = compensate(
        np.array([_chain_latency(t) for t in tracks], np.int64),
        parent,
        [(src, dst) for _, _, src, dst in routes],
    )
    lines = [("slot", int(ids[s]), int(d)) for s, d in enumerate(compensation.slot_delay) if d > 0]
    lines += [
        ("send", ident, int(d)) for (_, ident, _, _), d in zip(routes, compensation.send_delay, strict=True) if d > 0
    ]
    line_of = {(kind, ident): k for k, (kind, ident, _) in enumerate(lines)}
    delays = delay_lines([n for _, _, n in lines])
    lanes = LaneBuilder(project, warps)
    maps = {0: TimeMap(1.0, 0.0, -1, project.tempo_map)} | {
        i: TimeMap(p.a, p.b, p.warp, tempo_map_of(project, p.track)) for i, p in enumerate(placed, start=1)
    }
    send_table = SendTable(
        ids=np.array([ident for _, ident, _, _ in routes], np.int64),
        rows=SendRows(
            lane=np.array([lanes.add(send.lanes.get("level_db"), maps[src]) for send, _, src, _ in routes], np.int32),
            src=np.array([src for _, _, src, _ in routes], np.int32),
            dst=np.array([dst for _, _, _, dst in routes], np.int32),
            pre=np.array([send.pre_fader for send, _, _, _ in routes], np.bool_),
            gain=np.array([db_to_gain(send.level_db) for send, _, _, _ in routes], np.float64),
            target=np.array([db_to_gain(send.level_db) for send, _, _, _ in routes], np.float64),
            step=np.zeros(len(routes), np.float64),
        ),
        by_level=tuple(
            np.array([k for k in range(len(routes)) if send_rank[k] in {int(rank[x]) for x in level}], np.int32)
            for level in levels
        ),
        index_by_id={ident: k for k, (_, ident, _, _) in enumerate(routes)},
        copies={ident: tuple(ks) for ident, ks in send_copies.items()},
    )

    stretch = options.stretch
    if stretch is None:  # imported here: a stretched render is made through a plan of its own
        from mixtree.render.stretch import stretched as stretch
    streams = StreamBuilder(max_block, project.sample_rate, loop_at=options.loop_at)
    rows = _Rows(project.sample_rate, stretch, warps, streams, project_time=root is None)
    for i, p in enumerate(placed, start=1):
        _collect(project, p, i, rows, p.track is root)
    mono = np.zeros(n, dtype=np.bool_)
    hosts = {int(parent[i]) for i in instances}  # alias instances mix stereo into them
    for s, kinds in rows.channels.items():
        mono[s] = kinds == {1} and s not in hosts
    rows.finish_upmix(mono)
    buffers, windows, stream_state = streams.build()
    for source in streams.sources:
        project.pool.touch(source)

    rate = project.sample_rate
    for i, t in enumerate(tracks):
        bpm = maps[i].tempo.bpm_at(0.0)
        for effect in t.effects:
            if hasattr(effect, "set_tempo") and effect.tempo_bpm != bpm:
                # beat-synced delays follow the tempo where they are: the one at beat 0
                # (a delay line is not retimed by later changes or ramps)
                effect.set_tempo(bpm)
    fader_lanes = FaderLanes(
        *(
            np.array([lanes.add(t.lanes.get(name), maps[i], domain) for i, t in enumerate(tracks)], np.int32)
            for name, domain in (("volume_db", "db"), ("pan", "pan"), ("mute", ""))
        )
    )
    mute = np.array([t.mute and fader_lanes.mute[i] < 0 for i, t in enumerate(tracks)], dtype=np.bool_)
    automation = ParameterAutomation(lanes, maps, max_block)
    plan = RenderPlan(
        sample_rate=rate,
        max_block=max_block,
        ids=ids,
        slot_by_id=slot,
        track_ids=np.array([t.id for t in tracks], dtype=np.int64),
        instance_slots={ident: tuple(slots) for ident, slots in copies.items()},
        instance_keys={int(ids[i]): key for i, key in instances.items()},
        parent=parent,
        mono=mono,
        levels=levels,
        mix_levels=mixes,
        level_stages=tuple(
            chain_stages(
                {int(s): tracks[s].effects for s in level},
                rate,
                fresh,
                instances,
                automation,
                automation.held,
                options.threads,
            )  # fmt: skip
            for level in levels
        ),
        master_stages=chain_stages({0: project.master.effects}, rate, fresh, None, automation, automation.held),
        sends=send_table,
        clips=rows.clip_table(),
        varispeed=rows.varispeed_table(),
        sources=source_list(buffers),
        windows=windows,
        streams=stream_state,
        warps=warps.table(),
        midi=midi_table(
            [
                (i, p.track, partial(warps.frame, p.warp, p.a, p.b), p.transpose, p.window_frames, p.instance)
                for i, p in enumerate(placed, 1)
                if isinstance(p.track, MidiTrack)
            ],
            rate,
            fresh,
            automation.held,
        ),
        volume=np.array([db_to_gain(t.volume_db) for t in tracks], dtype=np.float64),
        pan=np.array([t.pan for t in tracks], dtype=np.float64),
        mute=mute,  # a mute lane plays instead of the manual mute
        solo=np.array([t.solo for t in tracks], dtype=np.bool_),
        solo_safe=np.array([isinstance(t, BusTrack) and t.solo_safe for t in tracks], dtype=np.bool_),
        audible=np.zeros(n, dtype=np.bool_),
        faders=faders_for(n),
        lanes=lanes.table(),
        lane_index=lanes.index(),
        clocks=_clocks(tracks, maps, [ALWAYS] + [p.window_frames for p in placed]),
        fader_lanes=fader_lanes,
        parameter_lanes=automation.entries(),
        parameter_arrays=tuple(automation.arrays),
        held_lanes=automation.entries(held=True),
        held_arrays=tuple(automation.held_arrays),
        compensation=compensation,
        delays=delays,
        rings=tuple(delays.ring) if lines else (),
        slot_line=np.array([line_of.get(("slot", int(i)), -1) for i in ids], np.int64),
        send_line=np.array([line_of.get(("send", ident), -1) for _, ident, _, _ in routes], np.int64),
        line_keys=tuple(lines),
        latency_sources=tuple((e, e.latency) for t in tracks for e in _chain(t) if e.latency or e.hosted),
        hosted=tuple(e for t in tracks for e in _chain(t) if e.hosted),
        carry_map=np.full(n, -1, dtype=np.int32),
        crossfade=previous is not None,
        meters=not fresh,
    )
    if stream_state is not None:
        stream_state.clips, stream_state.rows = plan.clips, plan.varispeed
    if fresh:
        plan.read_synchronously()
        plan.read_clips_in_stages()  # (on several threads only)
    if previous is not None:
        plan.prepare_crossfade(previous)
        if plan.streams is not None and previous.streams is not None:
            plan.streams.adopt(previous.streams)
    if not fresh and root is None:
        _forget_instances(placed)
    return plan


def _chain(track: Track) -> list[Effect]:
    """Return the effects (and instrument) that process ``track``'s signal."""
    chain = [e for e in track.effects if not e.offline]
    if isinstance(track, MidiTrack):
        chain.append(track.instrument)
    return chain


def _chain_latency(track: Track) -> int:
    """Return the frames ``track``'s chain (and hosted instrument) delays it by: its
    plugins' reported latency (an alias instance plays copies of them)."""
    return sum(e.latency for e in _chain(track))


def _clocks(
    tracks: list[Track], maps: dict[int, TimeMap], windows: list[tuple[int, int]]
) -> dict[int, list[tuple[tuple[int, int], TimeMap]]]:  # fmt: skip
    """Return, by lane id, the timelines each lane of the plan's tracks, sends and effects
    runs on: (output frames where that copy plays, its slot's map), the track's own first,
    then one per alias instance."""
    out: dict[int, list[tuple[tuple[int, int], TimeMap]]] = {}
    for i, t in enumerate(tracks):
        instrument = (t.instrument,) if isinstance(t, MidiTrack) else ()
        for owner in (t, *t.sends, *t.effects, *instrument):
            for lane in owner.lanes.values():
                out.setdefault(lane.id, []).append((windows[i], maps[i]))
    return out


def _send_routes(project: Project, placed: list[Placed], slot: dict[int, int]) -> list[tuple[Send, int, int, int]]:
    """Return every send the plan runs as (send, id, source slot, bus slot).

    A track inside an alias instance sends as its original does, under an instance id:
    to the bus's copy in the innermost enclosing alias that plays one, else to the bus.
    """
    routes = []
    for p in [Placed(project.master, 1.0, 0.0, None), *placed]:
        for send in p.track.sends:
            ident, bus = send.id, send.bus_id
            if p.instance:
                ident = instance_id(p.instance, send.id)
                # the bus's copy in the innermost alias that holds one, else the bus itself
                copies = (instance_id(p.instance[:k], send.bus_id) for k in range(len(p.instance), 0, -1))
                bus = next((c for c in copies if c in slot), send.bus_id)
            if p.id in slot and bus in slot:
                routes.append((send, ident, slot[p.id], slot[bus]))
    return routes


def stem_slots(project: Project, plan: RenderPlan) -> dict[int, list[int]]:
    """Return, for every top-level track id, the slots that mix straight into the master
    on its behalf: its own, or for a metatrack that passes through, its children's."""
    out: dict[int, list[int]] = {t.id: [] for t in project.top_tracks}
    for s in np.flatnonzero(plan.parent == 0):
        track = project.track(int(plan.track_ids[s]))
        top = ancestors(project, track)
        out[top[-1].id if top else track.id].append(int(s))
    return out


def _forget_instances(placed: list[Placed]) -> None:
    """Let every effect keep only the alias instances a live plan of the whole project plays."""
    used: dict[int, tuple[Effect, set[tuple[int, ...]]]] = {}
    for p in placed:
        instrument = [p.track.instrument] if isinstance(p.track, MidiTrack) else []
        for effect in [*p.track.effects, *instrument]:
            used.setdefault(id(effect), (effect, set()))[1].add(p.instance)
    for effect, keys in used.values():
        effect.keep_instances(keys)


def _segments(
    ranks: list[np.ndarray], tracks: list[Track], send_rank: list[int]
) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
    """Group ranks into segments: a rank with effects or sends starts one; ranks without
    either join the previous segment's mix, so a deep tree of plain groups costs one
    mixing call, not one per level. Returns (head slots, mix slots) per segment."""
    heads: list[np.ndarray] = []
    mixes: list[list[np.ndarray]] = []
    sending = set(send_rank)
    for r, level in enumerate(ranks, start=1):
        busy = r in sending or any(tracks[s].effects for s in level)
        if busy or not heads:
            heads.append(level)
            mixes.append([level])
        else:
            mixes[-1].append(level)
    return tuple(heads), tuple(np.concatenate(m).astype(np.int32) for m in mixes)


def _ranks(tracks: list[Track], parent: np.ndarray, send_edges: list[tuple[int, int]]) -> np.ndarray:
    """Return each slot's processing rank: 1 + the highest rank among its inputs.

    Inputs are a track's children and the tracks sending to it; a slot runs after all of
    them. The master (slot 0) gets no rank of its own: it always runs last.
    """
    inputs: dict[int, list[int]] = {s: [] for s in range(len(tracks))}
    for s in range(1, len(tracks)):
        inputs[int(parent[s])].append(s)
    for src, dst in send_edges:
        inputs[dst].append(src)
    rank = np.zeros(len(tracks), dtype=np.int64)
    done: set[int] = set()

    def visit(s: int) -> int:
        if s not in done:
            rank[s] = 1 + max((visit(i) for i in inputs[s]), default=0)
            done.add(s)
        return int(rank[s])

    for s in range(1, len(tracks)):
        visit(s)
    rank[0] = 0
    return rank


@dataclass
class _Rows:
    """Clip rows gathered while walking the tree, split into whole-frame and varispeed."""

    rate: int
    stretch: Callable[[Project, Metatrack], Source]
    warps: Warps
    streams: StreamBuilder
    project_time: bool = True
    plain: list[tuple] = field(default_factory=list)
    vari: list[tuple] = field(default_factory=list)
    channels: dict[int, set[int]] = field(default_factory=dict)

    def source(self, clip: Clip, rate: float, span: tuple[int, int] | None) -> int:
        """Return the reference row reading ``clip`` at ``rate`` source frames per output
        frame reads its source through (``span``: the output frames it sounds in, None
        under a warp)."""
        return self.streams.add(clip.source, rate, clip.reversed, clip.id, span)

    def add(self, slot: int, clip: Clip, a: float, b: float, window: tuple[int, int], warp: int = -1) -> None:
        """Add ``clip`` on ``slot`` whose timeline maps to time x as x = (τ − b) / a (x: output
        time, or the child time of ``warp``)."""
        if clip.muted or clip.gain_db == -np.inf:
            return
        rate = self.rate
        self.channels.setdefault(slot, set()).add(clip.source.channels)
        t0 = (clip.start - b) / a * rate
        plain = warp < 0 and abs(a * clip.speed - 1.0) < 1e-12 and abs(t0 - round(t0)) < 1e-6
        speed = 1.0 if plain else abs(a * clip.speed) * (self.warps.fastest(warp) if warp >= 0 else 1.0)
        length_out = clip.duration / a * rate
        span = None if warp >= 0 else (int(math.floor(t0)) - 1, int(math.ceil(t0 + length_out)) + 1)
        common = (self.source(clip, speed, span), db_to_gain(clip.gain_db), curve_code(clip.fade_curve), clip.reversed)
        if plain:
            # composed rate 1 on a whole frame (a bounce inside a half-speed group plays at
            # speed 2, say): whole-frame copies, no resampling
            start = int(round(t0))
            length = int(round(clip.duration / a * rate))
            self.plain.append(
                (
                    slot,
                    start,
                    start + length,
                    int(round(clip.offset * rate)),
                    *common,
                    int(round(clip.fade_in / a * rate)),
                    int(round(clip.fade_out / a * rate)),
                    *window,
                )
            )
        else:
            self.vari.append(
                (
                    slot,
                    t0,
                    a,
                    clip.duration * rate,
                    clip.speed,
                    clip.offset * rate,
                    *common,
                    clip.fade_in * rate,
                    clip.fade_out * rate,
                    *window,
                    warp,
                )
            )

    def finish_upmix(self, mono: np.ndarray) -> None:
        self.upmix = [1.0 if mono[r[0]] else MONO_IN_STEREO for r in self.plain]
        self.vari_upmix = [1.0 if mono[r[0]] else MONO_IN_STEREO for r in self.vari]

    def clip_table(self) -> ClipTable:
        cols = list(zip(*self.plain, strict=True)) if self.plain else [()] * 12
        slot, start, end, offset, src, gain, curve, rev, fin, fout, w0, w1 = cols
        return ClipTable(
            track=np.array(slot, np.int32),
            start=np.array(start, np.int64),
            end=np.array(end, np.int64),
            source=np.array(src, np.int32),
            offset=np.array(offset, np.int64),
            gain=np.array(gain, np.float32),
            fade_in=np.array(fin, np.int64),
            fade_out=np.array(fout, np.int64),
            curve=np.array(curve, np.int8),
            reversed=np.array(rev, np.bool_),
            upmix=np.array(self.upmix, np.float32),
            window=np.array(list(zip(w0, w1, strict=True)), np.int64).reshape(-1, 2),
        )

    def varispeed_table(self) -> VarispeedTable:
        cols = list(zip(*self.vari, strict=True)) if self.vari else [()] * 15
        slot, t0, a, length, speed, offset, src, gain, curve, rev, fin, fout, w0, w1, warp = cols
        return VarispeedTable(
            track=np.array(slot, np.int32),
            t0=np.array(t0, np.float64),
            a=np.array(a, np.float64),
            length=np.array(length, np.float64),
            speed=np.array(speed, np.float64),
            source=np.array(src, np.int32),
            offset=np.array(offset, np.float64),
            gain=np.array(gain, np.float64),
            fade_in=np.array(fin, np.float64),
            fade_out=np.array(fout, np.float64),
            curve=np.array(curve, np.int8),
            reversed=np.array(rev, np.bool_),
            upmix=np.array(self.vari_upmix, np.float64),
            window=np.array(list(zip(w0, w1, strict=True)), np.int64).reshape(-1, 2),
            warp=np.array(warp, np.int32),
        )


def _collect(project: Project, placed: Placed, slot: int, rows: _Rows, is_root: bool) -> None:
    """Add the clip rows that sound on ``slot``: its own clips, the render that stands for
    a frozen or stretched metatrack's subtree, and those of the aliases it hosts."""
    track, a, b, warp = placed.track, placed.a, placed.b, placed.warp
    if isinstance(track, Metatrack) and not is_root and not placed.instance:
        if needs_stretch(track):
            _add_render(project, track, slot, a, b, ALWAYS, rows, warp)
        elif track.frozen is not None and rows.project_time:
            _add_render(project, track, slot, 1.0, 0.0, ALWAYS, rows, -1)
    if isinstance(track, AudioTrack):
        for clip in track.clips:
            rows.add(slot, clip, a, b, placed.window_frames, warp)
    for m, ma, mb, window_frames in placed.rendered:
        _add_render(project, m, slot, ma, mb, window_frames, rows, warp)


def _add_render(
    project: Project,
    m: Metatrack,
    slot: int,
    a: float,
    b: float,
    window_frames: tuple[int, int],
    rows: _Rows,
    warp: int,
) -> None:
    """Add the render standing for ``m``'s subtree on ``slot``; τ = a·x + b is the time of
    the timeline ``m`` sits on, x that of ``warp`` (for a frozen render, project time)."""
    if needs_stretch(m):
        # the stretched sound starts where the children's time 0 falls on the parent's
        source = rows.stretch(project, m)
        lead = max(0.0, -m.offset)
        length = source.duration - lead
        if length * rows.rate >= 1:
            clip = Clip(0, None, source, start=max(0.0, m.offset), duration=length, offset=lead)
            rows.add(slot, clip, a, b, window_frames, warp)
    elif m.frozen is not None:
        # the frozen render is the metatrack's submix in project time, from 0
        frozen = Clip(0, None, m.frozen, start=0.0, duration=m.frozen.duration)
        rows.add(slot, frozen, a, b, window_frames, warp)
