"""Command codes the control side sends to the audio thread, and the events it gets back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Discrete commands travel through the FIFO as tuples ``(code, *args)``.
PLAY = 1  # (PLAY,)
PAUSE = 2  # (PAUSE,)
STOP = 3  # (STOP,): pause and go back to where playback last started
SEEK = 4  # (SEEK, frame)
LOOP = 5  # (LOOP, on, start_frame, end_frame)
MUTE = 6  # (MUTE, track_id, flag)
SOLO = 7  # (SOLO, track_id, flag)
RELEASE = 8  # (RELEASE, lane_id): a touched lane returns to its curve

# Continuous parameters go to latest-value slots keyed ``(code, track_id)``.
VOLUME = 10  # value: (linear gain, ramp frames)
PAN = 11  # value: (pan -1..1, ramp frames)
SEND_LEVEL = 12  # keyed (SEND_LEVEL, send_id); value: (linear gain, ramp frames)
TOUCH = 13  # keyed (TOUCH, lane_id); value: (the parameter's value in its unit, 1 at once / 0 gliding): a move

# Raw events the audio thread posts, as tuples ``(code, ...)``.
EV_POSITION = 1  # (EV_POSITION, frame, playing)
EV_METERS = 2  # (EV_METERS, plan serial)
EV_XRUN = 3  # (EV_XRUN, total xruns)
EV_ERROR = 4  # (EV_ERROR, message): the whole block failed and was silenced
EV_UNDERRUN = 6  # (EV_UNDERRUN, source id): a streamed window was not ready, that clip played silence
EV_TRACK_FAILED = 5  # (EV_TRACK_FAILED, track_id, reason, slot id): that track (or instance) was silenced


@dataclass(frozen=True, slots=True)
class Event:
    """Something the audio thread reported.

    ``kind`` is ``"position"`` (``position`` in frames, ``playing``), ``"meters"``
    (``peak`` and ``rms``: track id → (left, right) linear level, the master under its
    id), ``"xrun"`` (``count`` so far), ``"underrun"`` (a streamed ``source``'s window was
    not ready: that clip played silence; ``count`` so far) or ``"error"`` (``message``; ``track`` is the id
    of the track that was silenced, or None when a whole block was). The control side adds
    ``"edit"`` (``count``: the project's ``version`` after one or more edits) and
    ``"device_lost"`` (the ``device`` stopped calling back, ``message`` says how; the engine
    stopped the transport at ``position`` and closed the driver: `Engine.start` opens it again).
    """

    kind: str
    track: int | None = None
    position: int = 0
    playing: bool = False
    count: int = 0
    message: str = ""
    source: str = ""
    device: str = ""
    peak: dict[int, tuple[float, float]] = field(default_factory=dict)
    rms: dict[int, tuple[float, float]] = field(default_factory=dict)

    def __repr__(self) -> str:
        shown: dict[str, Any] = {"position": self.position, "playing": self.playing}
        if self.kind == "meters":
            shown = {"peak": self.peak}
        elif self.kind in ("xrun", "edit"):
            shown = {"count": self.count}
        elif self.kind == "underrun":
            shown = {"source": self.source, "count": self.count}
        elif self.kind == "error":
            shown = {"track": self.track, "message": self.message}
        elif self.kind == "device_lost":
            shown = {"device": self.device, "message": self.message}
        args = ", ".join(f"{k}={v!r}" for k, v in shown.items())
        return f"Event({self.kind!r}, {args})"
