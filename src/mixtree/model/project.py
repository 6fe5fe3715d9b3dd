"""The project: sample rate, audio pool, master and the track tree, edited by operations."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from mixtree.effects.base import Effect
from mixtree.errors import UnknownIdError
from mixtree.model.clip import Clip
from mixtree.model.operations import AddTrack, Operation, RemoveTrack, SetEffectParameter
from mixtree.model.pool import AudioPool
from mixtree.model.record import Record
from mixtree.model.tracks import AudioTrack, MasterTrack, Track
from mixtree.units import check_sample_rate

if TYPE_CHECKING:
    import numpy as np


class Project:
    """A session: audio pool, master bus and tracks, at one sample rate.

    Every change goes through `apply` as an `Operation`; attribute assignments on tracks
    and clips do that for you. ``version`` counts applied operations, and listeners
    (the engine, later the undo history) are told of each one.
    """

    def __init__(self, sample_rate: int = 48000) -> None:
        self.sample_rate = check_sample_rate(sample_rate)
        self._next_id = 1
        self._records: dict[int, Record] = {}
        self._effects: dict[int, Effect] = {}
        self._top: list[int] = []
        self.version = 0
        self._listeners: list[Callable[[Operation], None]] = []
        self.pool = AudioPool(self)
        self.master = MasterTrack(self._new_id(), self, "Master")
        self._records[self.master.id] = self.master

    # -- edits ---------------------------------------------------------------------------
    def apply(self, op: Operation) -> Operation:
        """Apply ``op``, tell the listeners, and return it."""
        op.apply(self)
        self.version += 1
        for listener in self._listeners:
            listener(op)
        return op

    def subscribe(self, listener: Callable[[Operation], None]) -> None:
        """Call ``listener(op)`` after every applied operation."""
        self._listeners.append(listener)

    def unsubscribe(self, listener: Callable[[Operation], None]) -> None:
        """Stop calling ``listener``."""
        self._listeners.remove(listener)

    def add_audio_track(
        self,
        name: str,
        volume_db: float = 0.0,
        pan: float = 0.0,
        mute: bool = False,
        solo: bool = False,
        index: int | None = None,
    ) -> AudioTrack:
        """Add an audio track (at the end, or at ``index`` among top-level tracks) and return it."""
        track = AudioTrack(self._new_id(), None, name, volume_db=volume_db, pan=pan, mute=mute, solo=solo)
        self.apply(AddTrack(track, index))
        return track

    def remove_track(self, track_id: int) -> None:
        """Remove the track ``track_id`` with its clips."""
        self.track(track_id)
        self.apply(RemoveTrack(track_id))

    # -- queries -------------------------------------------------------------------------
    @property
    def tracks(self) -> list[Track]:
        """Return every track in tree order (the master excluded)."""
        return [self._records[i] for i in self._top]  # type: ignore[misc]

    def track(self, track_id: int) -> Track:
        """Return the track ``track_id`` (the master included); raise `UnknownIdError` if none."""
        rec = self._records.get(track_id)
        if not isinstance(rec, Track):
            raise UnknownIdError("track", track_id)
        return rec

    def clip(self, clip_id: int) -> Clip:
        """Return the clip ``clip_id``; raise `UnknownIdError` if none."""
        rec = self._records.get(clip_id)
        if not isinstance(rec, Clip):
            raise UnknownIdError("clip", clip_id)
        return rec

    def effect(self, effect_id: int) -> Effect:
        """Return the effect ``effect_id``; raise `UnknownIdError` if none."""
        try:
            return self._effects[effect_id]
        except KeyError:
            raise UnknownIdError("effect", effect_id) from None

    def effect_track(self, effect_id: int) -> Track:
        """Return the track whose chain holds the effect ``effect_id``."""
        effect = self.effect(effect_id)
        for track in [self.master, *self.tracks]:
            if effect in track.effects:
                return track
        raise UnknownIdError("effect", effect_id)  # pragma: no cover - registry out of step

    def record(self, ident: int) -> Record:
        """Return the track or clip with id ``ident``; raise `UnknownIdError` if none."""
        try:
            return self._records[ident]
        except KeyError:
            raise UnknownIdError("track or clip", ident) from None

    @property
    def duration(self) -> float:
        """Return the end of the last clip, in seconds (0 for an empty project)."""
        ends = [c.end for t in self.tracks if isinstance(t, AudioTrack) for c in t.clips]
        return max(ends, default=0.0)

    # -- render and files ----------------------------------------------------------------
    # These delegate upward, to render/ and model/project_file; the model itself never
    # depends on them, which is why the imports are local.
    def render(self, start: float = 0.0, duration: float | None = None, blocksize: int = 512) -> np.ndarray:
        """Render ``duration`` seconds from ``start`` (default: to the end) offline.

        Returns float32 ``(frames, 2)`` at the project rate; see `mixtree.render.offline`.
        """
        from mixtree.render.offline import render

        return render(self, start, duration, blocksize=blocksize)

    def export(
        self,
        path: str | Path,
        start: float = 0.0,
        duration: float | None = None,
        subtype: str | None = None,
        blocksize: int = 512,
    ) -> Path:
        """Render to an audio file, format by extension; see `mixtree.render.offline.export`."""
        from mixtree.render.offline import export

        return export(self, path, start, duration, subtype=subtype, blocksize=blocksize)

    def save(self, path: str | Path) -> Path:
        """Save the project as JSON; media paths are stored relative to the file."""
        from mixtree.model.project_file import save

        return save(self, path)

    @classmethod
    def load(cls, path: str | Path) -> Project:
        """Load a project saved with `save`; raise `ProjectFileError` if it is unreadable."""
        from mixtree.model.project_file import load

        return load(path)

    def __repr__(self) -> str:
        return f"Project(sample_rate={self.sample_rate}, tracks={len(self._top)}, sources={len(self.pool)})"

    # -- used by operations --------------------------------------------------------------
    def _new_id(self) -> int:
        ident = self._next_id
        self._next_id += 1
        return ident

    def _insert_track(self, track: Track, index: int | None) -> None:
        track.project = self
        track.parent_id = None
        self._records[track.id] = track
        self._top.insert(len(self._top) if index is None else index, track.id)
        if isinstance(track, AudioTrack):
            for clip in track.clips:
                self._records[clip.id] = clip
        for effect in track.effects:
            self._register_effect(effect)

    def _detach_track(self, track_id: int) -> tuple[Track, int]:
        track = self.track(track_id)
        if track is self.master:
            raise ValueError("the master track cannot be removed")
        index = self._top.index(track_id)
        del self._top[index]
        del self._records[track_id]
        if isinstance(track, AudioTrack):
            for clip in track.clips:
                del self._records[clip.id]
        for effect in track.effects:
            self._unregister_effect(effect)
        return track, index

    def _attach_clip(self, track_id: int, clip: Clip, index: int | None = None) -> None:
        track = self.track(track_id)
        if not isinstance(track, AudioTrack):
            raise ValueError(f"{track!r} holds no audio clips")
        clip.project = self
        clip.track_id = track_id
        track.clips.insert(len(track.clips) if index is None else index, clip)
        self._records[clip.id] = clip

    def _detach_clip(self, clip_id: int) -> tuple[Clip, int, int]:
        clip = self.clip(clip_id)
        track = self.track(clip.track_id)
        assert isinstance(track, AudioTrack)
        index = track.clips.index(clip)
        del track.clips[index]
        del self._records[clip_id]
        return clip, track.id, index

    def _attach_effect(self, track_id: int, effect: Effect, index: int | None) -> None:
        track = self.track(track_id)
        track.effects.insert(len(track.effects) if index is None else index, effect)
        self._register_effect(effect)

    def _detach_effect(self, effect_id: int) -> tuple[Effect, int, int]:
        track = self.effect_track(effect_id)
        effect = self._effects[effect_id]
        index = track.effects.index(effect)
        del track.effects[index]
        self._unregister_effect(effect)
        return effect, track.id, index

    def _register_effect(self, effect: Effect) -> None:
        effect.prepare(self.sample_rate)
        effect._edit_hook = self._edit_effect
        self._effects[effect.id] = effect  # type: ignore[index]

    def _unregister_effect(self, effect: Effect) -> None:
        effect._edit_hook = None
        del self._effects[effect.id]  # type: ignore[arg-type]

    def _edit_effect(self, effect: Effect, parameter: str, value: float) -> None:
        self.apply(SetEffectParameter(effect.id, parameter, value))  # type: ignore[arg-type]
