"""Compile a project into a `RenderPlan`: the one module of render/ that reads the model."""

from __future__ import annotations

import numpy as np

from mixtree.dsp.clips import source_list
from mixtree.dsp.fades import curve_code
from mixtree.model.project import Project
from mixtree.model.tracks import AudioTrack, MasterTrack, Track
from mixtree.render.plan import MAX_BLOCK, MIN_BLOCK, ClipTable, RenderPlan
from mixtree.render.stages import chain_stages
from mixtree.units import db_to_gain, seconds_to_frames

#: A mono clip on a stereo track sits at the constant-power centre on both sides.
MONO_IN_STEREO = np.float32(np.sqrt(0.5))


def check_block(blocksize: int) -> int:
    """Return ``blocksize`` if it is a whole number of frames in 32..8192, else raise."""
    if isinstance(blocksize, bool) or not isinstance(blocksize, int | np.integer):
        raise ValueError(f"block size must be a whole number of frames, not {blocksize!r}")
    if not MIN_BLOCK <= blocksize <= MAX_BLOCK:
        raise ValueError(f"block size must be within {MIN_BLOCK}..{MAX_BLOCK}, not {blocksize}")
    return int(blocksize)


def compile_plan(
    project: Project, max_block: int = 512, previous: RenderPlan | None = None, fresh: bool = False
) -> RenderPlan:
    """Compile ``project`` into a plan that renders blocks of up to ``max_block`` frames.

    With ``previous`` (the plan now playing), the plan records which of its slots were
    which of ``previous``'s, so that `RenderPlan.adopt` can hand fader state over at the
    swap and a recompile while playing does not click. A ``fresh`` plan (for offline
    renders) runs its effects on private memory at rest, leaving the live effects alone.
    """
    max_block = check_block(max_block)
    tracks: list[Track] = [project.master, *project.tracks]
    n = len(tracks)
    ids = np.array([t.id for t in tracks], dtype=np.int64)
    slot = {t.id: i for i, t in enumerate(tracks)}
    parent = np.array([-1] + [slot.get(t.parent_id or 0, 0) for t in tracks[1:]], np.int32)

    mono = np.zeros(n, dtype=np.bool_)
    for i, t in enumerate(tracks):
        if isinstance(t, AudioTrack) and t.clips:
            mono[i] = all(c.source.channels == 1 for c in t.clips)

    carry_map = np.full(n, -1, dtype=np.int32)
    if previous is not None:
        for s, ident in enumerate(ids):
            carry_map[s] = previous.slot_of(int(ident))

    depth = np.zeros(n, dtype=np.int32)
    for i in range(1, n):
        depth[i] = depth[parent[i]] + 1
    levels = tuple(np.flatnonzero(depth == d).astype(np.int32) for d in range(int(depth.max()), 0, -1))
    clips, sources = _clip_table(project, tracks, slot, mono)
    rate = project.sample_rate
    level_stages = tuple(
        chain_stages({int(s): tracks[s].effects for s in level}, rate, fresh) for level in levels
    )
    return RenderPlan(
        sample_rate=project.sample_rate,
        max_block=max_block,
        ids=ids,
        slot_by_id=slot,
        parent=parent,
        mono=mono,
        levels=levels,
        level_stages=level_stages,
        master_stages=chain_stages({0: project.master.effects}, rate, fresh),
        clips=clips,
        sources=source_list(sources),
        volume=np.array([db_to_gain(t.volume_db) for t in tracks], dtype=np.float64),
        pan=np.array([t.pan for t in tracks], dtype=np.float64),
        mute=np.array([t.mute for t in tracks], dtype=np.bool_),
        solo=np.array([t.solo for t in tracks], dtype=np.bool_),
        solo_safe=np.zeros(n, dtype=np.bool_),
        audible=np.zeros(n, dtype=np.bool_),
        gain=np.zeros((n, 2), dtype=np.float64),
        target=np.zeros((n, 2), dtype=np.float64),
        step=np.zeros((n, 2), dtype=np.float64),
        peak=np.zeros((n, 2), dtype=np.float32),
        rms=np.zeros((n, 2), dtype=np.float32),
        carry_map=carry_map,
        carry_serial=previous.serial if previous is not None else 0,
    )


def _clip_table(
    project: Project, tracks: list[Track], slot: dict[int, int], mono: np.ndarray
) -> tuple[ClipTable, list[np.ndarray]]:
    rate = project.sample_rate
    source_index: dict[int, int] = {}
    sources: list[np.ndarray] = []
    rows = []
    for t in tracks:
        if isinstance(t, MasterTrack) or not isinstance(t, AudioTrack):
            continue
        s = slot[t.id]
        for c in t.clips:
            if c.muted or c.gain_db == -np.inf:
                continue
            if c.source.id not in source_index:
                source_index[c.source.id] = len(sources)
                sources.append(c.source.data)
            start = seconds_to_frames(c.start, rate)
            length = seconds_to_frames(c.duration, rate)
            rows.append(
                (
                    s,
                    start,
                    start + length,
                    source_index[c.source.id],
                    seconds_to_frames(c.offset, rate),
                    db_to_gain(c.gain_db),
                    seconds_to_frames(c.fade_in, rate),
                    seconds_to_frames(c.fade_out, rate),
                    curve_code(c.fade_curve),
                    c.reversed,
                    1.0 if mono[s] else MONO_IN_STEREO,
                )
            )
    cols = list(zip(*rows, strict=True)) if rows else [()] * 11
    dtypes = (
        np.int32,
        np.int64,
        np.int64,
        np.int32,
        np.int64,
        np.float32,
        np.int64,
        np.int64,
        np.int8,
        np.bool_,
        np.float32,
    )
    table = ClipTable(*(np.array(col, dtype=dt) for col, dt in zip(cols, dtypes, strict=True)))
    return table, sources
