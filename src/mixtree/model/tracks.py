"""Tracks: the fader, pan and switches every track has, and the audio track's clips."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from mixtree.effects.base import Effect
from mixtree.model import checks
from mixtree.model.clip import Clip
from mixtree.model.operations import AddClip, AddEffect, MoveEffect, RemoveClip, RemoveEffect
from mixtree.model.record import Edited, Record

if TYPE_CHECKING:
    from mixtree.model.pool import Source
    from mixtree.model.project import Project


class Track(Record):
    """What every track has: a name, a fader (``volume_db``), ``pan``, mute/solo and an
    effect chain (``effects``, processed in order before the fader)."""

    __slots__ = ("_name", "_volume_db", "_pan", "_mute", "_solo", "parent_id", "effects")

    name = Edited(checks.text("name"), "Display name.")
    volume_db = Edited(checks.number("volume_db", -math.inf, 24.0), "Fader level, dB.")
    pan = Edited(checks.number("pan", -1.0, 1.0), "Pan, -1 (left) .. 1 (right).")
    mute = Edited(checks.flag("mute"), "Silence the track.")
    solo = Edited(checks.flag("solo"), "Solo the track (DAW convention).")

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
        self.parent_id: int | None = None
        self.effects: list[Effect] = []
        self.project = project

    def add_effect(self, effect: Effect, index: int | None = None) -> Effect:
        """Insert ``effect`` into this track's chain (at the end by default) and return it."""
        if not isinstance(effect, Effect):
            raise ValueError(f"expected an effect, not {effect!r}")
        if effect.id is not None:
            raise ValueError(f"{effect!r} is already in a chain")
        if index is not None and not 0 <= index <= len(self.effects):
            raise ValueError(f"effect index must be within 0..{len(self.effects)}, not {index}")
        project = self._attached()
        effect.id = project._new_id()
        project.apply(AddEffect(self.id, effect, index))
        return effect

    def remove_effect(self, effect_id: int) -> None:
        """Remove the effect ``effect_id`` from this track's chain."""
        self._attached().apply(RemoveEffect(effect_id))

    def move_effect(self, effect_id: int, index: int) -> None:
        """Move the effect ``effect_id`` to position ``index`` of this chain."""
        self._attached().apply(MoveEffect(effect_id, index))

    def _attached(self) -> Project:
        if self.project is None:
            raise ValueError(f"track {self._name!r} is not part of a project")
        return self.project

    def __repr__(self) -> str:
        return f"{type(self).__name__}(id={self.id}, name={self._name!r})"


class AudioTrack(Track):
    """A track that plays clips of pool sources."""

    __slots__ = ("clips",)

    def __init__(self, ident: int, project: Project | None, name: str, **fader: object) -> None:
        super().__init__(ident, project, name, **fader)  # type: ignore[arg-type]
        self.clips: list[Clip] = []

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
        """
        project = self._attached()
        if source.id not in project.pool or project.pool.get(source.id) is not source:
            raise ValueError(f"source {source!r} is not in this project's pool")
        if duration is None:
            duration = max(0.0, source.duration - offset)
        clip = Clip(
            project._new_id(),
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
        )
        project.apply(AddClip(self.id, clip))
        return clip

    def remove_clip(self, clip_id: int) -> None:
        """Remove the clip with id ``clip_id`` from this track."""
        self._attached().apply(RemoveClip(clip_id))


class MasterTrack(Track):
    """The master bus: every top-level track sums into it; its pan is a balance control."""

    __slots__ = ()
