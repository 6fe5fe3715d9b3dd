"""Delay."""

from __future__ import annotations

from mixtree.dsp.delay import MAX_DELAY, delay_kernel
from mixtree.effects.base import Effect
from mixtree.effects.parameters import Parameter


class Delay(Effect):
    """A feedback delay: ``time`` in seconds, or ``beats`` (> 0) at ``tempo_bpm``.

    ``feedback`` (0..0.95) feeds the echo back; ``mix`` goes from dry (0) to wet (1).
    Changing the time glides the read point, like tape.
    """

    effect_type = "delay"
    PARAMETERS = (
        Parameter("time", "Time", 0.001, MAX_DELAY, 0.25, "s", "log", ramp=0.05),
        Parameter("beats", "Beats", 0.0, 16.0, 0.0, "beats", ramp=0.05),
        Parameter("feedback", "Feedback", 0.0, 0.95, 0.35),
        Parameter("mix", "Mix", 0.0, 1.0, 0.3),
    )
    kernel = staticmethod(delay_kernel)
    state_size = 1

    def __init__(self, time: float = 0.25, beats: float = 0.0, feedback: float = 0.35, mix: float = 0.3) -> None:
        self.tempo_bpm = 120.0
        super().__init__(time=time, beats=beats, feedback=feedback, mix=mix)

    def set_tempo(self, bpm: float) -> None:
        """Follow a tempo of ``bpm`` for a beat-synced delay time."""
        self.tempo_bpm = float(bpm)
        self._push_targets()

    @property
    def delay_seconds(self) -> float:
        """Return the delay time in effect: ``beats`` at the tempo if set, else ``time``."""
        beats = self._values["beats"]
        seconds = beats * 60.0 / self.tempo_bpm if beats > 0 else self._values["time"]
        return min(max(seconds, 0.001), MAX_DELAY)

    def _dsp_values(self) -> list[float]:
        v = super()._dsp_values()
        v[0] = self.delay_seconds
        return v

    def buffer_shape(self, sample_rate: int) -> tuple[int, int]:
        """Return a line long enough for the longest delay."""
        return (int(MAX_DELAY * sample_rate) + 2, 2)
