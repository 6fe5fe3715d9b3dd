"""The tempo map: tempo and time-signature changes, and exact conversions between
seconds, beats, ticks and bars.

Changes sit on beats. Between two changes the tempo holds, or, where the later change
is a ramp, moves linearly *in time* from the earlier tempo to the later one. Over a
ramp of T seconds from b0 to b1 bpm, k = (b1 − b0)/T bpm a second and, t seconds in,
the tempo is b0 + k·t and the beats passed are β = (b0·t + k·t²/2)/60; the inverse is
t = 120·β / (b0 + √(b0² + 120·k·β)) (the form without cancellation as k → 0), and
T = 120·L/(b0 + b1) for a ramp L beats long. So beats ↔ seconds is exact in closed form
everywhere. A beat is a quarter note; ticks count ``PPQ`` per beat (the resolution of
imported MIDI files is kept in their ticks).
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
    """At ``beat`` the tempo is ``bpm`` quarter notes a minute and holds; with ``ramp``, it
    got there moving linearly in time from the change before."""

    beat: float
    bpm: float
    ramp: bool = False


@dataclass(frozen=True, slots=True)
class MeterChange:
    """From ``bar`` (0-based) on, bars are ``numerator``/``denominator``."""

    bar: int
    numerator: int
    denominator: int


class TempoMap:
    """Tempo and meter of a project, or of a metatrack's own timeline (``owner``, its id).
    Edit it with `set_tempo` and `set_meter`: undoable edits of the project it is in."""

    def __init__(self, bpm: float = 120.0, apply: Callable[[Operation], object] | None = None) -> None:
        self.tempos: list[TempoChange] = [TempoChange(0.0, check_bpm(bpm))]
        self.meters: list[MeterChange] = [MeterChange(0, 4, 4)]
        self._apply = apply
        self.owner: int | None = None
        self._rebuild()

    def set_tempo(self, at_beat: float = 0.0, bpm: float = 120.0, ramp: bool = False) -> None:
        """Set the tempo at ``at_beat`` (an undoable edit of the project); with ``ramp``,
        the tempo moves there linearly in time from the change before."""
        from mixtree.model.operations import SetTempo

        beat = check_beat(at_beat)
        if not isinstance(ramp, bool):
            raise ValueError(f"ramp is True or False, not {ramp!r}")
        if ramp and beat == 0.0:
            raise ValueError("a tempo ramp needs a change before it: it cannot start at beat 0")
        self._run(SetTempo(beat, check_bpm(bpm), ramp, self.owner))

    def set_meter(self, at_bar: int = 0, numerator: int = 4, denominator: int = 4) -> None:
        """Set the time signature from bar ``at_bar`` (0-based) on (an undoable edit)."""
        from mixtree.model.operations import SetMeter

        self._run(SetMeter(check_bar(at_bar), *check_meter(numerator, denominator), self.owner))

    def bind(self, owner: int | None, apply: Callable[[Operation], object] | None) -> None:
        """Make this the own map of metatrack ``owner`` whose edits run through ``apply``
        (a project's), or (None, None) a detached one again."""
        self.owner = owner
        self._apply = apply

    def copy(self) -> TempoMap:
        """Return a detached copy (same changes, in no project)."""
        out = TempoMap()
        out.tempos, out.meters = list(self.tempos), list(self.meters)
        out._rebuild()
        return out

    def _run(self, op: Operation) -> None:
        if self._apply is not None:
            self._apply(op)
        else:
            op.apply(_Standalone(self))  # type: ignore[arg-type]

    def _rebuild(self) -> None:
        self.tempos.sort(key=lambda c: c.beat)
        self.meters.sort(key=lambda m: m.bar)
        if self.tempos[0].ramp:  # nothing to ramp from
            self.tempos[0] = TempoChange(self.tempos[0].beat, self.tempos[0].bpm)
        self._beats = [c.beat for c in self.tempos]
        self._seconds = [0.0]
        # per segment (from change i to i + 1): bpm a second it ramps by (0: it holds)
        self._slopes: list[float] = []
        for prev, nxt in zip(self.tempos, self.tempos[1:], strict=False):
            length = nxt.beat - prev.beat
            if nxt.ramp:
                duration = 120.0 * length / (prev.bpm + nxt.bpm)
                self._slopes.append((nxt.bpm - prev.bpm) / duration)
            else:
                duration = length * 60.0 / prev.bpm
                self._slopes.append(0.0)
            self._seconds.append(self._seconds[-1] + duration)
        self._slopes.append(0.0)

    # -- conversions ---------------------------------------------------------------------
    def seconds_at(self, beat: float) -> float:
        """Return the time in seconds of ``beat``."""
        if beat < 0.0:  # before the map: its first tempo
            return beat * 60.0 / self.tempos[0].bpm
        i = bisect.bisect_right(self._beats, beat) - 1
        return self._seconds[i] + _ramp_seconds(self.tempos[i].bpm, self._slopes[i], beat - self._beats[i])

    def beat_at(self, seconds: float) -> float:
        """Return the beat at ``seconds`` (the inverse of `seconds_at`)."""
        if seconds < 0.0:
            return seconds * self.tempos[0].bpm / 60.0
        i = bisect.bisect_right(self._seconds, seconds) - 1
        t = seconds - self._seconds[i]
        return self._beats[i] + (self.tempos[i].bpm + 0.5 * self._slopes[i] * t) * t / 60.0

    def bpm_at(self, beat: float) -> float:
        """Return the tempo at ``beat`` (inside a ramp, the ramp's tempo there)."""
        if beat < 0.0:
            return self.tempos[0].bpm
        i = bisect.bisect_right(self._beats, beat) - 1
        b0, k = self.tempos[i].bpm, self._slopes[i]
        return b0 + k * _ramp_seconds(b0, k, beat - self._beats[i]) if k else b0

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
        tempos = ", ".join(f"{c.bpm:g} bpm {'ramped to' if c.ramp else 'at'} beat {c.beat:g}" for c in self.tempos)
        return f"TempoMap({tempos})"


def _ramp_seconds(bpm: float, slope: float, beats: float) -> float:
    """Return the seconds ``beats`` take from a tempo of ``bpm`` changing by ``slope`` bpm
    a second (the module's closed form; exact for a held tempo too)."""
    if slope == 0.0:
        return beats * 60.0 / bpm
    # past a decelerating ramp's end the root would go negative: the caller's segment ends first
    return 120.0 * beats / (bpm + math.sqrt(max(bpm * bpm + 120.0 * slope * beats, 0.0)))


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
