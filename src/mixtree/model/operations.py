"""Operations: every edit of a project is one of these, applied by `Project.apply`.

Each operation can `apply` itself and `revert` what it did, which is the seam the undo
history is built on.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mixtree.effects.base import Effect
    from mixtree.model.automation import AutomationLane
    from mixtree.model.clip import AliasClip, Clip
    from mixtree.model.midi import MidiClip, MidiEvent, MidiNote
    from mixtree.model.pool import Source
    from mixtree.model.project import Project
    from mixtree.model.tempo import TempoMap
    from mixtree.model.tracks import Send, Track


class Operation(ABC):
    """One undoable edit.

    A ``structural`` operation changes the shape of the track graph (tracks, sends,
    aliases); the project checks the graph after it and reverts it if it broke a rule.
    """

    structural = False

    @abstractmethod
    def apply(self, project: Project) -> None:
        """Make the edit; raise (changing nothing) if it is not valid."""

    @abstractmethod
    def revert(self, project: Project) -> None:
        """Undo what `apply` did."""

    @property
    @abstractmethod
    def description(self) -> str:
        """Return a short phrase for the history, such as ``set volume_db of 'Bass'``."""


class SetAttribute(Operation):
    """Set one attribute of a track, clip, send or the master."""

    def __init__(self, ident: int, name: str, value: Any) -> None:
        self.ident = ident
        self.name = name
        self.value = value
        self.old: Any = None

    def apply(self, project: Project) -> None:
        """Set the value; if the record rejects the combination, restore it and raise."""
        obj = project.record(self.ident)
        slot = "_" + self.name
        self.old = getattr(obj, slot)
        setattr(obj, slot, self.value)
        try:
            obj.validate()
        except ValueError:
            setattr(obj, slot, self.old)
            raise

    def revert(self, project: Project) -> None:
        """Restore the previous value."""
        setattr(project.record(self.ident), "_" + self.name, self.old)

    @property
    def description(self) -> str:
        """Return what was set."""
        return f"set {self.name} of #{self.ident} to {self.value!r}"


class SetAttributes(Operation):
    """Set several attributes of one record at once, validated together."""

    def __init__(self, ident: int, values: dict[str, Any]) -> None:
        self.ident = ident
        self.values = values
        self.old: dict[str, Any] = {}

    def apply(self, project: Project) -> None:
        """Set the values; if the record rejects the result, restore them all and raise."""
        obj = project.record(self.ident)
        self.old = {name: getattr(obj, "_" + name) for name in self.values}
        for name, value in self.values.items():
            setattr(obj, "_" + name, value)
        try:
            obj.validate()
        except ValueError:
            self.revert(project)
            raise

    def revert(self, project: Project) -> None:
        """Restore the previous values."""
        obj = project.record(self.ident)
        for name, value in self.old.items():
            setattr(obj, "_" + name, value)

    @property
    def description(self) -> str:
        """Return what was set."""
        return f"set {', '.join(self.values)} of #{self.ident}"


class AddSource(Operation):
    """Register a decoded source in the pool."""

    def __init__(self, source: Source) -> None:
        self.source = source

    def apply(self, project: Project) -> None:
        """Add the source."""
        project.pool._add(self.source)

    def revert(self, project: Project) -> None:
        """Remove the source."""
        project.pool._remove(self.source.id)

    @property
    def description(self) -> str:
        """Return which source was added."""
        return f"add source '{self.source.path.name}'"


class AddTrack(Operation):
    """Add a track at ``index`` among the children of ``parent_id`` (None: top level)."""

    def __init__(self, track: Track, index: int | None = None, parent_id: int | None = None) -> None:
        self.track = track
        self.index = index
        self.parent_id = parent_id
        # a new leaf with no sends or aliases cannot break a rule of the graph
        self.structural = bool(
            getattr(track, "children", None) is not None
            or track.sends
            or getattr(track, "aliases", None)
            or parent_id is not None
        )

    def apply(self, project: Project) -> None:
        """Insert the track."""
        project.registry.insert_track(self.track, self.index, self.parent_id)

    def revert(self, project: Project) -> None:
        """Take the track out again."""
        project.registry.detach_track(self.track.id)

    @property
    def description(self) -> str:
        """Return which track was added."""
        return f"add track '{self.track.name}'"


class RemoveTrack(Operation):
    """Remove a track with its clips (a metatrack with everything inside it)."""

    structural = True

    def __init__(self, ident: int) -> None:
        self.ident = ident
        self.track: Track | None = None
        self.index = 0
        self.parent_id: int | None = None

    def apply(self, project: Project) -> None:
        """Detach the track, remembering where it stood."""
        self.track, self.index, self.parent_id = project.registry.detach_track(self.ident)

    def revert(self, project: Project) -> None:
        """Put the track back where it stood."""
        assert self.track is not None
        project.registry.insert_track(self.track, self.index, self.parent_id)

    @property
    def description(self) -> str:
        """Return which track was removed."""
        return f"remove track #{self.ident}"


class AddClip(Operation):
    """Add a clip to a track."""

    def __init__(self, track_id: int, clip: Clip) -> None:
        self.track_id = track_id
        self.clip = clip

    def apply(self, project: Project) -> None:
        """Attach the clip to its track."""
        project.registry.attach_clip(self.track_id, self.clip)

    def revert(self, project: Project) -> None:
        """Detach the clip."""
        project.registry.detach_clip(self.clip.id)

    @property
    def description(self) -> str:
        """Return where the clip was added."""
        return f"add clip to #{self.track_id}"


class RemoveClip(Operation):
    """Remove a clip from its track."""

    def __init__(self, ident: int) -> None:
        self.ident = ident
        self.clip: Clip | None = None
        self.track_id = 0
        self.index = 0

    def apply(self, project: Project) -> None:
        """Detach the clip, remembering its track and place."""
        self.clip, self.track_id, self.index = project.registry.detach_clip(self.ident)

    def revert(self, project: Project) -> None:
        """Reattach the clip."""
        assert self.clip is not None
        project.registry.attach_clip(self.track_id, self.clip, self.index)

    @property
    def description(self) -> str:
        """Return which clip was removed."""
        return f"remove clip #{self.ident}"


class AddEffect(Operation):
    """Insert an effect into a track's chain at ``index`` (default: the end)."""

    def __init__(self, track_id: int, effect: Effect, index: int | None = None) -> None:
        self.track_id = track_id
        self.effect = effect
        self.index = index

    def apply(self, project: Project) -> None:
        """Insert the effect."""
        project.registry.attach_effect(self.track_id, self.effect, self.index)

    def revert(self, project: Project) -> None:
        """Take the effect out again."""
        project.registry.detach_effect(self.effect.id)

    @property
    def description(self) -> str:
        """Return which effect went where."""
        return f"add {type(self.effect).__name__} to #{self.track_id}"


class RemoveEffect(Operation):
    """Remove an effect from its chain."""

    def __init__(self, effect_id: int) -> None:
        self.effect_id = effect_id
        self.effect: Effect | None = None
        self.track_id = 0
        self.index = 0

    def apply(self, project: Project) -> None:
        """Detach the effect, remembering where it was."""
        self.effect, self.track_id, self.index = project.registry.detach_effect(self.effect_id)

    def revert(self, project: Project) -> None:
        """Put it back where it was."""
        assert self.effect is not None
        project.registry.attach_effect(self.track_id, self.effect, self.index)

    @property
    def description(self) -> str:
        """Return which effect was removed."""
        return f"remove effect #{self.effect_id}"


class MoveEffect(Operation):
    """Move an effect to another place in its chain."""

    def __init__(self, effect_id: int, index: int) -> None:
        self.effect_id = effect_id
        self.index = index
        self.old_index = 0

    def apply(self, project: Project) -> None:
        """Move it."""
        effect, track_id, self.old_index = project.registry.detach_effect(self.effect_id)
        chain_length = len(project.track(track_id).effects)
        if not 0 <= self.index <= chain_length:
            project.registry.attach_effect(track_id, effect, self.old_index)
            raise ValueError(f"effect index must be within 0..{chain_length}, not {self.index}")
        project.registry.attach_effect(track_id, effect, self.index)

    def revert(self, project: Project) -> None:
        """Move it back."""
        effect, track_id, _ = project.registry.detach_effect(self.effect_id)
        project.registry.attach_effect(track_id, effect, self.old_index)

    @property
    def description(self) -> str:
        """Return the move."""
        return f"move effect #{self.effect_id} to {self.index}"


class SetEffectParameter(Operation):
    """Set one parameter (or ``bypass``) of an effect; the audio side glides there."""

    def __init__(self, effect_id: int, parameter: str, value: float) -> None:
        self.effect_id = effect_id
        self.parameter = parameter
        self.value = value
        self.old = 0.0

    def apply(self, project: Project) -> None:
        """Set the value."""
        effect = project.effect(self.effect_id)
        self.old = float(effect.bypass) if self.parameter == "bypass" else effect._values[self.parameter]
        effect.assign(self.parameter, self.value)

    def revert(self, project: Project) -> None:
        """Restore the old value."""
        project.effect(self.effect_id).assign(self.parameter, self.old)

    @property
    def description(self) -> str:
        """Return what was set."""
        return f"set {self.parameter} of effect #{self.effect_id} to {self.value!r}"


class MoveTrack(Operation):
    """Move a track (with its subtree) under ``parent_id`` (None: top level) at ``index``."""

    structural = True

    def __init__(self, ident: int, parent_id: int | None, index: int | None = None) -> None:
        self.ident = ident
        self.parent_id = parent_id
        self.index = index
        self.old_parent: int | None = None
        self.old_index = 0

    def apply(self, project: Project) -> None:
        """Move it."""
        track, self.old_index, self.old_parent = project.registry.detach_track(self.ident, keep=True)
        try:
            project.registry.insert_track(track, self.index, self.parent_id, keep=True)
        except (ValueError, KeyError):
            project.registry.insert_track(track, self.old_index, self.old_parent, keep=True)
            raise

    def revert(self, project: Project) -> None:
        """Move it back."""
        track, _, _ = project.registry.detach_track(self.ident, keep=True)
        project.registry.insert_track(track, self.old_index, self.old_parent, keep=True)

    @property
    def description(self) -> str:
        """Return the move."""
        return f"move track #{self.ident}"


class Batch(Operation):
    """Several operations applied as one edit (and undone as one)."""

    def __init__(self, description: str, ops: list[Operation]) -> None:
        self._description = description
        self.ops = ops
        self.structural = any(op.structural for op in ops)

    def apply(self, project: Project) -> None:
        """Apply every operation in order; if one fails, revert the ones applied and raise."""
        done: list[Operation] = []
        try:
            for op in self.ops:
                op.apply(project)
                done.append(op)
        except Exception:
            for op in reversed(done):
                op.revert(project)
            raise

    def revert(self, project: Project) -> None:
        """Revert every operation, last first."""
        for op in reversed(self.ops):
            op.revert(project)

    @property
    def description(self) -> str:
        """Return the batch's description."""
        return self._description


class AddSend(Operation):
    """Add a send from a track to a bus."""

    structural = True

    def __init__(self, send: Send) -> None:
        self.send = send

    def apply(self, project: Project) -> None:
        """Attach the send."""
        project.registry.attach_send(self.send)

    def revert(self, project: Project) -> None:
        """Detach it."""
        project.registry.detach_send(self.send.id)

    @property
    def description(self) -> str:
        """Return the send."""
        return f"send #{self.send.source_id} to #{self.send.bus_id}"


class RemoveSend(Operation):
    """Remove a send."""

    structural = True

    def __init__(self, ident: int) -> None:
        self.ident = ident
        self.send: Send | None = None

    def apply(self, project: Project) -> None:
        """Detach the send."""
        self.send = project.registry.detach_send(self.ident)

    def revert(self, project: Project) -> None:
        """Attach it again."""
        assert self.send is not None
        project.registry.attach_send(self.send)

    @property
    def description(self) -> str:
        """Return which send."""
        return f"remove send #{self.ident}"


class AddAlias(Operation):
    """Place an alias of a metatrack on an audio track."""

    structural = True

    def __init__(self, track_id: int, alias: AliasClip) -> None:
        self.track_id = track_id
        self.alias = alias

    def apply(self, project: Project) -> None:
        """Attach the alias."""
        project.registry.attach_alias(self.track_id, self.alias)

    def revert(self, project: Project) -> None:
        """Detach it."""
        project.registry.detach_alias(self.alias.id)

    @property
    def description(self) -> str:
        """Return the alias."""
        return f"alias of #{self.alias.metatrack_id} on #{self.track_id}"


class SetFrozen(Operation):
    """Freeze a metatrack to a rendered source (or unfreeze it with None)."""

    def __init__(self, ident: int, source: Source | None) -> None:
        self.ident = ident
        self.source = source
        self.old: Source | None = None

    def apply(self, project: Project) -> None:
        """Swap the frozen source in."""
        track = project.track(self.ident)
        self.old = track.frozen  # type: ignore[attr-defined]
        track.frozen = self.source  # type: ignore[attr-defined]

    def revert(self, project: Project) -> None:
        """Swap the old one back."""
        project.track(self.ident).frozen = self.old  # type: ignore[attr-defined]

    @property
    def description(self) -> str:
        """Return what happened."""
        return f"{'freeze' if self.source else 'unfreeze'} #{self.ident}"


class SetProjectAttribute(Operation):
    """Set a project-wide setting such as ``max_nesting``."""

    structural = True

    def __init__(self, name: str, value: object) -> None:
        self.name = name
        self.value = value
        self.old: object = None

    def apply(self, project: Project) -> None:
        """Set it."""
        self.old = getattr(project, "_" + self.name)
        setattr(project, "_" + self.name, self.value)

    def revert(self, project: Project) -> None:
        """Restore it."""
        setattr(project, "_" + self.name, self.old)

    @property
    def description(self) -> str:
        """Return what was set."""
        return f"set {self.name} to {self.value!r}"


class RemoveAlias(Operation):
    """Remove an alias clip."""

    structural = True

    def __init__(self, ident: int) -> None:
        self.ident = ident
        self.alias: AliasClip | None = None
        self.track_id = 0

    def apply(self, project: Project) -> None:
        """Detach the alias."""
        self.alias, self.track_id = project.registry.detach_alias(self.ident)

    def revert(self, project: Project) -> None:
        """Attach it again."""
        assert self.alias is not None
        project.registry.attach_alias(self.track_id, self.alias)

    @property
    def description(self) -> str:
        """Return which alias."""
        return f"remove alias #{self.ident}"


class AddMidiClip(Operation):
    """Add a MIDI clip to a MIDI track."""

    def __init__(self, track_id: int, clip: MidiClip) -> None:
        self.track_id = track_id
        self.clip = clip

    def apply(self, project: Project) -> None:
        """Attach the clip."""
        project.registry.attach_midi_clip(self.track_id, self.clip)

    def revert(self, project: Project) -> None:
        """Detach it."""
        project.registry.detach_midi_clip(self.clip.id)

    @property
    def description(self) -> str:
        """Return where the clip went."""
        return f"add MIDI clip to #{self.track_id}"


class AddMidiItem(Operation):
    """Add a note or controller event to a MIDI clip."""

    def __init__(self, clip_id: int, item: MidiNote | MidiEvent) -> None:
        self.clip_id = clip_id
        self.item = item

    def apply_to(self, clip: MidiClip) -> None:
        """Add the item to ``clip``."""
        from mixtree.model.midi import MidiNote

        (clip.notes if isinstance(self.item, MidiNote) else clip.events).append(self.item)
        clip.revision += 1

    def apply(self, project: Project) -> None:
        """Add the item."""
        self.apply_to(project.record(self.clip_id))  # type: ignore[arg-type]

    def revert(self, project: Project) -> None:
        """Remove it again."""
        from mixtree.model.midi import MidiNote

        clip = project.record(self.clip_id)
        (clip.notes if isinstance(self.item, MidiNote) else clip.events).remove(self.item)  # type: ignore[attr-defined]
        clip.revision += 1  # type: ignore[attr-defined]

    @property
    def description(self) -> str:
        """Return what was added."""
        return f"add {type(self.item).__name__} to clip #{self.clip_id}"


def _tempo_map(project: Project, owner: int | None) -> TempoMap:
    """Return the project's tempo map (``owner`` None) or metatrack ``owner``'s own."""
    if owner is None:
        return project.tempo_map
    tm = project.track(owner).tempo_map  # type: ignore[attr-defined]
    if tm is None:
        raise ValueError(f"metatrack #{owner} follows its parent's tempo: it has no tempo map of its own")
    return tm


class SetTempo(Operation):
    """Set the tempo at ``beat`` (replacing a change there), ramped or held, in the
    project's tempo map or (``owner``) a metatrack's own."""

    def __init__(self, beat: float, bpm: float, ramp: bool = False, owner: int | None = None) -> None:
        self.beat = beat
        self.bpm = bpm
        self.ramp = ramp
        self.owner = owner
        self.old: list[Any] = []

    def apply(self, project: Project) -> None:
        """Insert the change."""
        from mixtree.model.tempo import TempoChange

        tm = _tempo_map(project, self.owner)
        self.old = list(tm.tempos)
        tm.tempos = [c for c in tm.tempos if c.beat != self.beat] + [TempoChange(self.beat, self.bpm, self.ramp)]
        tm._rebuild()

    def revert(self, project: Project) -> None:
        """Restore the old changes."""
        tm = _tempo_map(project, self.owner)
        tm.tempos = self.old
        tm._rebuild()

    @property
    def description(self) -> str:
        """Return the change."""
        how = "ramp to" if self.ramp else "tempo"
        return f"{how} {self.bpm:g} bpm at beat {self.beat:g}"


class SetTrackTempoMap(Operation):
    """Give a metatrack its own tempo map, or (None) let it follow its parent's again."""

    def __init__(self, ident: int, tempo_map: TempoMap | None) -> None:
        self.ident = ident
        self.tempo_map = tempo_map
        self.old: TempoMap | None = None

    def apply(self, project: Project) -> None:
        """Bind the map to the metatrack, so its edits are the project's operations."""
        track = project.track(self.ident)
        self.old = track._tempo_map  # type: ignore[attr-defined]
        self._bind(project, self.old, None)
        self._bind(project, self.tempo_map, self.ident)
        track._tempo_map = self.tempo_map  # type: ignore[attr-defined]

    def revert(self, project: Project) -> None:
        """Put the old map back."""
        self._bind(project, self.tempo_map, None)
        self._bind(project, self.old, self.ident)
        project.track(self.ident)._tempo_map = self.old  # type: ignore[attr-defined]

    @staticmethod
    def _bind(project: Project, tempo_map: TempoMap | None, owner: int | None) -> None:
        if tempo_map is not None:
            tempo_map.bind(owner, project.apply if owner is not None else None)

    @property
    def description(self) -> str:
        """Return what changed."""
        return f"{'own tempo map' if self.tempo_map else 'parent tempo'} for #{self.ident}"


class SetMeter(Operation):
    """Set the time signature from ``bar`` on (replacing a change at that bar)."""

    def __init__(self, bar: int, numerator: int, denominator: int, owner: int | None = None) -> None:
        self.bar = bar
        self.numerator = numerator
        self.denominator = denominator
        self.owner = owner
        self.old: list[Any] = []

    def apply(self, project: Project) -> None:
        """Insert the change."""
        from mixtree.model.tempo import MeterChange

        tm = _tempo_map(project, self.owner)
        self.old = list(tm.meters)
        tm.meters = [m for m in tm.meters if m.bar != self.bar]
        tm.meters.append(MeterChange(self.bar, self.numerator, self.denominator))
        tm._rebuild()

    def revert(self, project: Project) -> None:
        """Restore the old changes."""
        tm = _tempo_map(project, self.owner)
        tm.meters = self.old
        tm._rebuild()

    @property
    def description(self) -> str:
        """Return the change."""
        return f"{self.numerator}/{self.denominator} from bar {self.bar}"


class Relink(Operation):
    """Give a source new media (its clips follow); the old media can be put back."""

    _FIELDS = ("path", "media", "original_rate", "original_channels", "sha256", "offline", "stamp")

    def __init__(self, ident: int, fresh: Source) -> None:
        self.ident = ident
        self.fresh = fresh
        self.old: dict[str, Any] = {}

    def _swap(self, project: Project, values: dict[str, Any]) -> dict[str, Any]:
        source = project.pool.get(self.ident)
        before = {name: getattr(source, name) for name in self._FIELDS}
        for name, value in values.items():
            setattr(source, name, value)
        return before

    def apply(self, project: Project) -> None:
        """Swap the new media in, checking every clip still fits."""
        self.old = self._swap(project, {name: getattr(self.fresh, name) for name in self._FIELDS})
        try:
            for record in list(project.registry.records.values()):
                if getattr(record, "source", None) is project.pool.get(self.ident):
                    record.validate()
        except ValueError:
            self._swap(project, self.old)
            raise

    def revert(self, project: Project) -> None:
        """Put the old media back."""
        self._swap(project, self.old)

    @property
    def description(self) -> str:
        """Return the relink."""
        return f"relink source #{self.ident} to '{self.fresh.path.name}'"


class AddLane(Operation):
    """Give a parameter an automation lane (on its track, send or effect)."""

    def __init__(self, lane: AutomationLane) -> None:
        self.lane = lane

    def apply(self, project: Project) -> None:
        """Attach the lane to its owner (refused, and left off, if the owner refuses it)."""
        project.registry.attach_lane(self.lane)
        try:
            self.lane.validate()
        except ValueError:
            project.registry.detach_lane(self.lane.id)
            raise

    def revert(self, project: Project) -> None:
        """Take it away again."""
        project.registry.detach_lane(self.lane.id)

    @property
    def description(self) -> str:
        """Return which lane."""
        return f"automate {self.lane.label}"


class RemoveLane(Operation):
    """Take a parameter's automation lane away (the parameter is manual again)."""

    def __init__(self, ident: int) -> None:
        self.ident = ident
        self.lane: AutomationLane | None = None

    def apply(self, project: Project) -> None:
        """Detach the lane."""
        self.lane = project.registry.detach_lane(self.ident)

    def revert(self, project: Project) -> None:
        """Attach it again."""
        assert self.lane is not None
        project.registry.attach_lane(self.lane)

    @property
    def description(self) -> str:
        """Return which lane."""
        return f"remove the automation of #{self.ident}"


class SetLanePoints(Operation):
    """Replace the points of an automation lane (checked by the lane beforehand)."""

    def __init__(self, ident: int, points: tuple[Any, ...]) -> None:
        self.ident = ident
        self.points = points
        self.old: tuple[Any, ...] = ()

    def apply(self, project: Project) -> None:
        """Set the points."""
        lane = project.record(self.ident)
        self.old = lane._points  # type: ignore[attr-defined]
        lane._points = self.points  # type: ignore[attr-defined]
        try:
            lane.validate()
        except ValueError:
            lane._points = self.old  # type: ignore[attr-defined]
            raise

    def revert(self, project: Project) -> None:
        """Restore the old points."""
        project.record(self.ident)._points = self.old  # type: ignore[attr-defined]

    @property
    def description(self) -> str:
        """Return which lane."""
        return f"edit the points of lane #{self.ident}"
