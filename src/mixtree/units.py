"""Unit conversions: decibels and gain, seconds and frames, pan laws."""

from __future__ import annotations

import math

#: The sample rates a project may use, in Hz.
SAMPLE_RATES = (44100, 48000, 88200, 96000)

#: Gain in dB at or below which a fader counts as fully closed.
SILENCE_DB = -150.0

#: The longest session, in frames: frame counters stay far from overflowing.
MAX_FRAMES = 2**40
#: The latest time the model accepts anywhere on a timeline, in seconds (about 132 days:
#: `MAX_FRAMES` at the highest project rate).
MAX_SECONDS = MAX_FRAMES / max(SAMPLE_RATES)

#: Frames per block an offline render (render, export, stems, a track's tap) takes unless
#: told: every size gives the same samples; from 1024 on the cost per frame is lowest
#: (`python -m bench`, 32 tracks × 4 effects, 30 s: 256 frames 0.53-0.59 s, 512 0.48-0.50,
#: 1024 0.44-0.48, 2048 0.42-0.47, 4096 0.42-0.49).
OFFLINE_BLOCK = 2048


def db_to_gain(db: float) -> float:
    """Return the linear amplitude factor for ``db`` decibels (``-inf`` gives 0)."""
    if db <= SILENCE_DB:
        return 0.0
    return 10.0 ** (db / 20.0)


def gain_to_db(gain: float) -> float:
    """Return decibels for a linear amplitude factor (0 gives ``-inf``)."""
    if gain <= 0.0:
        return -math.inf
    return 20.0 * math.log10(gain)


def seconds_to_frames(seconds: float, sample_rate: int) -> int:
    """Return the frame nearest to ``seconds`` at ``sample_rate`` (exact for whole frames)."""
    return int(round(seconds * sample_rate))


def frames_to_seconds(frames: int, sample_rate: int) -> float:
    """Return the time in seconds of frame ``frames`` at ``sample_rate``."""
    return frames / sample_rate


def pan_gains(pan: float, mono: bool) -> tuple[float, float]:
    """Return (left, right) gains for ``pan`` in -1..1: mixtree's one pan law.

    Mono material uses the constant-power (sine/cosine) law: -3 dB each side at centre,
    unity on the side it is panned hard to. Stereo material uses balance: unity at centre,
    the far side fading linearly to silence. A track's fader pans its material so; the
    `Pan` effect, which runs on the track's stereo buffer, pans it by balance. Kernels
    call its compiled form, `mixtree.dsp.gain.pan_gains`.
    """
    pan = min(1.0, max(-1.0, pan))
    if mono:
        angle = (pan + 1.0) * (math.pi / 4.0)
        return math.cos(angle), math.sin(angle)
    return min(1.0, 1.0 - pan), min(1.0, 1.0 + pan)


def check_sample_rate(sample_rate: int) -> int:
    """Return ``sample_rate`` if a project may use it, else raise ``ValueError``."""
    if sample_rate not in SAMPLE_RATES:
        rates = ", ".join(str(r) for r in SAMPLE_RATES)
        raise ValueError(f"sample_rate must be one of {rates} Hz, not {sample_rate!r}")
    return int(sample_rate)
