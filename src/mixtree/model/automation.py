"""Automation lanes: one parameter drawn over time, as points and the shapes between them.

Every automatable parameter has one address: its owner's id (a track, a send or an
effect) and its name (``volume_db``, ``pan``, ``mute``, ``level_db``, ``speed`` or an
effect parameter's id). A lane hangs on its owner and is saved, undone and removed with
it. Values are in the parameter's own unit (dB for volume and sends) and curves are
drawn in that unit (`mixtree.dsp.curves` has the shapes and their formulas).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from mixtree.dsp.curves import SHAPES, lane_value, shape_code
from mixtree.effects.parameters import Parameter
from mixtree.model import checks
from mixtree.model.operations import SetLanePoints
from mixtree.model.record import Edited, Record
from mixtree.model.tempo import MAX_BEAT
from mixtree.units import MAX_SECONDS, SILENCE_DB

if TYPE_CHECKING:
    from mixtree.model.project import Project

#: What a lane does while playing: ``off`` leaves the parameter to manual moves; ``read``
#: plays the lane; ``touch``, ``latch`` and ``write`` play it and record live moves.
MODES = ("off", "read", "touch", "latch", "write")
#: The modes that record live moves while the transport plays.
RECORDING = ("touch", "latch", "write")
#: What a lane's point times count: seconds, or beats through the tempo map.
TIME_BASES = ("seconds", "beats")

#: What every track exposes to automation (a metatrack also ``speed``), sends ``level_db``.
TRACK_PARAMETERS = {
    "volume_db": Parameter("volume_db", "Volume", SILENCE_DB, 24.0, 0.0, "dB", "db", ramp=0.010),
    "pan": Parameter("pan", "Pan", -1.0, 1.0, 0.0, ramp=0.010),
    "mute": Parameter("mute", "Mute", 0, 1, 0, choices=("off", "on"), ramp=0.010),
}
SPEED = Parameter("speed", "Speed", 0.0, 64.0, 1.0, "x", ramp=0.0)  # 0: the tape stands still
SEND_PARAMETERS = {"level_db": Parameter("level_db", "Send level", SILENCE_DB, 12.0, 0.0, "dB", "db", ramp=0.010)}


class Address(NamedTuple):
    """Where one automatable parameter lives: its owner's id and its name."""

    owner: int
    name: str


class Point(NamedTuple):
    """A lane's point: ``value`` at ``time``, and the ``shape`` (with ``tension`` for
    ``bend``) of the segment from it to the next point."""

    time: float
    value: float
    shape: str
    tension: float


def _choice(options: tuple[str, ...], what: str) -> Any:
    def check(value: Any) -> str:
        if value not in options:
            raise ValueError(f"{what} must be one of {', '.join(options)}, not {value!r}")
        return value

    return check


class AutomationLane(Record):
    """The points of one parameter over time (see the module). ``spec`` describes the
    parameter; ``label`` names it in messages (``volume_db of 'Bass'``).

    Edit it with `add_point`, `remove_point`, `clear` and `set_points`, each one undoable
    edit that leaves the lane unchanged when it raises ``ValueError``.
    """

    __slots__ = ("owner", "parameter", "spec", "_label", "_points", "_mode", "_time_base")

    mode = Edited(_choice(MODES, "mode"), "off, read, touch, latch or write.")
    time_base = Edited(_choice(TIME_BASES, "time_base"), "What point times count: seconds or beats.")

    def __init__(
        self,
        ident: int,
        owner: int,
        parameter: str,
        spec: Parameter,
        label: str,
        points: tuple[Point, ...] = (),
        mode: str = "read",
        time_base: str = "seconds",
    ) -> None:
        super().__init__(ident, None)
        self.owner = owner
        self.parameter = parameter
        self.spec = spec
        self._label = label
        self._mode = AutomationLane.mode.check(mode)
        self._time_base = AutomationLane.time_base.check(time_base)
        self._points: tuple[Point, ...] = ()
        self._points = self.checked(points)

    @property
    def label(self) -> str:
        """Return what messages call the lane (``volume_db of 'Bass'``), as its owner is named now."""
        if self.project is not None:
            try:
                self._label = spec_for(self.project, self.project.registry.lane_owner(self.owner), self.parameter)[1]
            except (KeyError, ValueError):
                pass  # its owner is being taken away: the last name stands
        return self._label

    @property
    def address(self) -> Address:
        """Return the address of the parameter this lane draws."""
        return Address(self.owner, self.parameter)

    @property
    def points(self) -> list[Point]:
        """Return the points, sorted by time (a copy)."""
        return list(self._points)

    def checked(self, points: Any, time_base: str | None = None) -> tuple[Point, ...]:
        """Return ``points`` (tuples of time, value, shape and tension) checked, normalised
        and sorted by time; raise ``ValueError`` naming the lane and the point."""
        base = time_base or self._time_base
        latest = MAX_SECONDS if base == "seconds" else MAX_BEAT
        out = []
        for k, p in enumerate(points):
            try:
                if not isinstance(p, tuple | list) or len(p) != 4:
                    raise TypeError
                time, value, shape, tension = p
                time = checks.number("time", 0.0, latest)(time)
                value = self.spec.check(value)
                if shape_code(shape) and self.spec.choices:
                    raise ValueError(f"{self.parameter} takes steps only: its shape must be 'hold', not {shape!r}")
                tension = checks.number("tension", -1.0, 1.0)(tension)
            except (TypeError, ValueError) as exc:
                reason = "a point is (time, value, shape, tension)" if isinstance(exc, TypeError) else str(exc)
                raise ValueError(f"{self.label}: point {k} {_show(p)}: {reason}") from None
            out.append(Point(time, value, shape, tension))
        out.sort(key=lambda p: p.time)  # stable: of two points at one time, the later added wins
        for k, (a, b) in enumerate(zip(out, out[1:], strict=False)):
            if a.shape == "geometric" and a.value * b.value <= 0.0:
                raise ValueError(
                    f"{self.label}: point {k} {_show(a)}: a geometric segment needs values of one sign, "
                    f"not {a.value:g} to {b.value:g}"
                )
        return tuple(out)

    def add_point(self, time: float, value: float | str, shape: str = "linear", tension: float = 0.0) -> Point:
        """Add a point (``value`` in the parameter's unit; a choice by its name) and return it."""
        points = self.checked([*self._points, (time, value, shape, tension)])
        self._set(points)
        return next(p for p in reversed(points) if p.time == float(time))

    def remove_point(self, index: int) -> None:
        """Remove the point at ``index`` (of `points`)."""
        if isinstance(index, bool) or not isinstance(index, int) or not -len(self._points) <= index < len(self._points):
            raise ValueError(f"{self.label}: no point {index!r} (it has {len(self._points)})")
        points = list(self._points)
        del points[index]
        self._set(tuple(points))

    def clear(self) -> None:
        """Remove every point: the parameter is manual again."""
        self._set(())

    def set_points(self, points: Any) -> None:
        """Replace every point with ``points`` (time, value, shape, tension), as one edit."""
        self._set(self.checked(points))

    def _set(self, points: tuple[Point, ...]) -> None:
        if self.project is None:
            self._points = points
        else:
            self.project.apply(SetLanePoints(self.id, points))

    def validate(self) -> None:
        """Raise ``ValueError`` if the points do not suit the time base, or the owner
        refuses the lane as it now plays (a metatrack's speed, see `Metatrack.validate`)."""
        self.checked(self._points)
        if self.parameter == "speed" and self.project is not None:
            self.project.track(self.owner).validate()

    def value_at(self, time: float) -> float | None:
        """Return what the lane plays at ``time`` (its time base's unit), or None without
        points (the manual value plays)."""
        if not self._points:
            return None
        at, value, shape, tension = self.arrays()
        return float(lane_value(at, value, shape, tension, 0, len(self._points), float(time)))

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Return the points as float64 times and values, int64 shape codes and float64
        tensions (what the kernels read)."""
        points = self._points
        return (
            np.array([p.time for p in points], np.float64),
            np.array([p.value for p in points], np.float64),
            np.array([SHAPES.index(p.shape) for p in points], np.int64),
            np.array([p.tension for p in points], np.float64),
        )

    @property
    def plays(self) -> bool:
        """Return True if the lane decides the value (it has points and is not ``off``)."""
        return bool(self._points) and self._mode != "off"

    @property
    def records(self) -> bool:
        """Return True if live moves of the parameter are recorded into the lane (``touch``,
        ``latch`` or ``write``)."""
        return self._mode in RECORDING

    def __repr__(self) -> str:
        return f"AutomationLane({self.label!r}, points={len(self._points)}, mode={self._mode!r})"


def _show(point: Any) -> str:
    try:
        return f"({', '.join(repr(x) for x in point)})"
    except TypeError:
        return repr(point)


def manual_value(project: Project, lane: AutomationLane) -> float:
    """Return the value ``lane``'s parameter has without automation (its fader, its knob)."""
    owner = project.registry.lane_owner(lane.owner)
    if lane.parameter in TRACK_PARAMETERS or lane.parameter in ("speed", "level_db"):
        return float(getattr(owner, lane.parameter))
    return float(owner._values[lane.parameter])


def spec_for(project: Project, owner: Any, name: str) -> tuple[Parameter, str]:
    """Return the description of ``owner``'s parameter ``name`` and its label, or raise
    ``ValueError`` naming what can be automated there."""
    from mixtree.effects.base import Effect
    from mixtree.model.tracks import Metatrack, Send, Track

    if isinstance(owner, Effect):
        known = {p.id: p for p in owner.parameters}
        track = project.effect_track(owner.id) if owner.id is not None else None
        where = f"{type(owner).__name__} on {track.name!r}" if track is not None else type(owner).__name__
    elif isinstance(owner, Send):
        known = SEND_PARAMETERS
        where = f"the send of {project.track(owner.source_id).name!r}"
    elif isinstance(owner, Track):
        known = dict(TRACK_PARAMETERS)
        if isinstance(owner, Metatrack):
            known["speed"] = SPEED
        where = repr(owner.name)
    else:
        raise ValueError(f"{owner!r} has no automatable parameters")
    if name not in known:
        raise ValueError(f"{name!r} of {where} is not a parameter that can be automated (it has {', '.join(known)})")
    return known[name], f"{name} of {where}"
