"""DSP load of the built-in PolySynth with 8, 32 and 64 voices sounding, 256-frame blocks.

Run: ``python -m bench.midi``. Voices are spread over tracks of 32 voices (the synth's
polyphony), sawtooth with the filter envelope on, held for the whole measurement.
"""

from __future__ import annotations

import numpy as np

import mixtree as mt
from bench.realtime import dsp_load

RATE = 48000
BLOCK = 256


def load(voices: int, seconds: float = 10.0) -> np.ndarray:
    """Return the per-callback DSP load while ``voices`` notes sound."""
    p = mt.Project(sample_rate=RATE)
    for t in range((voices + 31) // 32):
        keys = p.add_midi_track(f"Keys {t}", instrument=mt.PolySynth(waveform="saw", filter_env=2.0))
        clip = keys.add_midi_clip(0.0, seconds + 1.0)
        for n in range(min(32, voices - 32 * t)):
            clip.add_note(36 + n, 100, 0.0, seconds + 1.0)
    return dsp_load(p, BLOCK, seconds)[1:]  # the voices start in the first callback


def main() -> None:
    """Print the table."""
    print(f"PolySynth DSP load per {BLOCK}-frame callback at {RATE} Hz (saw, filter envelope)")
    print(f"{'voices':>6} {'mean':>8} {'p99':>8} {'max':>8}")
    for voices in (8, 32, 64):
        x = load(voices)
        print(f"{voices:>6} {x.mean():>8.1%} {np.percentile(x, 99):>8.1%} {x.max():>8.1%}")


if __name__ == "__main__":
    main()
