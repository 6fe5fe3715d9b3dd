"""Compile a project into a `RenderPlan`: the one module of render/ that reads the model."""

from __future__ import annotations

import numpy as np

from mixtree.dsp.clips import source_list
from mixtree.dsp.fades import curve_code
from mixtree.model.project import Project
from mixtree.model.tracks import AudioTrack, MasterTrack, Track
from mixtree.render.audibility import audibility
from mixtree.render.plan import MAX_BLOCK, MIN_BLOCK, ClipTable, RenderPlan
from mixtree.units import db_to_gain, pan_gains, seconds_to_frames

#: A mono clip on a stereo track sits at the constant-power centre on both sides.
MONO_IN_STEREO = np.float32(np.sqrt(0.5))


def check_block(blocksize: int) -> int:
    """Return ``blocksize`` if it is a whole number of frames in 32..8192, else raise."""
    if isinstance(blocksize, bool) or not isinstance(blocksize, int | np.integer):
        raise ValueError(f"block size must be a whole number of frames, not {blocksize!r}")
    if not MIN_BLOCK <= blocksize <= MAX_BLOCK:
        raise ValueError(f"block size must be within {MIN_BLOCK}..{MAX_BLOCK}, not {blocksize}")
    return int(blocksize)


def fader_gains(track: Track, mono: bool, audible: bool) -> tuple[float, float]:
    """Return the left/right gain of ``track``'s fader: volume, pan law and audibility."""
    if not audible:
        return 0.0, 0.0
    g = db_to_gain(track.volume_db)
    left, right = pan_gains(track.pan, mono)
    return g * left, g * right


def compile_plan(project: Project, max_block: int = 512, previous: RenderPlan | None = None) -> RenderPlan:
    """Compile ``project`` into a plan that renders blocks of up to ``max_block`` frames.

    With ``previous`` (the plan now playing), each track keeps its current fader gain
    and ramps to the new one, so a recompile while playing does not click.
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

    audible = np.zeros(n, dtype=np.bool_)
    audibility(
        parent,
        np.array([t.mute for t in tracks], np.bool_),
        np.array([t.solo for t in tracks], np.bool_),
        np.zeros(n, np.bool_),
        np.zeros(n, np.bool_),
        audible,
    )
    target = np.array(
        [fader_gains(t, bool(mono[i]), bool(audible[i])) for i, t in enumerate(tracks)],
        dtype=np.float64,
    ).reshape(n, 2)
    gain = target.copy()
    step = np.zeros((n, 2), dtype=np.float64)
    if previous is not None:
        _carry_gains(previous, ids, gain, target, step, project.sample_rate)

    depth = np.zeros(n, dtype=np.int32)
    for i in range(1, n):
        depth[i] = depth[parent[i]] + 1
    levels = tuple(np.flatnonzero(depth == d).astype(np.int32) for d in range(int(depth.max()), 0, -1))
    clips, sources = _clip_table(project, tracks, slot, mono)
    return RenderPlan(
        sample_rate=project.sample_rate,
        max_block=max_block,
        ids=ids,
        parent=parent,
        mono=mono,
        levels=levels,
        clips=clips,
        sources=source_list(sources),
        gain=gain,
        target=target,
        step=step,
        track_buf=np.zeros((n, max_block, 2), dtype=np.float32),
    )


#: How long a fader takes to reach a value changed by a recompile, in seconds.
RECOMPILE_RAMP = 0.010


def _carry_gains(
    previous: RenderPlan,
    ids: np.ndarray,
    gain: np.ndarray,
    target: np.ndarray,
    step: np.ndarray,
    rate: int,
) -> None:
    frames = max(1, seconds_to_frames(RECOMPILE_RAMP, rate))
    old_slot = {int(i): s for s, i in enumerate(previous.ids)}
    for s, ident in enumerate(ids):
        o = old_slot.get(int(ident))
        if o is None:
            continue
        gain[s] = previous.gain[o]
        step[s] = np.abs(target[s] - gain[s]) / frames


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
