"""PolySynth: the built-in instrument."""

from __future__ import annotations

import numpy as np

from mixtree.dsp.synth import STATE_SIZE, VOICES, chase_kernel, release_all, reset_channel, synth_kernel
from mixtree.effects.base import Effect
from mixtree.effects.parameters import Parameter

WAVEFORMS = ("sine", "saw", "square", "triangle")


class PolySynth(Effect):
    """A 32-voice subtractive synth: a PolyBLEP oscillator (sine, saw, square, triangle),
    an ADSR amplitude envelope, a resonant low-pass with its own ADSR, velocity
    sensitivity, pitch bend, sustain pedal (CC64) and volume (CC7). When all voices
    sound, a new note takes the voice released first, else the oldest."""

    effect_type = "polysynth"
    is_instrument = True
    voices = VOICES
    PARAMETERS = (
        Parameter("waveform", "Waveform", 0, 3, 1, choices=WAVEFORMS, ramp=0.0),
        Parameter("attack", "Attack", 0.0, 10.0, 0.005, "s", "log", ramp=0.0),
        Parameter("decay", "Decay", 0.0, 10.0, 0.2, "s", "log", ramp=0.0),
        Parameter("sustain", "Sustain", 0.0, 1.0, 0.7, ramp=0.0),
        Parameter("release", "Release", 0.0, 10.0, 0.2, "s", "log", ramp=0.0),
        Parameter("cutoff", "Cutoff", 20.0, 20000.0, 8000.0, "Hz", "log", ramp=0.0),
        Parameter("resonance", "Resonance", 0.5, 10.0, 0.707, "", "log", ramp=0.0),
        Parameter("filter_env", "Filter envelope", 0.0, 8.0, 0.0, "oct", ramp=0.0),
        Parameter("filter_attack", "Filter attack", 0.0, 10.0, 0.005, "s", "log", ramp=0.0),
        Parameter("filter_decay", "Filter decay", 0.0, 10.0, 0.3, "s", "log", ramp=0.0),
        Parameter("filter_sustain", "Filter sustain", 0.0, 1.0, 0.0, ramp=0.0),
        Parameter("filter_release", "Filter release", 0.0, 10.0, 0.3, "s", "log", ramp=0.0),
        Parameter("velocity", "Velocity sensitivity", 0.0, 1.0, 0.8, ramp=0.0),
        Parameter("bend_range", "Bend range", 0.0, 24.0, 2.0, "st", ramp=0.0),
        Parameter("gain_db", "Gain", -60.0, 12.0, -12.0, "dB", "db", ramp=0.0),
    )
    kernel = staticmethod(synth_kernel)
    chase_kernel = staticmethod(chase_kernel)
    release_kernel = staticmethod(release_all)
    state_size = STATE_SIZE

    def __init__(self, waveform: str = "saw", **values: float) -> None:
        super().__init__(waveform=waveform, **values)

    def _init_state(self, state: np.ndarray) -> None:
        reset_channel(state)

    def all_notes_off(self, state: np.ndarray | None = None) -> None:
        """Release every voice and lift the pedal. Audio-thread safe."""
        release_all(self._state if state is None else state, self._params, float(self.sample_rate))

    def process(self, block: np.ndarray, sample_rate: int) -> np.ndarray:
        """Instruments make sound from MIDI in a project; they do not process audio."""
        raise TypeError("an instrument renders MIDI through a MIDI track; it does not process audio")
