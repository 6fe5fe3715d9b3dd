"""The project: sample rate, audio pool, master and the track tree, edited by operations."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mixtree.effects.base import Effect
from mixtree.errors import UnknownIdError
from mixtree.model import structure
from mixtree.model.automation import Address, AutomationLane, spec_for
from mixtree.model.clip import Clip
from mixtree.model.history import History, Inverse
from mixtree.model.operations import (
    AddLane,
    AddTrack,
    Batch,
    MoveTrack,
    Operation,
    RemoveAlias,
    RemoveSend,
    RemoveTrack,
    SetEffectParameter,
    SetFrozen,
    SetProjectAttribute,
)
from mixtree.model.pool import DEFAULT_BUDGET, AudioPool
from mixtree.model.record import Record
from mixtree.model.registry import Registry
from mixtree.model.tempo import TempoMap
from mixtree.model.tracks import AudioTrack, BusTrack, MasterTrack, Metatrack, MidiTrack, Track
from mixtree.units import OFFLINE_BLOCK, check_sample_rate

if TYPE_CHECKING:
    import numpy as np

#: How many metatracks may nest inside each other unless the project says otherwise.
DEFAULT_MAX_NESTING = 10

#: Whole-project work that lives above the render layer (render, export, stems, freeze,
#: bounce), by name. `mixtree.jobs` fills it in when the package is imported, so the
#: model offers these jobs as methods without ever importing upward.
JOBS: dict[str, Callable[..., Any]] = {}


def _job(name: str) -> Callable[..., Any]:
    try:
        return JOBS[name]
    except KeyError:
        raise RuntimeError(f"Project.{name} is done by mixtree.jobs: import mixtree first") from None


class Project:
    """A session: audio pool, master bus and a tree of tracks, at one sample rate.

    Every change goes through `apply` as an `Operation`; attribute assignments on tracks
    and clips do that for you. ``version`` counts applied edits, and listeners (the
    engine) are told of each one before it counts. ``path`` is the file the project was
    last saved to or loaded from, ``media_dir`` where its rendered media (bounces,
    freezes) are written, ``saved_version`` and ``autosaved_version`` the ``version`` of
    its last save and autosave. ``lock`` (re-entrant) is held through every edit, undo
    and redo: another thread that reads the whole model (the engine's control thread)
    holds it too, so it never sees an edit half made.
    """

    def __init__(self, sample_rate: int = 48000) -> None:
        self.sample_rate = check_sample_rate(sample_rate)
        self.registry = Registry(self)
        self.version = 0
        self.path: Path | None = None
        self.media_dir: Path | None = None
        self.saved_version: int | None = None
        self.autosaved_version: int | None = None
        #: Autosave files this project wrote or recovered from, with the modification time
        #: (ns) they had then: a save may delete those, and only those.
        self.own_autosaves: dict[Path, int] = {}
        self._max_nesting = DEFAULT_MAX_NESTING
        self._pool_budget = DEFAULT_BUDGET
        self._listeners: list[Callable[[Operation], None]] = []
        self.lock = threading.RLock()
        self._history = History()
        self.pool = AudioPool(self)
        self.tempo_map = TempoMap(120.0, apply=self.apply)
        self.master = MasterTrack(self.registry.new_id(), self, "Master")
        self.registry.records[self.master.id] = self.master

    # -- edits ---------------------------------------------------------------------------
    def apply(self, op: Operation) -> Operation:
        """Apply ``op`` as one undoable edit and return it.

        The edit is checked (the rules of the track graph, when it changes its shape) and
        shown to every listener before it counts; if a rule or a listener refuses it, it is
        reverted and the error raised: nothing changes and nothing is recorded.
        """
        with self.lock:
            self._commit(op)
            self._history.record(op)
        return op

    def _commit(self, op: Operation) -> None:
        # Apply, check, tell; all or nothing. A listener that already saw the edit is shown
        # its undoing, so the engine never plays what the model does not hold.
        op.apply(self)
        told: list[Callable[[Operation], None]] = []
        try:
            if op.structural:
                structure.check(self)
            for listener in list(self._listeners):
                listener(op)
                told.append(listener)
        except BaseException:
            op.revert(self)
            for listener in told:
                listener(Inverse(op))
            raise
        self.version += 1

    def undo(self) -> bool:
        """Undo the last edit; return False if there was none. Listeners are told."""
        with self.lock:
            return self._history.undo(self)

    def redo(self) -> bool:
        """Redo the last undone edit; return False if there was none."""
        with self.lock:
            return self._history.redo(self)

    def forget_history(self) -> None:
        """Clear the undo history (a freshly loaded or imported project starts without one)."""
        self._history.clear()

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
        """Call ``listener(op)`` for every edit, before it counts (it may refuse it by raising)."""
        self._listeners.append(listener)

    def unsubscribe(self, listener: Callable[[Operation], None]) -> None:
        """Stop calling ``listener`` (nothing happens if it was not subscribed)."""
        if listener in self._listeners:
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
        track = AudioTrack(self.registry.new_id(), None, name, volume_db=volume_db, pan=pan, mute=mute, solo=solo)
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
        track = MidiTrack(self.registry.new_id(), None, name, instrument, volume_db=volume_db, pan=pan)
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
        track = BusTrack(self.registry.new_id(), None, name, volume_db=volume_db, pan=pan)
        return self._add(track, index, parent_id)  # type: ignore[return-value]

    def add_metatrack(self, name: str, index: int | None = None, parent_id: int | None = None) -> Metatrack:
        """Add an empty metatrack."""
        return self._add(Metatrack(self.registry.new_id(), None, name), index, parent_id)  # type: ignore[return-value]

    def create_metatrack(self, track_ids: list[int], name: str = "Group") -> Metatrack:
        """Group ``track_ids`` (siblings) into a new metatrack standing where the first one was."""
        if not track_ids:
            return self.add_metatrack(name)
        tracks = [self.track(i) for i in track_ids]
        parents = {t.parent_id for t in tracks}
        if len(parents) != 1 or any(t is self.master for t in tracks) or len(set(track_ids)) != len(track_ids):
            raise ValueError("a metatrack is made from distinct tracks that share one parent")
        parent_id = parents.pop()
        siblings = self.registry.siblings(parent_id)
        index = min(siblings.index(t) for t in tracks)
        meta = Metatrack(self.registry.new_id(), None, name)
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
        for t in structure.walk(self.top_tracks):
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
        """Render the metatrack's children once and play that render instead of them
        (`mixtree.jobs.bounce.freeze`): until unfrozen, edits inside it are not heard."""
        _job("freeze")(self, self._metatrack(metatrack_id))

    def unfreeze(self, metatrack_id: int) -> None:
        """Play the metatrack's children live again."""
        self.apply(SetFrozen(self._metatrack(metatrack_id).id, None))

    def bounce(self, track_id: int) -> AudioTrack:
        """Render a track's output (after its effects, before its fader) into a new audio
        track beside it, with its fader and pan, and mute the original
        (`mixtree.jobs.bounce.bounce`)."""
        return _job("bounce")(self, self.track(track_id))

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
    def top_tracks(self) -> list[Track]:
        """Return the top-level tracks in order (the master excluded); the list is the
        project's own: read it, edit through operations."""
        return self.registry.root

    @property
    def tracks(self) -> list[Track]:
        """Return every track in tree order, parents before children (the master excluded)."""
        return list(structure.walk(self.registry.root))

    def track(self, track_id: int) -> Track:
        """Return the track ``track_id`` (the master included); raise `UnknownIdError` if none."""
        return self.registry.track(track_id)

    def _metatrack(self, track_id: int) -> Metatrack:
        track = self.track(track_id)
        if not isinstance(track, Metatrack):
            raise ValueError(f"{track!r} is not a metatrack")
        return track

    def clip(self, clip_id: int) -> Clip:
        """Return the clip ``clip_id``; raise `UnknownIdError` if none."""
        rec = self.registry.records.get(clip_id)
        if not isinstance(rec, Clip):
            raise UnknownIdError("clip", clip_id)
        return rec

    def effect(self, effect_id: int) -> Effect:
        """Return the effect ``effect_id``; raise `UnknownIdError` if none."""
        return self.registry.effect(effect_id)

    def effect_track(self, effect_id: int) -> Track:
        """Return the track whose chain holds the effect ``effect_id``."""
        return self.registry.effect_track(effect_id)

    def processors(self) -> list[Effect]:
        """Return every effect and instrument of the project, the master's included."""
        return list(self.registry.effects.values())

    def record(self, ident: int) -> Record:
        """Return the track, clip, send or alias with id ``ident``; raise `UnknownIdError` if none."""
        return self.registry.record(ident)

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
                    structure.parent_time(self, c, self.content_end(c))
                    if isinstance(c, Metatrack)
                    else self.content_end(c)
                    for c in track.children
                ),
                default=0.0,
            )
        return 0.0

    @property
    def latency(self) -> int:
        """Return how many frames the mix lags the timeline through its plugins' reported
        latency, compensated across the tree (offline renders are aligned for it)."""
        return _job("latency")(self)

    @property
    def duration(self) -> float:
        """Return the end of the last clip on the project's timeline, in seconds."""
        ends = []
        for t in self.registry.root:
            end = self.content_end(t)
            ends.append(structure.parent_time(self, t, end) if isinstance(t, Metatrack) else end)
        return max(ends, default=0.0)

    # -- render and files ----------------------------------------------------------------
    def render(
        self,
        start: float = 0.0,
        duration: float | None = None,
        blocksize: int = OFFLINE_BLOCK,
        threads: int | None = None,
    ) -> np.ndarray:
        """Render ``duration`` seconds from ``start`` (default: to the end) offline, on
        ``threads`` threads (default ``MIXTREE_THREADS``, else 1).

        Returns float32 ``(frames, 2)`` at the project rate; see `mixtree.render.offline.render`.
        """
        return _job("render")(self, start, duration, blocksize=blocksize, threads=threads)

    def export(
        self,
        path: str | Path,
        start: float = 0.0,
        duration: float | None = None,
        subtype: str | None = None,
        blocksize: int = OFFLINE_BLOCK,
        threads: int | None = None,
    ) -> Path:
        """Render to an audio file, format by extension; see `mixtree.jobs.export.export`."""
        return _job("export")(self, path, start, duration, subtype=subtype, blocksize=blocksize, threads=threads)

    def export_stems(
        self,
        folder: str | Path,
        start: float = 0.0,
        duration: float | None = None,
        subtype: str | None = None,
        extension: str = "wav",
        tracks: list[int] | None = None,
        blocksize: int = OFFLINE_BLOCK,
        threads: int | None = None,
    ) -> list[Path]:
        """Render each top-level track to a file in ``folder`` in one pass; the stems add
        up to the mix before the master's chain. See `mixtree.jobs.stems.export_stems`."""
        return _job("export_stems")(
            self, folder, start, duration, subtype=subtype, extension=extension, blocksize=blocksize, tracks=tracks,
            threads=threads,
        )  # fmt: skip

    def save(self, path: str | Path | None = None) -> Path:
        """Save as JSON (``.json``) or MessagePack (``.mtp``), atomically, keeping the
        previous file as ``.bak``; media paths are stored relative to the file, and media
        the project rendered itself move into the ``media`` folder beside it. Without
        ``path``, where it was last saved or loaded."""
        from mixtree.model.project_file import save

        path = path if path is not None else self.path
        if path is None:
            raise ValueError("this project has no file yet: give save() a path")
        return save(self, path)

    def export_dawproject(self, path: str | Path, embed: bool = True) -> Path:
        """Write a DAWproject file (media embedded, or referred to with ``embed=False``);
        see `mixtree.exchange.dawproject_write.export_dawproject`."""
        return _job("export_dawproject")(self, path, embed=embed)

    def export_otio(self, path: str | Path) -> Path:
        """Write an OpenTimelineIO file (adapter by extension, ``.otio``); see
        `mixtree.exchange.otio_write.export_otio`."""
        return _job("export_otio")(self, path)

    def autosave(self) -> Path | None:
        """Write the hidden autosave beside the project's file if anything changed since
        the last save or autosave; return its path (None if nothing was written)."""
        from mixtree.model.project_file import autosave

        return autosave(self)

    @classmethod
    def load(cls, path: str | Path, recover: bool = False) -> Project:
        """Load a project file (migrating older formats); with ``recover``, its newest
        autosave. Raises `ProjectFileError` naming the file, the place and the problem."""
        from mixtree.model.project_file import load

        return load(path, recover=recover)

    def relink(self, old: int | str | Path, new: str | Path) -> None:
        """Point the source ``old`` (id, path or file name) at the file ``new``."""
        self.pool.relink(old, new)

    def __repr__(self) -> str:
        return f"Project(sample_rate={self.sample_rate}, tracks={len(self.tracks)}, sources={len(self.pool)})"

    def _edit_effect(self, effect: Effect, parameter: str, value: float) -> None:
        self.apply(SetEffectParameter(effect.id, parameter, value))  # type: ignore[arg-type]

    def _automate_effect(self, effect: Effect, parameter: str) -> AutomationLane:
        return self.automate(Address(effect.id, parameter))  # type: ignore[arg-type]

    def automate(self, address: Address) -> AutomationLane:
        """Return the automation lane of the parameter at ``address`` (its owner's id and
        its name), made (one undoable edit) on first use; raise ``ValueError`` if it is
        not a parameter that can be automated."""
        owner = self.registry.lane_owner(address.owner)
        if address.name in owner.lanes:
            return owner.lanes[address.name]
        spec, label = spec_for(self, owner, address.name)
        lane = AutomationLane(self.registry.new_id(), address.owner, address.name, spec, label)
        self.apply(AddLane(lane))
        return lane

    @property
    def lanes(self) -> list[AutomationLane]:
        """Return every automation lane of the project."""
        return [r for r in self.registry.records.values() if isinstance(r, AutomationLane)]
