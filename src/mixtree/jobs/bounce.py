"""Bounce and freeze: render one track's signal into a new pool source the project keeps."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from mixtree.io import audio_file
from mixtree.model.clip import Clip
from mixtree.model.operations import AddClip, AddSource, AddTrack, Batch, SetAttribute, SetFrozen
from mixtree.model.project import Project
from mixtree.model.structure import ancestors, speed_curve, time_map, walk
from mixtree.model.tracks import AudioTrack, Metatrack, Track
from mixtree.render.tap import render_track


def media_dir(project: Project) -> Path:
    """Return the folder rendered media of ``project`` go to: ``media`` beside its file
    once it has one; before its first save, a scratch folder `Project.save` copies them
    out of (rendered sources are marked, so they always end up beside the project)."""
    if project.media_dir is None:
        project.media_dir = Path(tempfile.mkdtemp(prefix="mixtree-media-"))
    project.media_dir.mkdir(parents=True, exist_ok=True)
    return project.media_dir


def _store(project: Project, audio: np.ndarray, stem: str) -> AddSource:
    folder = media_dir(project)
    path = folder / f"{stem}.wav"
    k = 1
    while path.exists():  # never over another render, or a file of the user's
        k += 1
        path = folder / f"{stem}-{k}.wav"
    audio_file.write(path, audio, project.sample_rate, "float")
    source = project.pool.open_source(project.registry.new_id(), path.resolve())  # streams if large
    source.rendered = True
    return AddSource(source)


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
    warped = [m.name for m in ancestors(project, track) if speed_curve(project, m) is not None]
    if warped:
        raise ValueError(
            f"cannot bounce {track.name!r} in place: the speed of {warped[0]!r} is automated, and a bounce plays "
            "at one constant speed (bounce the metatrack above it, or flatten the automation first)"
        )
    audio = render_track(project, track, pre_effects=False)
    if isinstance(track, AudioTrack) and track.clips and all(c.source.channels == 1 for c in track.clips):
        audio = np.ascontiguousarray(audio[:, :1])  # a mono track's buffer holds L = R
    add = _store(project, audio, f"{track.name}-bounce")
    new = AudioTrack(
        project.registry.new_id(), None, f"{track.name} (bounce)", volume_db=track.volume_db, pan=track.pan
    )
    # The render is in project time; the new track sits beside the original, on the
    # timeline τ = a·t + b its parent gives its children. Played at speed 1/a from τ = b
    # (its part before τ = 0 can hold nothing but silence), it sounds exactly where the
    # original did: composed rate 1.
    a, b = time_map(project, project.track(track.parent_id)) if track.parent_id is not None else (1.0, 0.0)
    lead = max(0.0, -b) / a
    clip = Clip(
        project.registry.new_id(),
        None,
        add.source,
        start=max(0.0, b),
        duration=(add.source.duration - lead) * a,
        offset=lead,
        speed=1.0 / a,
    )
    siblings = project.registry.siblings(track.parent_id)
    ops = [add, AddTrack(new, siblings.index(track) + 1, track.parent_id), AddClip(new.id, clip)]
    project.apply(Batch(f"bounce {track.name!r}", [*ops, SetAttribute(track.id, "mute", True)]))
    return new
