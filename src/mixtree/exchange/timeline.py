"""Timelines of exchange formats: positions in seconds or beats, nested inside clips."""

from __future__ import annotations

from dataclasses import dataclass

from mixtree.model.tempo import TempoMap


def seconds_at(tm: TempoMap, beat: float) -> float:
    """Return the seconds at ``beat``, extended before 0 at the first tempo."""
    return tm.seconds_at(beat) if beat >= 0.0 else beat * 60.0 / tm.tempos[0].bpm


def beat_at(tm: TempoMap, seconds: float) -> float:
    """Return the beat at ``seconds``, extended before 0 at the first tempo."""
    return tm.beat_at(seconds) if seconds >= 0.0 else seconds * tm.tempos[0].bpm / 60.0


@dataclass(frozen=True, slots=True)
class Timeline:
    """A timeline counting ``unit`` (seconds or beats) from ``anchor`` (in that unit, on
    the track's own timeline), its beats counted through ``tempo``."""

    unit: str
    anchor: float
    tempo: TempoMap

    def seconds(self, x: float) -> float:
        """Return the track-timeline seconds of position ``x`` here."""
        if self.unit == "seconds":
            return self.anchor + x
        return seconds_at(self.tempo, self.anchor + x)

    def beats(self, x: float) -> float:
        """Return the track-timeline beat of position ``x`` here."""
        if self.unit == "beats":
            return self.anchor + x
        return beat_at(self.tempo, self.anchor + x)

    def relative(self, x: float) -> float:
        """Return the seconds from this timeline's 0 to ``x`` (exact for seconds)."""
        if self.unit == "seconds":
            return x
        return seconds_at(self.tempo, self.anchor + x) - seconds_at(self.tempo, self.anchor)

    def span(self, x: float, length: float) -> float:
        """Return how many seconds ``length`` lasts from position ``x``."""
        if self.unit == "seconds":
            return length
        return self.seconds(x + length) - self.seconds(x)

    def inner(self, at: float, play_start: float, unit: str) -> Timeline:
        """Return the content timeline of a clip placed at ``at`` here whose content,
        counted in ``unit``, plays from ``play_start``."""
        if unit == "seconds":
            return Timeline(unit, self.seconds(at) - play_start, self.tempo)
        return Timeline(unit, self.beats(at) - play_start, self.tempo)

    def with_unit(self, unit: str | None) -> Timeline:
        """Return this timeline counted in ``unit`` (the same positions; None: unchanged)."""
        if unit is None or unit == self.unit:
            return self
        if unit == "seconds":
            return Timeline(unit, self.seconds(0.0), self.tempo)
        return Timeline(unit, self.beats(0.0), self.tempo)
