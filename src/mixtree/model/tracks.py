"""Tracks: what every track has, and the audio, group (metatrack), bus and master kinds."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from mixtree.effects.base import Effect
from mixtree.model import checks
from mixtree.model.automation import Address, AutomationLane
from mixtree.model.clip import AliasClip, Clip
from mixtree.model.midi import MidiClip
from mixtree.model.operations import (
    AddAlias,
    AddClip,
    AddEffect,
    AddMidiClip,
    AddSend,
    MoveEffect,
    RemoveClip,
    RemoveEffect,
    RemoveSend,
)
from mixtree.model.record import Edited, Record
from mixtree.model.tempo import TempoMap

if TYPE_CHECKING:
    from mixtree.model.pool import Source
    from mixtree.model.project import Project


class Send(Record):
    """A send from a track to a bus: ``level_db``, taken before or after the fader."""

    __slots__ = ("source_id", "bus_id", "_level_db", "_pre_fader", "lanes")

    level_db = Edited(checks.number("level_db", -math.inf, 12.0), "Send level, dB.")
    pre_fader = Edited(checks.flag("pre_fader"), "Take the signal before the fader and pan.")

    def __init__(self, ident: int, source_id: int, bus_id: int, level_db: float = 0.0, pre_fader: bool = False) -> None:
        super().__init__(ident, None)
        self.source_id = source_id
        self.bus_id = bus_id
        self._level_db = Send.level_db.check(level_db)
        self._pre_fader = Send.pre_fader.check(pre_fader)
        self.lanes: dict[str, AutomationLane] = {}

    def automate(self, parameter: str = "level_db") -> AutomationLane:
        """Return the automation lane of the send's ``level_db``, made on first use."""
        if self.project is None:
            raise ValueError(f"{self!r} is not part of a project")
        return self.project.automate(Address(self.id, parameter))

    def __repr__(self) -> str:
        return f"Send(id={self.id}, to={self.bus_id}, level_db={self._level_db!r})"


class Track(Record):
    """What every track has: a name, a fader (``volume_db``), ``pan``, mute/solo, an
    effect chain (``effects``, processed in order before the fader) and sends."""

    __slots__ = (
        "_name",
        "_volume_db",
        "_pan",
        "_mute",
        "_solo",
        "_color",
        "_collapsed",
        "parent_id",
        "effects",
        "sends",
        "lanes",
    )

    name = Edited(checks.text("name"), "Display name.")
    volume_db = Edited(checks.number("volume_db", -math.inf, 24.0), "Fader level, dB.")
    pan = Edited(checks.number("pan", -1.0, 1.0), "Pan, -1 (left) .. 1 (right).")
    mute = Edited(checks.flag("mute"), "Silence the track.")
    solo = Edited(checks.flag("solo"), "Solo the track (DAW convention).")
    color = Edited(checks.color, "Display colour, '#rrggbb' or None.")
    collapsed = Edited(checks.flag("collapsed"), "Shown folded in a UI (a metatrack hides its children).")

    def __init__(
        self,
        ident: int,
        project: Project | None,
        name: str,
        *,
        volume_db: float = 0.0,
        pan: float = 0.0,
        mute: bool = False,
        solo: bool = False,
    ) -> None:
        super().__init__(ident, None)
        self._name = Track.name.check(name)
        self._volume_db = Track.volume_db.check(volume_db)
        self._pan = Track.pan.check(pan)
        self._mute = Track.mute.check(mute)
        self._solo = Track.solo.check(solo)
        self._color: str | None = None
        self._collapsed = False
        self.parent_id: int | None = None
        self.effects: list[Effect] = []
        self.sends: list[Send] = []
        #: Automation lanes of the track's own parameters, by name (see `automate`).
        self.lanes: dict[str, AutomationLane] = {}
        self.project = project

    def automate(self, parameter: str) -> AutomationLane:
        """Return the automation lane of ``parameter`` (``volume_db``, ``pan``, ``mute``;
        a metatrack's ``speed``), made on first use (an undoable edit)."""
        return self._attached().automate(Address(self.id, parameter))

    def add_effect(self, effect: Effect, index: int | None = None) -> Effect:
        """Insert ``effect`` into this track's chain (at the end by default) and return it."""
        if not isinstance(effect, Effect):
            raise ValueError(f"expected an effect, not {effect!r}")
        if effect.id is not None:
            raise ValueError(f"{effect!r} is already in a chain")
        if index is not None and not 0 <= index <= len(self.effects):
            raise ValueError(f"effect index must be within 0..{len(self.effects)}, not {index}")
        project = self._attached()
        effect.id = project.registry.new_id()
        project.apply(AddEffect(self.id, effect, index))
        return effect

    def remove_effect(self, effect_id: int) -> None:
        """Remove the effect ``effect_id`` from this track's chain."""
        self._attached().apply(RemoveEffect(effect_id))

    def move_effect(self, effect_id: int, index: int) -> None:
        """Move the effect ``effect_id`` to position ``index`` of this chain."""
        self._attached().apply(MoveEffect(effect_id, index))

    def add_send(self, bus_id: int, level_db: float = 0.0, pre_fader: bool = False) -> Send:
        """Send this track to the bus ``bus_id``; refused if it would make a loop."""
        project = self._attached()
        if not isinstance(project.track(bus_id), BusTrack):
            raise ValueError(f"sends go to bus tracks; #{bus_id} is {project.track(bus_id)!r}")
        send = Send(project.registry.new_id(), self.id, bus_id, level_db, pre_fader)
        project.apply(AddSend(send))
        return send

    def remove_send(self, send_id: int) -> None:
        """Remove the send ``send_id``."""
        self._attached().apply(RemoveSend(send_id))

    def _attached(self) -> Project:
        if self.project is None:
            raise ValueError(f"track {self._name!r} is not part of a project")
        return self.project

    def __repr__(self) -> str:
        return f"{type(self).__name__}(id={self.id}, name={self._name!r})"


class AudioTrack(Track):
    """A track that plays clips of pool sources, and aliases of metatracks."""

    __slots__ = ("clips", "aliases")

    def __init__(self, ident: int, project: Project | None, name: str, **fader: object) -> None:
        super().__init__(ident, project, name, **fader)  # type: ignore[arg-type]
        self.clips: list[Clip] = []
        self.aliases: list[AliasClip] = []

    def add_clip(
        self,
        source: Source,
        start: float = 0.0,
        duration: float | None = None,
        offset: float = 0.0,
        gain_db: float = 0.0,
        fade_in: float = 0.0,
        fade_out: float = 0.0,
        fade_curve: str = "linear",
        reversed: bool = False,
        muted: bool = False,
        speed: float = 1.0,
    ) -> Clip:
        """Place ``source`` on this track and return the new clip.

        Parameters
        ----------
        source
            A source of this project's pool.
        start, duration, offset
            Timeline position, length (default: to the source's end) and position in the
            source, in seconds.
        gain_db
            Clip gain in dB.
        fade_in, fade_out, fade_curve
            Fade lengths in seconds and their shape (``linear``, ``equal_power``,
            ``exponential``, ``logarithmic``, ``s_curve``).
        reversed, muted
            Play backwards; silence the clip.
        speed
            Varispeed rate (2 plays twice as fast, an octave up).
        """
        project = self._attached()
        if source.id not in project.pool or project.pool.get(source.id) is not source:
            raise ValueError(f"source {source!r} is not in this project's pool")
        if duration is None:
            duration = max(0.0, (source.duration - offset) / speed)
        clip = Clip(
            project.registry.new_id(),
            None,
            source,
            start=start,
            duration=duration,
            offset=offset,
            gain_db=gain_db,
            fade_in=fade_in,
            fade_out=fade_out,
            fade_curve=fade_curve,
            reversed=reversed,
            muted=muted,
            speed=speed,
        )
        project.apply(AddClip(self.id, clip))
        return clip

    def remove_clip(self, clip_id: int) -> None:
        """Remove the clip with id ``clip_id`` from this track."""
        self._attached().apply(RemoveClip(clip_id))

    def add_alias(
        self, metatrack_id: int, start: float = 0.0, duration: float | None = None, offset: float = 0.0
    ) -> AliasClip:
        """Play the content of metatrack ``metatrack_id`` again here, from ``start``.

        ``offset`` is where to begin on the timeline the metatrack sits on (its own offset
        and speed applied, as it sounds in place); ``duration`` defaults to the rest of it.
        """
        project = self._attached()
        target = project.track(metatrack_id)
        if not isinstance(target, Metatrack):
            raise ValueError(f"an alias plays a metatrack; #{metatrack_id} is {target!r}")
        if duration is None:  # to the end of its content, on the timeline it sits on
            from mixtree.model.structure import parent_time

            duration = max(parent_time(project, target, project.content_end(target)) - offset, 0.0)
        alias = AliasClip(project.registry.new_id(), metatrack_id, start, duration, offset)
        project.apply(AddAlias(self.id, alias))
        return alias


class MidiTrack(Track):
    """A track that plays MIDI clips through an instrument, then its chain and fader."""

    __slots__ = ("midi_clips", "instrument")

    def __init__(
        self,
        ident: int,
        project: Project | None,
        name: str,
        instrument: Effect | None = None,
        **fader: object,
    ) -> None:
        super().__init__(ident, project, name, **fader)  # type: ignore[arg-type]
        if instrument is None:
            from mixtree.effects.synth import PolySynth

            instrument = PolySynth()
        if not getattr(instrument, "is_instrument", False):
            raise ValueError(f"a MIDI track plays an instrument, not {instrument!r}")
        self.instrument = instrument
        self.midi_clips: list[MidiClip] = []

    def add_midi_clip(
        self, start: float = 0.0, duration: float = 4.0, offset: float = 0.0, in_beats: bool = False
    ) -> MidiClip:
        """Add an empty MIDI clip and return it; with ``in_beats``, times are beats."""
        project = self._attached()
        if in_beats:
            from mixtree.model.structure import tempo_map_of

            tm = tempo_map_of(project, self)
            end = tm.seconds_at(start + duration)
            start = tm.seconds_at(start)
            duration = end - start
            offset = tm.seconds_at(offset)
        clip = MidiClip(project.registry.new_id(), None, start, duration, offset)
        project.apply(AddMidiClip(self.id, clip))
        return clip


class Metatrack(Track):
    """A track that contains tracks: it mixes its children, then its own chain and fader.

    Its children live on their own timeline: child time = (parent time − ``offset``) ×
    ``speed`` (0.5 is half speed). Transforms compose down the tree. ``pitch`` transposes
    in semitones; with ``preserve_pitch`` a speed change keeps the pitch (Rubber Band),
    otherwise the pitch follows the speed, like tape.
    """

    __slots__ = ("children", "_offset", "_speed", "_pitch", "_preserve_pitch", "frozen", "_tempo_map")

    offset = Edited(checks.number("offset", -86400.0, 86400.0), "Timeline shift of the children, s.")
    speed = Edited(checks.number("speed", 1 / 64, 64.0), "Playback rate of the children (0.5 = half).")
    pitch = Edited(checks.number("pitch", -48.0, 48.0), "Transposition, semitones.")
    preserve_pitch = Edited(checks.flag("preserve_pitch"), "Keep the pitch when the speed changes.")

    def __init__(self, ident: int, project: Project | None, name: str, **fader: object) -> None:
        super().__init__(ident, project, name, **fader)  # type: ignore[arg-type]
        self.children: list[Track] = []
        self._offset = 0.0
        self._speed = 1.0
        self._pitch = 0.0
        self._preserve_pitch = False
        self.frozen: Source | None = None
        self._tempo_map: TempoMap | None = None

    @property
    def tempo_map(self) -> TempoMap | None:
        """Return the metatrack's own tempo map (beats inside it count on its children's
        timeline through it), or None: it follows its parent's."""
        return self._tempo_map

    @tempo_map.setter
    def tempo_map(self, tempo_map: TempoMap | None) -> None:
        from mixtree.model.operations import SetTrackTempoMap

        if tempo_map is not None and not isinstance(tempo_map, TempoMap):
            raise ValueError(f"a metatrack's tempo map is a TempoMap or None, not {tempo_map!r}")
        if tempo_map is not None and tempo_map.owner is not None:
            raise ValueError("that tempo map belongs to another metatrack: give this one a copy()")
        if tempo_map is not None and self.project is not None and tempo_map is self.project.tempo_map:
            raise ValueError("the project's tempo map cannot be a metatrack's own: give it a copy()")
        if self.project is None:
            self._tempo_map = tempo_map
        else:
            self.project.apply(SetTrackTempoMap(self.id, tempo_map))

    def validate(self) -> None:
        """Raise ``ValueError`` if an automated speed meets pitch or preserve_pitch (an
        automated speed plays as tape: Rubber Band renders one constant speed)."""
        lane = self.lanes.get("speed")
        if lane is not None and lane.plays and (self._pitch != 0.0 or self._preserve_pitch):
            raise ValueError(
                f"{self._name!r}: an automated speed plays as tape, so the metatrack keeps pitch 0 and "
                "preserve_pitch off while its speed lane plays"
            )

    @property
    def has_transform(self) -> bool:
        """Return True if offset, speed, pitch or preserve_pitch differ from neutral."""
        return (self._offset, self._speed, self._pitch, self._preserve_pitch) != (0.0, 1.0, 0.0, False)

    def to_child_time(self, t: float) -> float:
        """Map a time of this track's timeline to its children's at the constant ``speed``
        (`mixtree.model.structure.child_time` follows automated speed too)."""
        return (t - self._offset) * self._speed

    def to_parent_time(self, t: float) -> float:
        """Map a time of the children's timeline to this track's at the constant ``speed``
        (`mixtree.model.structure.parent_time` follows automated speed too)."""
        return t / self._speed + self._offset


class BusTrack(Track):
    """A track that receives sends; ``solo_safe`` keeps it audible whatever is soloed."""

    __slots__ = ("_solo_safe",)

    solo_safe = Edited(checks.flag("solo_safe"), "Stay audible when other tracks are soloed.")

    def __init__(self, ident: int, project: Project | None, name: str, **fader: object) -> None:
        super().__init__(ident, project, name, **fader)  # type: ignore[arg-type]
        self._solo_safe = False


class MasterTrack(Track):
    """The master bus: every top-level track sums into it; its pan is a balance control."""

    __slots__ = ()
