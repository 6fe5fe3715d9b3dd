"""MIDI clips: notes and controller events on a clip's own timeline, in seconds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from mixtree.model import checks
from mixtree.model.record import Edited, Record
from mixtree.units import MAX_SECONDS

if TYPE_CHECKING:
    from mixtree.model.project import Project

#: Controller event kinds a clip can hold besides notes.
EVENT_KINDS = ("cc", "pitch_bend", "program")


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True, slots=True)
class MidiNote:
    """A note: MIDI ``pitch`` 0..127, ``velocity`` 1..127, ``start`` and ``duration`` in
    seconds on its clip's timeline."""

    pitch: int
    velocity: int
    start: float
    duration: float

    def __post_init__(self) -> None:
        if not _whole(self.pitch) or not 0 <= self.pitch <= 127:
            raise ValueError(f"note pitch must be a whole number in 0..127, not {self.pitch!r}")
        if not _whole(self.velocity) or not 1 <= self.velocity <= 127:
            raise ValueError(f"note velocity must be a whole number in 1..127, not {self.velocity!r}")
        checks.number("note start", 0.0, MAX_SECONDS)(self.start)
        if checks.number("note duration", 0.0, MAX_SECONDS)(self.duration) <= 0.0:
            raise ValueError(f"note duration must be above 0 s, not {self.duration!r}")

    @property
    def end(self) -> float:
        """Return when the note is released, on the clip's timeline."""
        return self.start + self.duration


@dataclass(frozen=True, slots=True)
class MidiEvent:
    """A controller event at ``time`` seconds: ``cc`` (``number``, ``value`` 0..127),
    ``pitch_bend`` (``value`` -8192..8191) or ``program`` (``value`` 0..127)."""

    time: float
    kind: str
    value: int
    number: int = 0

    def __post_init__(self) -> None:
        if self.kind not in EVENT_KINDS:
            raise ValueError(f"MIDI event kind must be one of {', '.join(EVENT_KINDS)}, not {self.kind!r}")
        checks.number("event time", 0.0, MAX_SECONDS)(self.time)
        low, high = (-8192, 8191) if self.kind == "pitch_bend" else (0, 127)
        if not _whole(self.value) or not low <= self.value <= high:
            raise ValueError(f"{self.kind} value must be a whole number in {low}..{high}, not {self.value!r}")
        if not _whole(self.number) or not 0 <= self.number <= 127:
            raise ValueError(f"controller number must be in 0..127, not {self.number!r}")


class MidiClip(Record):
    """A MIDI region: its notes and events play from ``offset`` for ``duration`` seconds,
    placed at ``start``. A note still sounding at the clip's end is released there; a
    note that began before ``offset`` does not sound. ``revision`` counts the edits of its
    notes and events (each one and each undo adds 1), so a view can tell they changed."""

    __slots__ = ("track_id", "notes", "events", "revision", "_start", "_duration", "_offset")

    start = Edited(checks.number("start", 0.0, MAX_SECONDS), "Timeline position, s.")
    duration = Edited(checks.number("duration", 0.0, MAX_SECONDS), "Length, s (> 0).")
    offset = Edited(checks.number("offset", 0.0, MAX_SECONDS), "Position in the clip's own timeline, s.")

    def __init__(self, ident: int, project: Project | None, start: float, duration: float, offset: float = 0.0) -> None:
        super().__init__(ident, None)
        self.track_id = 0
        self.notes: list[MidiNote] = []
        self.events: list[MidiEvent] = []
        self.revision = 0
        self._start = MidiClip.start.check(start)
        self._duration = MidiClip.duration.check(duration)
        self._offset = MidiClip.offset.check(offset)
        self.validate()
        self.project = project

    def validate(self) -> None:
        """Raise ``ValueError`` for an empty clip."""
        if self._duration <= 0:
            raise ValueError(f"clip duration must be above 0 s, not {self._duration!r}")

    @property
    def end(self) -> float:
        """Return the timeline position just after the clip, s."""
        return self._start + self._duration

    def add_note(
        self, pitch: int, velocity: int = 100, start: float = 0.0, duration: float = 0.5, in_beats: bool = False
    ) -> MidiNote:
        """Add a note and return it; times are seconds on the clip's timeline, or with
        ``in_beats`` beats from the clip's time 0 (through the tempo map of the clip's track, `tempo_map_of`)."""
        from mixtree.model.operations import AddMidiItem

        if in_beats:
            if self.project is None:
                raise ValueError("a note placed in beats needs the clip to be in a project")
            from mixtree.model.structure import tempo_map_of

            tm = tempo_map_of(self.project, self.project.track(self.track_id))
            zero = self._start - self._offset
            beat = tm.beat_at(zero) + start
            start, duration = tm.seconds_at(beat) - zero, tm.seconds_at(beat + duration) - tm.seconds_at(beat)
        note = MidiNote(pitch, velocity, float(start), float(duration))
        self._apply(AddMidiItem(self.id, note))
        return note

    def add_event(self, time: float, kind: str, value: int, number: int = 0) -> MidiEvent:
        """Add a controller event (``cc``, ``pitch_bend``, ``program``) and return it."""
        from mixtree.model.operations import AddMidiItem

        event = MidiEvent(float(time), kind, value, number)
        self._apply(AddMidiItem(self.id, event))
        return event

    def _apply(self, op: object) -> None:
        if self.project is None:
            op.apply_to(self)  # type: ignore[attr-defined]
        else:
            self.project.apply(op)  # type: ignore[arg-type]

    def __repr__(self) -> str:
        return f"MidiClip(id={self.id}, start={self._start!r}, notes={len(self.notes)})"
