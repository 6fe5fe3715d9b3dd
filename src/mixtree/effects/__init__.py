"""Effects: the protocol, the built-ins and hosted plugins (``from mixtree import effects as fx``)."""

from mixtree.effects.base import Effect
from mixtree.effects.compressor import Compressor
from mixtree.effects.delay import Delay
from mixtree.effects.filters import EQ3, Filter
from mixtree.effects.gain import Gain, Pan
from mixtree.effects.parameters import Parameter
from mixtree.effects.plugin import Plugin
from mixtree.effects.reverb import Reverb
from mixtree.effects.synth import PolySynth

__all__ = [
    "EQ3",
    "Compressor",
    "Delay",
    "Effect",
    "Filter",
    "Gain",
    "Pan",
    "Parameter",
    "Plugin",
    "PolySynth",
    "Reverb",
]
