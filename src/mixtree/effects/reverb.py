"""Reverb."""

from __future__ import annotations

import numpy as np

from mixtree.dsp.reverb import LENGTHS, STATE_SIZE, line_lengths, reverb_kernel
from mixtree.effects.base import Effect
from mixtree.effects.parameters import Parameter


class Reverb(Effect):
    """A Freeverb-style room: ``room_size`` and ``damping`` 0..1, ``mix`` dry (0) to wet (1)."""

    effect_type = "reverb"
    PARAMETERS = (
        Parameter("room_size", "Room size", 0.0, 1.0, 0.5),
        Parameter("damping", "Damping", 0.0, 1.0, 0.5),
        Parameter("mix", "Mix", 0.0, 1.0, 0.25),
    )
    kernel = staticmethod(reverb_kernel)
    state_size = STATE_SIZE

    def __init__(self, room_size: float = 0.5, damping: float = 0.5, mix: float = 0.25) -> None:
        super().__init__(room_size=room_size, damping=damping, mix=mix)

    def buffer_shape(self, sample_rate: int) -> tuple[int, int]:
        """Return room for all 24 lines end to end."""
        return (int(line_lengths(sample_rate).sum()), 1)

    def _init_state(self, state: np.ndarray) -> None:
        state[LENGTHS : LENGTHS + 24] = line_lengths(self.sample_rate)
