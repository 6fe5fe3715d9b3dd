"""Clips: a region of a pool source placed on a track's timeline."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from mixtree.model import checks
from mixtree.model.record import Edited, Record
from mixtree.units import seconds_to_frames

if TYPE_CHECKING:
    from mixtree.model.pool import Source
    from mixtree.model.project import Project


class Clip(Record):
    """A region of ``source`` from ``offset`` for ``duration`` seconds, placed at ``start``.

    Times are seconds; the renderer places them on the nearest frame of the project rate.
    Fades rise from and fall to exact silence along ``fade_curve``. A reversed clip plays
    the same region backwards. A muted clip is silent.
    """

    __slots__ = (
        "source",
        "track_id",
        "_start",
        "_duration",
        "_offset",
        "_gain_db",
        "_fade_in",
        "_fade_out",
        "_fade_curve",
        "_reversed",
        "_muted",
    )

    start = Edited(checks.number("start", 0.0), "Timeline position of the first frame, s.")
    duration = Edited(checks.number("duration", 0.0), "Length on the timeline, s (> 0).")
    offset = Edited(checks.number("offset", 0.0), "Position in the source of the first frame, s.")
    gain_db = Edited(checks.number("gain_db", -math.inf, 24.0), "Clip gain, dB.")
    fade_in = Edited(checks.number("fade_in", 0.0), "Fade-in length, s.")
    fade_out = Edited(checks.number("fade_out", 0.0), "Fade-out length, s.")
    fade_curve = Edited(checks.fade_curve, "Fade shape: linear, equal_power, exponential, …")
    reversed = Edited(checks.flag("reversed"), "Play the region backwards.")
    muted = Edited(checks.flag("muted"), "Silence the clip.")

    def __init__(
        self,
        ident: int,
        project: Project | None,
        source: Source,
        *,
        start: float,
        duration: float,
        offset: float = 0.0,
        gain_db: float = 0.0,
        fade_in: float = 0.0,
        fade_out: float = 0.0,
        fade_curve: str = "linear",
        reversed: bool = False,
        muted: bool = False,
    ) -> None:
        super().__init__(ident, None)
        self.source = source
        self.track_id = 0
        self._start = Clip.start.check(start)
        self._duration = Clip.duration.check(duration)
        self._offset = Clip.offset.check(offset)
        self._gain_db = Clip.gain_db.check(gain_db)
        self._fade_in = Clip.fade_in.check(fade_in)
        self._fade_out = Clip.fade_out.check(fade_out)
        self._fade_curve = Clip.fade_curve.check(fade_curve)
        self._reversed = Clip.reversed.check(reversed)
        self._muted = Clip.muted.check(muted)
        self.validate()
        self.project = project

    def validate(self) -> None:
        """Raise ``ValueError`` if the clip is empty, its fades overlap or it overruns its source."""
        rate = self.source.sample_rate
        if seconds_to_frames(self._duration, rate) <= 0:
            raise ValueError(f"clip duration must be at least one frame, not {self._duration!r} s")
        if self._fade_in + self._fade_out > self._duration + 0.5 / rate:
            raise ValueError(
                f"fade_in {self._fade_in:g} s + fade_out {self._fade_out:g} s exceed the clip's "
                f"duration {self._duration:g} s"
            )
        end = seconds_to_frames(self._offset, rate) + seconds_to_frames(self._duration, rate)
        if end > self.source.frames:
            raise ValueError(
                f"clip reaches past the end of '{self.source.path.name}': offset "
                f"{self._offset:g} s + duration {self._duration:g} s > "
                f"{self.source.duration:g} s of audio"
            )

    @property
    def end(self) -> float:
        """Return the timeline position just after the clip, s."""
        return self._start + self._duration

    def __repr__(self) -> str:
        return (
            f"Clip(id={self.id}, source='{self.source.path.name}', start={self._start!r}, "
            f"duration={self._duration!r}, offset={self._offset!r})"
        )
