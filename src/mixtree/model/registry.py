"""The registry of a project: its ids, what each names, and the track tree they hang in.

Operations attach and detach tracks, clips, sends, aliases and effects only through
here, so the id maps and the tree never disagree.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mixtree.effects.base import Effect
from mixtree.errors import UnknownIdError
from mixtree.model.automation import AutomationLane
from mixtree.model.clip import AliasClip, Clip
from mixtree.model.midi import MidiClip
from mixtree.model.record import Record
from mixtree.model.structure import walk
from mixtree.model.tracks import AudioTrack, BusTrack, MasterTrack, Metatrack, MidiTrack, Send, Track

if TYPE_CHECKING:
    from mixtree.model.project import Project

#: The largest id a project hands out or reads from a file (integers stay exact in JSON).
MAX_ID = 2**53


class Registry:
    """Ids of one project and the objects they name; the top level of its track tree.

    ``root`` lists the top-level tracks (the master stands apart); metatracks hold the
    rest. ``next_id`` is the id the next new object gets.
    """

    def __init__(self, project: Project) -> None:
        self.project = project
        self.next_id = 1
        self.root: list[Track] = []
        self.records: dict[int, Record] = {}
        self.effects: dict[int, Effect] = {}

    def new_id(self) -> int:
        """Return an id no object of the project has had."""
        ident = self.next_id
        if ident > MAX_ID:
            raise ValueError(f"this project has used every id up to {MAX_ID}")
        self.next_id = ident + 1
        return ident

    def used(self, ident: int) -> bool:
        """Return True if ``ident`` names a track, clip, send, alias, effect or source."""
        return ident in self.records or ident in self.effects or ident in self.project.pool

    # -- lookups -------------------------------------------------------------------------
    def record(self, ident: int) -> Record:
        """Return the track, clip, send or alias ``ident``; raise `UnknownIdError` if none."""
        try:
            return self.records[ident]
        except KeyError:
            raise UnknownIdError("track or clip", ident) from None

    def track(self, ident: int) -> Track:
        """Return the track ``ident`` (the master included); raise `UnknownIdError` if none."""
        rec = self.records.get(ident)
        if not isinstance(rec, Track):
            raise UnknownIdError("track", ident)
        return rec

    def effect(self, ident: int) -> Effect:
        """Return the effect or instrument ``ident``; raise `UnknownIdError` if none."""
        try:
            return self.effects[ident]
        except KeyError:
            raise UnknownIdError("effect", ident) from None

    def effect_track(self, ident: int) -> Track:
        """Return the track whose chain (or instrument slot) holds the effect ``ident``."""
        effect = self.effect(ident)
        for track in [self.project.master, *walk(self.root)]:
            if effect in track.effects or (isinstance(track, MidiTrack) and track.instrument is effect):
                return track
        raise UnknownIdError("effect", ident)  # pragma: no cover - registry out of step

    def siblings(self, parent_id: int | None) -> list[Track]:
        """Return the list a track under ``parent_id`` (None: the top level) stands in."""
        if parent_id is None:
            return self.root
        parent = self.track(parent_id)
        if not isinstance(parent, Metatrack):
            raise ValueError(f"tracks go inside metatracks; #{parent_id} is {parent!r}")
        return parent.children

    # -- tracks --------------------------------------------------------------------------
    def insert_track(self, track: Track, index: int | None, parent_id: int | None, keep: bool = False) -> None:
        """Put ``track`` (with its subtree) at ``index`` under ``parent_id``; register it
        unless ``keep`` (a move: it is registered already)."""
        if isinstance(track, MasterTrack):
            raise ValueError("the master stands apart from the track tree")
        siblings = self.siblings(parent_id)
        if parent_id is not None and any(t.id == parent_id for t in walk([track])):
            raise ValueError(f"{track!r} cannot go inside itself")
        if index is not None and not 0 <= index <= len(siblings):
            raise ValueError(f"track index must be within 0..{len(siblings)}, not {index}")
        if not keep:  # what can fail comes first: an edit that raises changes nothing
            for t in walk([track]):
                for effect in self._processors(t):
                    effect.prepare(self.project.sample_rate)
        track.parent_id = parent_id
        siblings.insert(len(siblings) if index is None else index, track)
        if not keep:
            for t in walk([track]):
                self.register_track(t)

    def detach_track(self, ident: int, keep: bool = False) -> tuple[Track, int, int | None]:
        """Take the track ``ident`` out of the tree; return it, its index and its parent."""
        track = self.track(ident)
        if track is self.project.master:
            raise ValueError("the master track cannot be removed")
        parent_id = track.parent_id
        siblings = self.siblings(parent_id)
        index = siblings.index(track)
        del siblings[index]
        if not keep:
            for t in walk([track]):
                self.unregister_track(t)
        return track, index, parent_id

    def register_track(self, track: Track) -> None:
        """Enter ``track`` and what it owns (clips, sends, aliases, effects) under their ids."""
        track.project = self.project
        self.records[track.id] = track
        if isinstance(track, Metatrack) and track.tempo_map is not None:  # given while detached
            track.tempo_map.bind(track.id, self.project.apply)
        for rec in _owned(track):
            rec.project = self.project
            self.records[rec.id] = rec
        for effect in self._processors(track):
            self.register_effect(effect)

    def unregister_track(self, track: Track) -> None:
        """Forget ``track`` and what it owns."""
        del self.records[track.id]
        if isinstance(track, Metatrack) and track.tempo_map is not None:
            track.tempo_map.bind(None, None)
        for rec in _owned(track):
            del self.records[rec.id]
        for effect in self._processors(track):
            self.unregister_effect(effect)

    def _processors(self, track: Track) -> list[Effect]:
        if isinstance(track, MidiTrack):
            if track.instrument.id is None:
                track.instrument.id = self.new_id()
            return [track.instrument, *track.effects]
        return list(track.effects)

    # -- clips, aliases, sends -----------------------------------------------------------
    def attach_clip(self, track_id: int, clip: Clip, index: int | None = None) -> None:
        """Put ``clip`` on the audio track ``track_id`` (at the end, or at ``index``)."""
        track = self.track(track_id)
        if not isinstance(track, AudioTrack):
            raise ValueError(f"{track!r} holds no audio clips")
        clip.project = self.project
        clip.track_id = track_id
        track.clips.insert(len(track.clips) if index is None else index, clip)
        self.records[clip.id] = clip

    def detach_clip(self, ident: int) -> tuple[Clip, int, int]:
        """Take the clip ``ident`` off its track; return it, its track and its index."""
        clip = self.records.get(ident)
        if not isinstance(clip, Clip):
            raise UnknownIdError("clip", ident)
        track = self.track(clip.track_id)
        assert isinstance(track, AudioTrack)
        index = track.clips.index(clip)
        del track.clips[index]
        del self.records[ident]
        return clip, track.id, index

    def attach_midi_clip(self, track_id: int, clip: MidiClip) -> None:
        """Put ``clip`` on the MIDI track ``track_id``."""
        track = self.track(track_id)
        if not isinstance(track, MidiTrack):
            raise ValueError(f"{track!r} holds no MIDI clips")
        clip.project = self.project
        clip.track_id = track_id
        track.midi_clips.append(clip)
        self.records[clip.id] = clip

    def detach_midi_clip(self, ident: int) -> None:
        """Take the MIDI clip ``ident`` off its track."""
        clip = self.records.get(ident)
        if not isinstance(clip, MidiClip):
            raise UnknownIdError("MIDI clip", ident)
        track = self.track(clip.track_id)
        assert isinstance(track, MidiTrack)
        track.midi_clips.remove(clip)
        del self.records[ident]

    def attach_alias(self, track_id: int, alias: AliasClip) -> None:
        """Put ``alias`` on the audio track ``track_id``."""
        track = self.track(track_id)
        if not isinstance(track, AudioTrack):
            raise ValueError(f"{track!r} holds no clips")
        alias.project = self.project
        alias.track_id = track_id
        track.aliases.append(alias)
        self.records[alias.id] = alias

    def detach_alias(self, ident: int) -> tuple[AliasClip, int]:
        """Take the alias ``ident`` off its track; return it and its track."""
        alias = self.records.get(ident)
        if not isinstance(alias, AliasClip):
            raise UnknownIdError("alias", ident)
        track = self.track(alias.track_id)
        assert isinstance(track, AudioTrack)
        track.aliases.remove(alias)
        del self.records[ident]
        return alias, track.id

    def attach_send(self, send: Send) -> None:
        """Add ``send`` to its source track; the master sends nowhere and sends go to buses."""
        source = self.track(send.source_id)
        if source is self.project.master:
            raise ValueError("the master sends nowhere: it is the mix every track ends in")
        if not isinstance(self.track(send.bus_id), BusTrack):
            raise ValueError(f"#{send.bus_id} is not a bus")
        send.project = self.project
        source.sends.append(send)
        self.records[send.id] = send

    def detach_send(self, ident: int) -> Send:
        """Remove the send ``ident`` from its track and return it."""
        send = self.records.get(ident)
        if not isinstance(send, Send):
            raise UnknownIdError("send", ident)
        self.track(send.source_id).sends.remove(send)
        del self.records[ident]
        return send

    # -- effects -------------------------------------------------------------------------
    def attach_effect(self, track_id: int, effect: Effect, index: int | None) -> None:
        """Insert ``effect`` into the chain of ``track_id`` (at the end, or at ``index``)."""
        track = self.track(track_id)
        self.register_effect(effect)  # first: preparing it may fail, and then nothing changed
        track.effects.insert(len(track.effects) if index is None else index, effect)

    def detach_effect(self, ident: int) -> tuple[Effect, int, int]:
        """Take the effect ``ident`` out of its chain; return it, its track and its index."""
        track = self.effect_track(ident)
        effect = self.effects[ident]
        index = track.effects.index(effect)
        del track.effects[index]
        self.unregister_effect(effect)
        return effect, track.id, index

    def register_effect(self, effect: Effect) -> None:
        """Enter ``effect`` (and its lanes) under its id, ready to play at the project's rate."""
        project = self.project
        effect.prepare(project.sample_rate)
        effect._host = project
        self.effects[effect.id] = effect  # type: ignore[index]
        for lane in effect.lanes.values():
            lane.project = project
            self.records[lane.id] = lane

    def unregister_effect(self, effect: Effect) -> None:
        """Forget ``effect`` and its lanes; edits of it no longer reach the project."""
        effect._host = None
        del self.effects[effect.id]  # type: ignore[arg-type]
        for lane in effect.lanes.values():
            del self.records[lane.id]

    # -- automation lanes ----------------------------------------------------------------
    def lane_owner(self, ident: int) -> Track | Send | Effect:
        """Return the track, send or effect ``ident`` (what lanes hang on)."""
        owner = self.records.get(ident)
        if isinstance(owner, Track | Send):
            return owner
        return self.effect(ident)

    def attach_lane(self, lane: AutomationLane) -> None:
        """Hang ``lane`` on its owner; refused if the parameter has a lane already."""
        owner = self.lane_owner(lane.owner)
        if lane.parameter in owner.lanes:
            raise ValueError(f"{lane.label} has an automation lane already")
        lane.project = self.project
        owner.lanes[lane.parameter] = lane
        self.records[lane.id] = lane

    def detach_lane(self, ident: int) -> AutomationLane:
        """Take the lane ``ident`` off its owner and return it."""
        lane = self.records.get(ident)
        if not isinstance(lane, AutomationLane):
            raise UnknownIdError("automation lane", ident)
        del self.lane_owner(lane.owner).lanes[lane.parameter]
        del self.records[ident]
        return lane


def _owned(track: Track) -> list[Record]:
    owned: list[Record] = list(track.sends) + list(track.lanes.values())
    owned += [lane for send in track.sends for lane in send.lanes.values()]
    if isinstance(track, AudioTrack):
        owned += track.clips
        owned += track.aliases
    if isinstance(track, MidiTrack):
        owned += track.midi_clips
    return owned
