"""The demo session: drums, bass and pad synthesised here, arranged on five tracks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy import signal

from mixtree.io import audio_file
from mixtree.model.project import Project

TEMPO = 120.0
BEAT = 60.0 / TEMPO
BARS = 8
RATE = 48000


def _decay(n: int, rate: int, seconds: float) -> np.ndarray:
    return np.exp(-np.arange(n) / (seconds * rate))


def kick(rate: int = RATE) -> np.ndarray:
    """Return a kick drum: a sine sweeping 150 → 45 Hz under a fast decay, mono."""
    n = int(0.45 * rate)
    freq = 45.0 + 105.0 * _decay(n, rate, 0.04)
    phase = 2 * np.pi * np.cumsum(freq) / rate
    return (0.9 * np.sin(phase) * _decay(n, rate, 0.12))[:, None]


def snare(rate: int = RATE, seed: int = 1) -> np.ndarray:
    """Return a snare: band-passed noise over a 185 Hz body, mono."""
    n = int(0.3 * rate)
    noise = np.random.default_rng(seed).standard_normal(n)
    sos = signal.butter(2, [1500, 7000], btype="bandpass", fs=rate, output="sos")
    body = np.sin(2 * np.pi * 185 * np.arange(n) / rate) * _decay(n, rate, 0.05)
    x = 0.35 * signal.sosfilt(sos, noise) * _decay(n, rate, 0.07) + 0.5 * body
    return x[:, None]


def hat(rate: int = RATE, seed: int = 2) -> np.ndarray:
    """Return a closed hi-hat: high-passed noise with a short decay, mono."""
    n = int(0.09 * rate)
    noise = np.random.default_rng(seed).standard_normal(n)
    sos = signal.butter(4, 7000, btype="highpass", fs=rate, output="sos")
    return (0.25 * signal.sosfilt(sos, noise) * _decay(n, rate, 0.02))[:, None]


def bass(rate: int = RATE) -> np.ndarray:
    """Return a two-bar bass line of low-passed saw notes, mono."""
    notes = [40, 40, 43, 45, 40, 40, 47, 45]  # MIDI numbers, one per beat
    n_note = int(BEAT * rate)
    out = np.zeros(n_note * len(notes))
    sos = signal.butter(2, 900, btype="lowpass", fs=rate, output="sos")
    t = np.arange(n_note) / rate
    env = np.minimum(1.0, t / 0.005) * _decay(n_note, rate, 0.35)
    env[-int(0.01 * rate) :] *= np.linspace(1, 0, int(0.01 * rate))
    for i, m in enumerate(notes):
        f = 440.0 * 2 ** ((m - 69) / 12)
        saw = 2 * ((f * t) % 1.0) - 1
        out[i * n_note : (i + 1) * n_note] = 0.45 * env * saw
    return signal.sosfilt(sos, out)[:, None]


def pad(rate: int = 44100) -> np.ndarray:
    """Return four bars of a detuned-saw minor chord, stereo, at 44.1 kHz."""
    n = int(4 * 4 * BEAT * rate)
    t = np.arange(n) / rate
    left = np.zeros(n)
    right = np.zeros(n)
    for m in (52, 55, 59, 64):
        f = 440.0 * 2 ** ((m - 69) / 12)
        left += 2 * ((f * 0.997 * t) % 1.0) - 1
        right += 2 * ((f * 1.003 * t) % 1.0) - 1
    sos = signal.butter(2, 1800, btype="lowpass", fs=rate, output="sos")
    x = signal.sosfilt(sos, np.stack([left, right], axis=1), axis=0)
    return 0.06 * x


def build(directory: Path) -> Project:
    """Write the demo's media into ``directory/media`` and return its arranged project."""
    media = directory / "media"
    media.mkdir(parents=True, exist_ok=True)
    files = {
        "kick": (kick(), RATE),
        "snare": (snare(), RATE),
        "hat": (hat(), RATE),
        "bass": (bass(), RATE),
        "pad": (pad(), 44100),
    }
    for name, (audio, rate) in files.items():
        audio_file.write(media / f"{name}.wav", audio.astype(np.float32), rate)

    p = Project(sample_rate=RATE)
    src = {name: p.pool.load(media / f"{name}.wav") for name in files}
    beats = BARS * 4
    kick_t = p.add_audio_track("Kick", volume_db=-2.0)
    snare_t = p.add_audio_track("Snare", volume_db=-4.0, pan=-0.1)
    hat_t = p.add_audio_track("Hats", volume_db=-8.0, pan=0.35)
    bass_t = p.add_audio_track("Bass", volume_db=-5.0)
    pad_t = p.add_audio_track("Pad", volume_db=-6.0, pan=-0.2)
    for b in range(beats):
        kick_t.add_clip(src["kick"], start=b * BEAT)
        if b % 2 == 1:
            snare_t.add_clip(src["snare"], start=b * BEAT, fade_out=0.05)
    for e in range(beats * 2):
        accent = 0.0 if e % 2 == 0 else -5.0
        hat_t.add_clip(src["hat"], start=e * BEAT / 2, gain_db=accent)
    for bar in range(0, BARS, 2):
        bass_t.add_clip(src["bass"], start=bar * 4 * BEAT, fade_out=0.02)
    # Two pad clips overlapping by one beat, crossfaded with equal-power fades; then the
    # pad's last bar reversed as a riser into the loop point.
    pad_len = src["pad"].duration
    pad_t.add_clip(src["pad"], start=0.0, fade_in=0.5, fade_out=BEAT, fade_curve="equal_power")
    pad_t.add_clip(
        src["pad"],
        start=pad_len - BEAT,
        duration=pad_len - 4 * BEAT,
        fade_in=BEAT,
        fade_out=0.3,
        fade_curve="equal_power",
    )
    pad_t.add_clip(
        src["pad"],
        start=(BARS * 4 - 1) * BEAT,
        duration=BEAT,
        offset=3 * BEAT,
        reversed=True,
        gain_db=-3.0,
        fade_in=0.2,
        fade_out=0.01,
    )
    return p
