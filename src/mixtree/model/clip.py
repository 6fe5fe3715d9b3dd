"""Clips: a region of a pool source placed on a track's timeline."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from mixtree.model import checks
from mixtree.model.record import Edited, Record
from mixtree.units import MAX_SECONDS, seconds_to_frames

if TYPE_CHECKING:
    from mixtree.model.pool import Source
    from mixtree.model.project import Project


class Clip(Record):
    """A region of ``source`` from ``offset`` for ``duration`` seconds, placed at ``start``.

    Times are seconds; the renderer places them on the nearest frame of the project rate.
    ``speed`` plays the source faster or slower, pitch following (varispeed): the clip then
    uses ``duration × speed`` seconds of its source.
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
        "_speed",
    )

    start = Edited(checks.number("start", 0.0, MAX_SECONDS), "Timeline position of the first frame, s.")
    duration = Edited(checks.number("duration", 0.0, MAX_SECONDS), "Length on the timeline, s (> 0).")
    offset = Edited(checks.number("offset", 0.0, MAX_SECONDS), "Position in the source of the first frame, s.")
    gain_db = Edited(checks.number("gain_db", -math.inf, 24.0), "Clip gain, dB.")
    fade_in = Edited(checks.number("fade_in", 0.0, MAX_SECONDS), "Fade-in length, s.")
    fade_out = Edited(checks.number("fade_out", 0.0, MAX_SECONDS), "Fade-out length, s.")
    fade_curve = Edited(checks.fade_curve, "Fade shape: linear, equal_power, exponential, …")
    reversed = Edited(checks.flag("reversed"), "Play the region backwards.")
    muted = Edited(checks.flag("muted"), "Silence the clip.")
    speed = Edited(checks.number("speed", 1 / 64, 64.0), "Varispeed rate: source seconds per second.")

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
        speed: float = 1.0,
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
        self._speed = Clip.speed.check(speed)
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
        used = self._duration * self._speed
        end = seconds_to_frames(self._offset, rate) + seconds_to_frames(used, rate)
        if end > self.source.frames:
            speed = f" × speed {self._speed:g}" if self._speed != 1.0 else ""
            raise ValueError(
                f"clip reaches past the end of '{self.source.path.name}': offset "
                f"{self._offset:g} s + duration {self._duration:g} s{speed} > "
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


class AliasClip(Record):
    """A clip whose content is a metatrack's: its children, played again at ``start``.

    From ``offset`` seconds of the timeline the metatrack sits on (its own offset and
    speed applied: what it sounds like in place), for ``duration`` seconds.
    Each child plays as an instance of itself (its clips and notes inside the alias's
    span, its own chain, fader and instrument on memory of its own), mixed into the host
    track, whose chain and fader stand in for the metatrack's. Instances send where
    their tracks send (to a bus's instance when the bus is inside too), skip effects
    without a batched kernel, and play frozen or stretched metatracks inside live (as
    varispeed). An alias of a frozen or stretched metatrack plays its render instead.
    A metatrack may not contain an alias of itself, directly or through other aliases.
    """

    __slots__ = ("metatrack_id", "track_id", "_start", "_duration", "_offset")

    start = Edited(checks.number("start", 0.0, MAX_SECONDS), "Timeline position, s.")
    duration = Edited(checks.number("duration", 0.0, MAX_SECONDS), "Length, s (> 0).")
    offset = Edited(checks.number("offset", 0.0, MAX_SECONDS), "Position on the metatrack's parent timeline, s.")

    def __init__(self, ident: int, metatrack_id: int, start: float, duration: float, offset: float = 0.0) -> None:
        super().__init__(ident, None)
        self.metatrack_id = metatrack_id
        self.track_id = 0
        self._start = AliasClip.start.check(start)
        self._duration = AliasClip.duration.check(duration)
        self._offset = AliasClip.offset.check(offset)
        self.validate()

    def validate(self) -> None:
        """Raise ``ValueError`` for an empty alias."""
        if self._duration <= 0:
            raise ValueError(f"alias duration must be above 0 s, not {self._duration!r}")

    @property
    def end(self) -> float:
        """Return the timeline position just after the alias, s."""
        return self._start + self._duration

    def __repr__(self) -> str:
        return f"AliasClip(id={self.id}, metatrack={self.metatrack_id}, start={self._start!r})"
