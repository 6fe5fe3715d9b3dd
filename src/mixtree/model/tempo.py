"""The tempo map: tempo and time-signature changes, and exact conversions between
seconds, beats, ticks and bars.

Tempo is piecewise constant between changes placed on beats, so beats ↔ seconds is
piecewise linear and exactly invertible. A beat is a quarter note; ticks count
``PPQ`` per beat (the resolution of imported MIDI files is kept in their ticks).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mixtree.units import MAX_SECONDS

if TYPE_CHECKING:
    from mixtree.model.operations import Operation

#: Ticks per beat mixtree uses for its own tick conversions.
PPQ = 960


@dataclass(frozen=True, slots=True)
class TempoChange:
    """From ``beat`` on, the tempo is ``bpm`` quarter notes a minute."""

    beat: float
    bpm: float


@dataclass(frozen=True, slots=True)
class MeterChange:
    """From ``bar`` (0-based) on, bars are ``numerator``/``denominator``."""

    bar: int
    numerator: int
    denominator: int


class TempoMap:
    """Tempo and meter of a project. Edit it with the project's operations (`set_tempo`)."""

    def __init__(self, bpm: float = 120.0, apply: Callable[[Operation], object] | None = None) -> None:
        self.tempos: list[TempoChange] = [TempoChange(0.0, check_bpm(bpm))]
        self.meters: list[MeterChange] = [MeterChange(0, 4, 4)]
        self._apply = apply
        self._rebuild()

    def set_tempo(self, at_beat: float = 0.0, bpm: float = 120.0) -> None:
        """Set the tempo from ``at_beat`` on (an undoable edit of the project)."""
        from mixtree.model.operations import SetTempo

        self._run(SetTempo(check_beat(at_beat), check_bpm(bpm)))

    def set_meter(self, at_bar: int = 0, numerator: int = 4, denominator: int = 4) -> None:
        """Set the time signature from bar ``at_bar`` (0-based) on (an undoable edit)."""
        from mixtree.model.operations import SetMeter

        self._run(SetMeter(check_bar(at_bar), *check_meter(numerator, denominator)))

    def _run(self, op: Operation) -> None:
        if self._apply is not None:
            self._apply(op)
        else:
            op.apply(_Standalone(self))  # type: ignore[arg-type]

    def _rebuild(self) -> None:
        self.tempos.sort(key=lambda c: c.beat)
        self.meters.sort(key=lambda m: m.bar)
        self._beats = [c.beat for c in self.tempos]
        self._seconds = [0.0]
        for prev, nxt in zip(self.tempos, self.tempos[1:], strict=False):
            self._seconds.append(self._seconds[-1] + (nxt.beat - prev.beat) * 60.0 / prev.bpm)

    # -- conversions ---------------------------------------------------------------------
    def seconds_at(self, beat: float) -> float:
        """Return the time in seconds of ``beat``."""
        i = max(0, bisect.bisect_right(self._beats, beat) - 1)
        return self._seconds[i] + (beat - self._beats[i]) * 60.0 / self.tempos[i].bpm

    def beat_at(self, seconds: float) -> float:
        """Return the beat at ``seconds`` (the inverse of `seconds_at`)."""
        i = max(0, bisect.bisect_right(self._seconds, seconds) - 1)
        return self._beats[i] + (seconds - self._seconds[i]) * self.tempos[i].bpm / 60.0

    def bpm_at(self, beat: float) -> float:
        """Return the tempo in force at ``beat``."""
        return self.tempos[max(0, bisect.bisect_right(self._beats, beat) - 1)].bpm

    @staticmethod
    def ticks_to_beats(ticks: int, ppq: int = PPQ) -> float:
        """Return ``ticks`` at ``ppq`` ticks per beat, in beats."""
        return ticks / ppq

    @staticmethod
    def beats_to_ticks(beats: float, ppq: int = PPQ) -> int:
        """Return the nearest tick of ``beats``."""
        return int(round(beats * ppq))

    def beat_of_bar(self, bar: int, beat_in_bar: float = 0.0) -> float:
        """Return the beat (quarter notes from 0) of ``bar`` (0-based) plus ``beat_in_bar``
        of that bar's own beats (its denominator's note value)."""
        beats = 0.0
        for m, nxt in zip(self.meters, [*self.meters[1:], None], strict=False):
            end = bar if nxt is None else min(bar, nxt.bar)
            if end > m.bar:
                beats += (end - m.bar) * m.numerator * 4.0 / m.denominator
            if nxt is None or bar < nxt.bar:
                return beats + beat_in_bar * 4.0 / m.denominator
        return beats  # pragma: no cover - the loop always returns

    def bar_at(self, beat: float) -> tuple[int, float]:
        """Return (bar, beat within the bar) of ``beat``, both 0-based."""
        for m, nxt in zip(self.meters, [*self.meters[1:], None], strict=False):
            start = self.beat_of_bar(m.bar)
            length = m.numerator * 4.0 / m.denominator
            end = math.inf if nxt is None else self.beat_of_bar(nxt.bar)
            if beat < end:
                k = int((beat - start) // length)
                return m.bar + k, (beat - start - k * length) * m.denominator / 4.0
        raise AssertionError("unreachable")  # pragma: no cover

    def __repr__(self) -> str:
        tempos = ", ".join(f"{c.bpm:g} bpm at beat {c.beat:g}" for c in self.tempos)
        return f"TempoMap({tempos})"


def check_bpm(bpm: float) -> float:
    """Return a valid tempo (1..1000 bpm) as a float or raise ``ValueError``."""
    if isinstance(bpm, bool) or not isinstance(bpm, int | float) or not 1.0 <= bpm <= MAX_BPM:
        raise ValueError(f"tempo must be within 1..{MAX_BPM:g} bpm, not {bpm!r}")
    return float(bpm)


#: The fastest tempo, bpm.
MAX_BPM = 1000.0
#: The latest beat a tempo change may sit on (`MAX_SECONDS` at the fastest tempo), and the
#: latest bar a meter change may (the shortest bar, 1/32, is an eighth of a beat).
MAX_BEAT = MAX_SECONDS * MAX_BPM / 60.0
MAX_BAR = int(MAX_BEAT * 8)


def check_beat(beat: float) -> float:
    """Return ``beat`` as a float if a tempo change may sit there (0 up to `MAX_BEAT`), else
    raise ``ValueError``."""
    if isinstance(beat, bool) or not isinstance(beat, int | float) or not 0 <= beat < MAX_BEAT:
        raise ValueError(f"a tempo change sits on a beat in 0..{MAX_BEAT:.0f}, not {beat!r}")
    return float(beat)


def check_bar(bar: int) -> int:
    """Return ``bar`` if a meter change may start there (a whole bar in 0..`MAX_BAR`), else
    raise ``ValueError``."""
    if isinstance(bar, bool) or not isinstance(bar, int) or not 0 <= bar <= MAX_BAR:
        raise ValueError(f"a meter change starts on a whole bar number in 0..{MAX_BAR}, not {bar!r}")
    return bar


def check_meter(numerator: int, denominator: int) -> tuple[int, int]:
    """Return a valid time signature or raise ``ValueError``."""
    if isinstance(numerator, bool) or not isinstance(numerator, int) or not 1 <= numerator <= 64:
        raise ValueError(f"time signature numerator must be within 1..64, not {numerator!r}")
    if isinstance(denominator, bool) or denominator not in (1, 2, 4, 8, 16, 32):
        raise ValueError(f"time signature denominator must be a power of two up to 32, not {denominator!r}")
    return numerator, denominator


class _Standalone:
    """Stands in for a project when a tempo map is edited on its own."""

    def __init__(self, tempo_map: TempoMap) -> None:
        self.tempo_map = tempo_map
