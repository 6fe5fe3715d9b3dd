"""Gain and Pan."""

from __future__ import annotations

from mixtree.dsp.gain import gain_kernel, pan_kernel
from mixtree.effects.base import Effect
from mixtree.effects.parameters import Parameter


class Gain(Effect):
    """Amplify or attenuate by ``db`` decibels."""

    effect_type = "gain"
    PARAMETERS = (Parameter("db", "Gain", -96.0, 24.0, 0.0, "dB", "db"),)
    kernel = staticmethod(gain_kernel)


class Pan(Effect):
    """Pan stereo by balance: unity at centre, the far side fading linearly to silence.

    The stereo law of `mixtree.units.pan_gains`, as a track's fader pans stereo material,
    so the effect is neutral at its default; the fader's own pan follows, after the effects.
    """

    effect_type = "pan"
    PARAMETERS = (Parameter("pan", "Pan", -1.0, 1.0, 0.0),)
    kernel = staticmethod(pan_kernel)
