"""The project: sample rate, audio pool, master and the track tree, edited by operations."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from mixtree.effects.base import Effect
from mixtree.errors import UnknownIdError
from mixtree.model import structure
from mixtree.model.clip import AliasClip, Clip
from mixtree.model.history import History, Inverse
from mixtree.model.midi import MidiClip
from mixtree.model.operations import (
    AddTrack,
    Batch,
    MoveTrack,
    Operation,
    RemoveAlias,
    RemoveSend,
    RemoveTrack,
    SetEffectParameter,
    SetProjectAttribute,
)
from mixtree.model.pool import AudioPool
from mixtree.model.record import Record
from mixtree.model.tempo import TempoMap
from mixtree.model.tracks import AudioTrack, BusTrack, MasterTrack, Metatrack, MidiTrack, Send, Track
from mixtree.units import check_sample_rate

if TYPE_CHECKING:
    import numpy as np

#: How many metatracks may nest inside each other unless the project says otherwise.
DEFAULT_MAX_NESTING = 10


class Project:
    """A session: audio pool, master bus and a tree of tracks, at one sample rate.

    Every change goes through `apply` as an `Operation`; attribute assignments on tracks
    and clips do that for you. ``version`` counts applied operations, and listeners
    (the engine, later the undo history) are told of each one.
    """

    def __init__(self, sample_rate: int = 48000) -> None:
        self.sample_rate = check_sample_rate(sample_rate)
        self._next_id = 1
        self._records: dict[int, Record] = {}
        self._effects: dict[int, Effect] = {}
        self._root: list[Track] = []
        self._max_nesting = DEFAULT_MAX_NESTING
        self.version = 0
        self._listeners: list[Callable[[Operation], None]] = []
        self._history = History()
        self.pool = AudioPool(self)
        self.tempo_map = TempoMap(120.0, apply=self.apply)
        self.master = MasterTrack(self._new_id(), self, "Master")
        self._records[self.master.id] = self.master

    # -- edits ---------------------------------------------------------------------------
    def apply(self, op: Operation) -> Operation:
        """Apply ``op``, check the track graph if it changed shape, tell the listeners.

        An operation that breaks a rule (a loop, too deep a nesting) is reverted and its
        ``ValueError`` raised; nothing changes.
        """
        op.apply(self)
        if op.structural:
            try:
                structure.check(self)
            except ValueError:
                op.revert(self)
                raise
        self._history.record(op)
        self._changed(op)
        return op

    def _changed(self, op: Operation) -> None:
        self.version += 1
        for listener in self._listeners:
            listener(op)

    def undo(self) -> bool:
        """Undo the last edit; return False if there was none. Listeners are told."""
        if not self._history.done:
            return False
        op = self._history.done.pop()
        inverse = Inverse(op)
        inverse.apply(self)
        self._history.undone.append(op)
        self._history.break_merge()
        self._changed(inverse)
        return True

    def redo(self) -> bool:
        """Redo the last undone edit; return False if there was none."""
        if not self._history.undone:
            return False
        op = self._history.undone.pop()
        op.apply(self)
        self._history.done.append(op)
        self._history.break_merge()
        self._changed(op)
        return True

    @property
    def history(self) -> list[str]:
        """Return the descriptions of the edits that `undo` would take back, oldest first."""
        return self._history.descriptions

    @property
    def history_depth(self) -> int:
        """Return how many edits the history keeps."""
        return self._history.depth

    @history_depth.setter
    def history_depth(self, depth: int) -> None:
        if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
            raise ValueError(f"history depth must be a whole number >= 1, not {depth!r}")
        self._history.depth = depth
        del self._history.done[: max(0, len(self._history.done) - depth)]

    def subscribe(self, listener: Callable[[Operation], None]) -> None:
        """Call ``listener(op)`` after every applied operation."""
        self._listeners.append(listener)

    def unsubscribe(self, listener: Callable[[Operation], None]) -> None:
        """Stop calling ``listener``."""
        self._listeners.remove(listener)

    def _add(self, track: Track, index: int | None, parent_id: int | None) -> Track:
        self.apply(AddTrack(track, index, parent_id))
        return track

    def add_audio_track(
        self,
        name: str,
        volume_db: float = 0.0,
        pan: float = 0.0,
        mute: bool = False,
        solo: bool = False,
        index: int | None = None,
        parent_id: int | None = None,
    ) -> AudioTrack:
        """Add an audio track (at the end, or at ``index``, of the top level or ``parent_id``)."""
        track = AudioTrack(self._new_id(), None, name, volume_db=volume_db, pan=pan, mute=mute, solo=solo)
        return self._add(track, index, parent_id)  # type: ignore[return-value]

    def add_midi_track(
        self,
        name: str,
        instrument: Effect | None = None,
        volume_db: float = 0.0,
        pan: float = 0.0,
        index: int | None = None,
        parent_id: int | None = None,
    ) -> MidiTrack:
        """Add a MIDI track playing ``instrument`` (a `PolySynth` by default)."""
        track = MidiTrack(self._new_id(), None, name, instrument, volume_db=volume_db, pan=pan)
        return self._add(track, index, parent_id)  # type: ignore[return-value]

    def add_bus(
        self,
        name: str,
        volume_db: float = 0.0,
        pan: float = 0.0,
        index: int | None = None,
        parent_id: int | None = None,
    ) -> BusTrack:
        """Add a bus track, which tracks feed with `Track.add_send`."""
        track = BusTrack(self._new_id(), None, name, volume_db=volume_db, pan=pan)
        return self._add(track, index, parent_id)  # type: ignore[return-value]

    def add_metatrack(self, name: str, index: int | None = None, parent_id: int | None = None) -> Metatrack:
        """Add an empty metatrack."""
        return self._add(Metatrack(self._new_id(), None, name), index, parent_id)  # type: ignore[return-value]

    def create_metatrack(self, track_ids: list[int], name: str = "Group") -> Metatrack:
        """Group ``track_ids`` (siblings) into a new metatrack standing where the first one was."""
        if not track_ids:
            return self.add_metatrack(name)
        tracks = [self.track(i) for i in track_ids]
        parents = {t.parent_id for t in tracks}
        if len(parents) != 1 or any(t is self.master for t in tracks) or len(set(track_ids)) != len(track_ids):
            raise ValueError("a metatrack is made from distinct tracks that share one parent")
        parent_id = parents.pop()
        siblings = self._siblings(parent_id)
        index = min(siblings.index(t) for t in tracks)
        meta = Metatrack(self._new_id(), None, name)
        ordered = sorted(tracks, key=siblings.index)
        ops: list[Operation] = [AddTrack(meta, index, parent_id)]
        ops += [MoveTrack(t.id, meta.id) for t in ordered]
        self.apply(Batch(f"group {len(tracks)} tracks into {name!r}", ops))
        return meta

    def move_track(self, track_id: int, parent_id: int | None, index: int | None = None) -> None:
        """Move a track (with its subtree) under metatrack ``parent_id`` (None: top level)."""
        self.apply(MoveTrack(track_id, parent_id, index))

    def remove_track(self, track_id: int) -> None:
        """Remove a track (a metatrack with its subtree), with the sends and aliases into it."""
        track = self.track(track_id)
        if track is self.master:
            raise ValueError("the master track cannot be removed")
        inside = {t.id for t in structure.walk([track])}
        ops: list[Operation] = []
        for t in structure.walk(self._root):
            if t.id in inside:
                continue
            ops += [RemoveSend(s.id) for s in t.sends if s.bus_id in inside]
            if isinstance(t, AudioTrack):
                ops += [RemoveAlias(a.id) for a in t.aliases if a.metatrack_id in inside]
        ops.append(RemoveTrack(track_id))
        self.apply(ops[0] if len(ops) == 1 else Batch(f"remove {track.name!r}", ops))

    def ungroup(self, metatrack_id: int) -> list[Track]:
        """Dissolve a metatrack: its children take its place (transforms baked in first).

        The metatrack's own effects, fader and pan go with it; the render stays the same
        when it had none.
        """
        from mixtree.model.metatracks import ungroup

        return ungroup(self, self._metatrack(metatrack_id))

    def flatten(self, metatrack_id: int) -> None:
        """Bake the metatrack's offset and speed into its children; it becomes a plain group."""
        from mixtree.model.metatracks import flatten

        flatten(self, self._metatrack(metatrack_id))

    def freeze(self, metatrack_id: int) -> None:
        """Render the metatrack's children once and play that render instead of them."""
        from mixtree.render.bounce import freeze

        freeze(self, self._metatrack(metatrack_id))

    def unfreeze(self, metatrack_id: int) -> None:
        """Play the metatrack's children live again."""
        from mixtree.model.operations import SetFrozen

        self.apply(SetFrozen(self._metatrack(metatrack_id).id, None))

    def bounce(self, track_id: int) -> AudioTrack:
        """Render a track's output (after its effects, before its fader) into a new audio
        track beside it, with its fader and pan, and mute the original."""
        from mixtree.render.bounce import bounce

        return bounce(self, self.track(track_id))

    @property
    def max_nesting(self) -> int:
        """Return how many metatracks may nest inside each other (default 10)."""
        return self._max_nesting

    @max_nesting.setter
    def max_nesting(self, value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 64:
            raise ValueError(f"max_nesting must be a whole number in 1..64, not {value!r}")
        self.apply(SetProjectAttribute("max_nesting", value))

    # -- queries -------------------------------------------------------------------------
    @property
    def tracks(self) -> list[Track]:
        """Return every track in tree order, parents before children (the master excluded)."""
        return list(structure.walk(self._root))

    def track(self, track_id: int) -> Track:
        """Return the track ``track_id`` (the master included); raise `UnknownIdError` if none."""
        rec = self._records.get(track_id)
        if not isinstance(rec, Track):
            raise UnknownIdError("track", track_id)
        return rec

    def _metatrack(self, track_id: int) -> Metatrack:
        track = self.track(track_id)
        if not isinstance(track, Metatrack):
            raise ValueError(f"{track!r} is not a metatrack")
        return track

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
            if effect in track.effects or (isinstance(track, MidiTrack) and track.instrument is effect):
                return track
        raise UnknownIdError("effect", effect_id)  # pragma: no cover - registry out of step

    def record(self, ident: int) -> Record:
        """Return the track, clip, send or alias with id ``ident``; raise `UnknownIdError` if none."""
        try:
            return self._records[ident]
        except KeyError:
            raise UnknownIdError("track or clip", ident) from None

    def content_end(self, track: Track) -> float:
        """Return where ``track``'s content ends on its own timeline, seconds.

        For a metatrack, that is its children's timeline.
        """
        if isinstance(track, AudioTrack):
            ends = [c.end for c in track.clips] + [a.end for a in track.aliases]
            return max(ends, default=0.0)
        if isinstance(track, MidiTrack):
            return max((c.end for c in track.midi_clips), default=0.0)
        if isinstance(track, Metatrack):
            return max(
                (
                    c.to_parent_time(self.content_end(c)) if isinstance(c, Metatrack) else self.content_end(c)
                    for c in track.children
                ),
                default=0.0,
            )
        return 0.0

    @property
    def duration(self) -> float:
        """Return the end of the last clip on the project's timeline, in seconds."""
        ends = []
        for t in self._root:
            end = self.content_end(t)
            ends.append(t.to_parent_time(end) if isinstance(t, Metatrack) else end)
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

    def export_stems(
        self,
        folder: str | Path,
        start: float = 0.0,
        duration: float | None = None,
        subtype: str | None = None,
        extension: str = "wav",
        tracks: list[int] | None = None,
        blocksize: int = 512,
    ) -> list[Path]:
        """Render each top-level track to a file in ``folder`` in one pass; the stems add
        up to the mix before the master's chain. See `mixtree.render.stems.export_stems`."""
        from mixtree.render.stems import export_stems

        return export_stems(
            self, folder, start, duration, subtype=subtype, extension=extension, blocksize=blocksize, tracks=tracks
        )

    def save(self, path: str | Path | None = None) -> Path:
        """Save as JSON (``.json``) or MessagePack (``.mtp``), atomically, keeping the
        previous file as ``.bak``; media paths are stored relative to the file. Without
        ``path``, where it was last saved or loaded."""
        from mixtree.model.project_file import save

        path = path if path is not None else getattr(self, "path", None)
        if path is None:
            raise ValueError("this project has no file yet: give save() a path")
        return save(self, path)

    def autosave(self) -> Path | None:
        """Write the hidden autosave beside the project's file if anything changed since
        the last save or autosave; return its path (None if nothing was written)."""
        from mixtree.model.project_file import save

        path = getattr(self, "path", None)
        if path is None or self.version == getattr(self, "saved_version", None):
            return None
        written = save(self, path, autosave=True)
        self.saved_version = self.version  # type: ignore[attr-defined]
        return written

    @classmethod
    def load(cls, path: str | Path, recover: bool = False) -> Project:
        """Load a project file (migrating older formats); with ``recover``, its newer
        autosave. Raises `ProjectFileError` naming the file, the place and the problem."""
        from mixtree.model.project_file import load

        return load(path, recover=recover)

    def relink(self, old: int | str | Path, new: str | Path) -> None:
        """Point the source ``old`` (id, path or file name) at the file ``new``."""
        self.pool.relink(old, new)

    def __repr__(self) -> str:
        return f"Project(sample_rate={self.sample_rate}, tracks={len(self.tracks)}, sources={len(self.pool)})"

    # -- used by operations --------------------------------------------------------------
    def _new_id(self) -> int:
        ident = self._next_id
        self._next_id += 1
        return ident

    def _siblings(self, parent_id: int | None) -> list[Track]:
        if parent_id is None:
            return self._root
        parent = self.track(parent_id)
        if not isinstance(parent, Metatrack):
            raise ValueError(f"tracks go inside metatracks; #{parent_id} is {parent!r}")
        return parent.children

    def _insert_track(self, track: Track, index: int | None, parent_id: int | None, keep: bool = False) -> None:
        siblings = self._siblings(parent_id)
        if parent_id is not None and any(t.id == parent_id for t in structure.walk([track])):
            raise ValueError(f"{track!r} cannot go inside itself")
        if index is not None and not 0 <= index <= len(siblings):
            raise ValueError(f"track index must be within 0..{len(siblings)}, not {index}")
        track.parent_id = parent_id
        siblings.insert(len(siblings) if index is None else index, track)
        if not keep:
            for t in structure.walk([track]):
                self._register_track(t)

    def _detach_track(self, track_id: int, keep: bool = False) -> tuple[Track, int, int | None]:
        track = self.track(track_id)
        if track is self.master:
            raise ValueError("the master track cannot be removed")
        parent_id = track.parent_id
        siblings = self._siblings(parent_id)
        index = siblings.index(track)
        del siblings[index]
        if not keep:
            for t in structure.walk([track]):
                self._unregister_track(t)
        return track, index, parent_id

    def _register_track(self, track: Track) -> None:
        track.project = self
        self._records[track.id] = track
        for rec in self._owned(track):
            rec.project = self
            self._records[rec.id] = rec
        for effect in self._processors(track):
            self._register_effect(effect)

    def _unregister_track(self, track: Track) -> None:
        del self._records[track.id]
        for rec in self._owned(track):
            del self._records[rec.id]
        for effect in self._processors(track):
            self._unregister_effect(effect)

    def _processors(self, track: Track) -> list[Effect]:
        if isinstance(track, MidiTrack):
            if track.instrument.id is None:
                track.instrument.id = self._new_id()
            return [track.instrument, *track.effects]
        return list(track.effects)

    @staticmethod
    def _owned(track: Track) -> list[Record]:
        owned: list[Record] = list(track.sends)
        if isinstance(track, AudioTrack):
            owned += track.clips
            owned += track.aliases
        if isinstance(track, MidiTrack):
            owned += track.midi_clips
        return owned

    def _attach_midi_clip(self, track_id: int, clip: MidiClip) -> None:
        track = self.track(track_id)
        if not isinstance(track, MidiTrack):
            raise ValueError(f"{track!r} holds no MIDI clips")
        clip.project = self
        clip.track_id = track_id
        track.midi_clips.append(clip)
        self._records[clip.id] = clip

    def _detach_midi_clip(self, clip_id: int) -> None:
        clip = self._records[clip_id]
        assert isinstance(clip, MidiClip)
        track = self.track(clip.track_id)
        assert isinstance(track, MidiTrack)
        track.midi_clips.remove(clip)
        del self._records[clip_id]

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

    def _attach_alias(self, track_id: int, alias: AliasClip) -> None:
        track = self.track(track_id)
        if not isinstance(track, AudioTrack):
            raise ValueError(f"{track!r} holds no clips")
        alias.project = self
        alias.track_id = track_id
        track.aliases.append(alias)
        self._records[alias.id] = alias

    def _detach_alias(self, alias_id: int) -> tuple[AliasClip, int]:
        alias = self._records.get(alias_id)
        if not isinstance(alias, AliasClip):
            raise UnknownIdError("alias", alias_id)
        track = self.track(alias.track_id)
        assert isinstance(track, AudioTrack)
        track.aliases.remove(alias)
        del self._records[alias_id]
        return alias, track.id

    def _attach_send(self, send: Send) -> None:
        source = self.track(send.source_id)
        if not isinstance(self.track(send.bus_id), BusTrack):
            raise ValueError(f"#{send.bus_id} is not a bus")
        send.project = self
        source.sends.append(send)
        self._records[send.id] = send

    def _detach_send(self, send_id: int) -> Send:
        send = self._records.get(send_id)
        if not isinstance(send, Send):
            raise UnknownIdError("send", send_id)
        self.track(send.source_id).sends.remove(send)
        del self._records[send_id]
        return send

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
