"""Filter (one RBJ biquad of any kind) and EQ3 (low shelf, mid peak, high shelf)."""

from __future__ import annotations

import math

import numpy as np

from mixtree.dsp.biquad import FILTER_STATE, KINDS, SECTION, design, eq3_design, eq3_kernel, filter_kernel
from mixtree.effects.base import Effect
from mixtree.effects.parameters import Parameter

_SHELF_Q = 1 / math.sqrt(2)


class Filter(Effect):
    """One RBJ cookbook biquad: lowpass, highpass, bandpass, notch, peak, lowshelf, highshelf.

    ``gain_db`` matters for peak and shelves only.
    """

    effect_type = "filter"
    PARAMETERS = (
        Parameter("kind", "Kind", 0, len(KINDS) - 1, 0, choices=KINDS, ramp=0.0),
        Parameter("freq", "Frequency", 10.0, 24000.0, 1000.0, "Hz", "log"),
        Parameter("q", "Q", 0.1, 24.0, _SHELF_Q, "", "log"),
        Parameter("gain_db", "Gain", -24.0, 24.0, 0.0, "dB", "db"),
    )
    kernel = staticmethod(filter_kernel)
    state_size = FILTER_STATE  # the section, the last design's angle, redesigns' scratch, frames to one

    def __init__(self, kind: str = "lowpass", freq: float = 1000.0, q: float = _SHELF_Q, gain_db: float = 0.0) -> None:
        super().__init__(kind=kind, freq=freq, q=q, gain_db=gain_db)

    def _init_state(self, state: np.ndarray) -> None:
        v = self._dsp_values()
        design(int(v[0]), v[1], v[2], v[3], float(self.sample_rate), state[0:5])


class EQ3(Effect):
    """Three-band EQ: a low shelf at ``low_freq``, a peak at their geometric mean, a high
    shelf at ``high_freq`` (shelves Q 0.707, peak Q 0.7): the roadmap's SimpleEQ."""

    effect_type = "eq3"
    PARAMETERS = (
        Parameter("low_db", "Low", -24.0, 24.0, 0.0, "dB", "db"),
        Parameter("mid_db", "Mid", -24.0, 24.0, 0.0, "dB", "db"),
        Parameter("high_db", "High", -24.0, 24.0, 0.0, "dB", "db"),
        Parameter("low_freq", "Low frequency", 20.0, 2000.0, 250.0, "Hz", "log"),
        Parameter("high_freq", "High frequency", 1000.0, 20000.0, 4000.0, "Hz", "log"),
    )
    kernel = staticmethod(eq3_kernel)
    state_size = 3 * SECTION + 1

    def __init__(
        self,
        low_db: float = 0.0,
        mid_db: float = 0.0,
        high_db: float = 0.0,
        low_freq: float = 250.0,
        high_freq: float = 4000.0,
    ) -> None:
        super().__init__(low_db=low_db, mid_db=mid_db, high_db=high_db, low_freq=low_freq, high_freq=high_freq)

    def _init_state(self, state: np.ndarray) -> None:
        eq3_design(*self._dsp_values(), float(self.sample_rate), state)
