"""Bounce and freeze: render one track's signal into a new pool source."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from mixtree.io import audio_file
from mixtree.model.operations import AddSource, AddTrack, Batch, SetAttribute, SetFrozen
from mixtree.model.pool import decode_source
from mixtree.model.project import Project
from mixtree.model.structure import time_map, walk
from mixtree.model.tracks import AudioTrack, Metatrack, Track
from mixtree.render.compile import compile_plan
from mixtree.render.plan import RenderPlan
from mixtree.units import seconds_to_frames


def track_end(project: Project, track: Track) -> float:
    """Return when ``track``'s content ends, in project seconds."""
    a, b = time_map(project, track)
    return max(0.0, (project.content_end(track) - b) / a)


def render_track(project: Project, track: Track, pre_effects: bool, blocksize: int = 512) -> np.ndarray:
    """Render ``track``'s own signal from 0 to its content's end and its tail, before its fader.

    ``pre_effects``: the sum of its clips and children as it enters its chain; otherwise
    as it leaves the chain. float32 ``(frames, 2)``.
    """
    frames = seconds_to_frames(track_end(project, track), project.sample_rate)
    plan = compile_plan(project, max_block=blocksize, fresh=True, keep=track.id)
    return _tap(plan, track.id, pre_effects, frames, blocksize)


def render_subtree(project: Project, m: Metatrack, blocksize: int = 512) -> np.ndarray:
    """Render ``m``'s children on their own timeline (no transform of ``m`` or above), from 0
    to the end of their tails.

    float32 ``(frames, 2)``: the submix entering ``m``'s chain.
    """
    frames = seconds_to_frames(project.content_end(m), project.sample_rate)
    plan = compile_plan(project, max_block=blocksize, fresh=True, root=m, keep=m.id)
    return _tap(plan, m.id, True, frames, blocksize)


#: The longest tail (echoes, reverb, releases) a render keeps after the content ends, s.
TAIL_LIMIT = 30.0
#: A tail ends at its first block below this peak (about -140 dBFS).
SILENCE = 1e-7


def _tap(plan: RenderPlan, ident: int, pre_effects: bool, frames: int, blocksize: int) -> np.ndarray:
    # The content, then its tail while it still sounds: a freeze or a bounce must play
    # on as the live track did after its last clip.
    plan.set_tap(ident, pre_effects)
    limit = frames + int(TAIL_LIMIT * plan.sample_rate)
    out = np.zeros((frames + blocksize, 2), dtype=np.float32)
    mix = np.zeros((blocksize, 2), dtype=np.float32)
    at, peak = 0, 0.0
    while at < frames or (at < limit and peak > SILENCE):
        if at + blocksize > out.shape[0]:
            out = np.concatenate([out, np.zeros_like(out)])
        n = min(blocksize, frames - at) if at < frames else blocksize
        plan.process(mix[:n], at)
        out[at : at + n] = plan.tap_buf[:n]
        peak = float(np.abs(plan.tap_buf[:n]).max())
        at += n
    sounding = np.flatnonzero(np.abs(out[frames:at]).max(axis=1) > SILENCE)
    return out[: frames + (int(sounding[-1]) + 1 if sounding.size else 0)]


def media_dir(project: Project) -> Path:
    """Return the folder new media of ``project`` go to (beside its file once saved)."""
    folder = getattr(project, "media_dir", None)
    if folder is None:
        folder = Path(tempfile.mkdtemp(prefix="mixtree-media-"))
        project.media_dir = folder  # type: ignore[attr-defined]
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _store(project: Project, audio: np.ndarray, stem: str) -> AddSource:
    folder = media_dir(project)
    path = folder / f"{stem}.wav"
    k = 1
    while path.exists():
        k += 1
        path = folder / f"{stem}-{k}.wav"
    audio_file.write(path, audio, project.sample_rate, "float")
    return AddSource(decode_source(project._new_id(), path.resolve(), project.sample_rate))


def freeze(project: Project, m: Metatrack) -> None:
    """Render ``m``'s children once and play that render instead (its chain still runs)."""
    inside = {t.id for t in walk(m.children)}
    leaving = [t.name for t in walk(m.children) for s in t.sends if s.bus_id not in inside]
    if leaving:
        raise ValueError(f"cannot freeze {m.name!r}: {', '.join(leaving)} send outside it")
    add = _store(project, render_track(project, m, pre_effects=True), f"{m.name}-frozen")
    project.apply(Batch(f"freeze {m.name!r}", [add, SetFrozen(m.id, add.source)]))


def bounce(project: Project, track: Track) -> AudioTrack:
    """Render ``track`` after its effects into a new audio track beside it; mute ``track``.

    The new track takes the original's fader and pan, so the mix sounds the same.
    """
    audio = render_track(project, track, pre_effects=False)
    if isinstance(track, AudioTrack) and track.clips and all(c.source.channels == 1 for c in track.clips):
        audio = np.ascontiguousarray(audio[:, :1])  # a mono track's buffer holds L = R
    add = _store(project, audio, f"{track.name}-bounce")
    new = AudioTrack(project._new_id(), None, f"{track.name} (bounce)", volume_db=track.volume_db, pan=track.pan)
    siblings = project._siblings(track.parent_id)
    ops = [add, AddTrack(new, siblings.index(track) + 1, track.parent_id)]
    project.apply(Batch(f"bounce {track.name!r}", [*ops, SetAttribute(track.id, "mute", True)]))
    new.add_clip(add.source, start=0.0)
    return new
