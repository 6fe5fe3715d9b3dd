"""The demo song: drums, bass and a pad synthesised here, arranged to show the track tree."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy import signal

from mixtree.effects import EQ3, Compressor, Delay, Filter, PolySynth, Reverb
from mixtree.io import audio_file
from mixtree.model.pool import Source
from mixtree.model.project import Project
from mixtree.model.tracks import AudioTrack, Metatrack

TEMPO = 120.0
BEAT = 60.0 / TEMPO
BAR = 4 * BEAT
RATE = 48000
#: A minor, a chord a bar: Am F C G, as MIDI notes; the bass plays their roots.
CHORDS = ((57, 60, 64), (53, 57, 60), (55, 60, 64), (55, 59, 62))
ROOTS = (45, 41, 48, 43)
#: (beat, length in beats, semitones above the root) of each bass note in a bar.
BASS_LINE = ((0.0, 0.75, 0), (1.5, 0.5, 0), (2.0, 0.75, 12), (3.0, 0.5, 0), (3.5, 0.5, 7))
#: The song: (from, to in seconds, section, what plays).
SECTIONS = (
    (0.0, 2 * BAR, "intro", "Pad and Arp"),
    (2 * BAR, 6 * BAR, "groove", "Drums, Bass, Pad and Arp"),
    (6 * BAR, 8 * BAR, "breakdown", "the Drums' first bar at half speed, under Pad and Arp"),
    (8 * BAR, 10 * BAR, "drop", "everything at full speed again"),
    (10 * BAR, 11.5 * BAR, "ending", "a last kick, stopped like tape; the Am chord rings out"),
)


def _hz(note: float) -> float:
    return 440.0 * 2 ** ((note - 69) / 12)


def _decay(n: int, rate: int, seconds: float) -> np.ndarray:
    return np.exp(-np.arange(n) / (seconds * rate))


def _saw(freq: float, n: int, rate: int) -> np.ndarray:
    return 2 * ((freq * np.arange(n) / rate) % 1.0) - 1


def _ramps(n: int, rate: int, attack: float, release: float) -> np.ndarray:
    t = np.arange(n) / rate
    return np.minimum(1.0, t / attack) * np.clip((n / rate - t) / release, 0.0, 1.0)


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
    """Return four bars of bass under the chords: low-passed saw notes, mono."""
    out = np.zeros(int(len(ROOTS) * BAR * rate) + rate // 10)
    for bar, root in enumerate(ROOTS):
        for beat, length, step in BASS_LINE:
            n, at = int(length * BEAT * rate), int((bar * BAR + beat * BEAT) * rate)
            env = _ramps(n, rate, 0.005, 0.01) * _decay(n, rate, 0.4)
            out[at : at + n] += 0.5 * env * _saw(_hz(root + step), n, rate)
    sos = signal.butter(2, 700, btype="lowpass", fs=rate, output="sos")
    return signal.sosfilt(sos, out)[:, None]


def pad(rate: int = 44100) -> np.ndarray:
    """Return the chords as a detuned-saw pad, a bar each, then a last Am held for 1.5
    bars that fades out; stereo, at 44.1 kHz."""
    bars = []
    for chord, length in zip((*CHORDS, CHORDS[0]), (1, 1, 1, 1, 1.5), strict=True):
        n = int(length * BAR * rate)
        env = _ramps(n, rate, 0.3, 0.05) * (_decay(n, rate, 1.0) if length > 1 else 1.0)
        left = sum(_saw(_hz(m) * 0.997, n, rate) for m in (*chord, chord[0] + 12))
        right = sum(_saw(_hz(m) * 1.003, n, rate) for m in (*chord, chord[0] + 12))
        bars.append(np.stack([left, right], axis=1) * env[:, None])
    sos = signal.butter(2, 1800, btype="lowpass", fs=rate, output="sos")
    return 0.06 * signal.sosfilt(sos, np.concatenate(bars), axis=0)


def _drums(p: Project, src: dict[str, Source]) -> tuple[Metatrack, AudioTrack]:
    kick_t = p.add_audio_track("Kick", volume_db=-2.0)
    snare_t = p.add_audio_track("Snare", volume_db=-4.0, pan=-0.1)
    hat_t = p.add_audio_track("Hats", volume_db=-6.0, pan=0.3)
    # Bars 1-4 and 7-8 of the group's own timeline; the gap is where the song breaks down.
    for bar in (0, 1, 2, 3, 6, 7):
        at = bar * BAR
        for beat in (0.0, 1.5, 2.0):
            kick_t.add_clip(src["kick"], start=at + beat * BEAT)
        fill = bar in (3, 7)  # a roll into the breakdown and into the ending
        hits = ((1.0, 0.0), (3.0, -6.0), (3.25, -4.0), (3.5, -2.0), (3.75, 0.0)) if fill else ((1.0, 0.0), (3.0, 0.0))
        for beat, gain in hits:
            snare_t.add_clip(src["snare"], start=at + beat * BEAT, gain_db=gain)
        for eighth in range(8):
            hat_t.add_clip(src["hat"], start=at + eighth * BEAT / 2, gain_db=-5.0 * (eighth % 2))
    kick_t.add_clip(src["kick"], start=8 * BAR)  # the last downbeat
    kick_t.add_effect(EQ3(low_db=3.0, mid_db=-4.0, low_freq=100.0))
    hat_t.add_effect(Filter("highpass", freq=6000.0))
    drums = p.create_metatrack([kick_t.id, snare_t.id, hat_t.id], name="Drums")
    drums.offset = 2 * BAR
    drums.add_effect(Compressor(threshold_db=-14.0, ratio=3.0, attack=0.01, release=0.12, makeup_db=1.0))
    # the last kick slows to a stop over two beats: the speed's integral is the drums' time
    drums.automate("speed").set_points([(10 * BAR, 1.0, "linear", 0.0), (10 * BAR + 2 * BEAT, 0.0, "hold", 0.0)])
    return drums, snare_t


def build(directory: Path) -> tuple[Project, list[tuple[str, str]]]:
    """Write the demo's media into ``directory/media`` and return its song.

    Returns
    -------
    project, parts
        The arranged project, and a (part, what it demonstrates) line for each part.
    """
    media = directory / "media"
    media.mkdir(parents=True, exist_ok=True)
    files = {"kick": kick(), "snare": snare(), "hat": hat(), "bass": bass(), "pad": pad(44100)}
    p = Project(sample_rate=RATE)
    src = {}
    for name, audio in files.items():
        path = media / f"{name}.wav"
        audio_file.write(path, audio.astype(np.float32), 44100 if name == "pad" else RATE)
        src[name] = p.pool.load(path)  # the pad is resampled to the project's rate here

    drums, snare_t = _drums(p, src)

    bass_t = p.add_audio_track("Bass", volume_db=-4.0)
    for at, bars in ((2 * BAR, 4), (8 * BAR, 2)):
        bass_t.add_clip(src["bass"], start=at, duration=bars * BAR, fade_out=0.01)
    bass_t.add_effect(EQ3(low_db=2.0, mid_db=-3.0, high_db=-6.0))
    bass_t.add_effect(Compressor(threshold_db=-20.0, ratio=4.0, attack=0.005, release=0.15, makeup_db=3.0))

    pad_t = p.add_audio_track("Pad", volume_db=-7.0, pan=-0.2)
    for at, bars in ((0.0, 4), (4 * BAR, 4), (8 * BAR, 2)):
        pad_t.add_clip(src["pad"], start=at, duration=bars * BAR, fade_in=0.02, fade_out=0.02)
    pad_t.add_clip(src["pad"], start=10 * BAR, offset=4 * BAR, fade_in=0.02)  # the held last chord
    # the intro opens up: the high-pass cutoff sweeps down, evenly in pitch (geometric)
    pad_t.add_effect(Filter("highpass", freq=180.0)).automate("freq").set_points(
        [(0.0, 1500.0, "geometric", 0.0), (2 * BAR, 180.0, "hold", 0.0)]
    )

    arp = p.add_midi_track(
        "Arp",
        instrument=PolySynth(
            "saw", attack=0.002, decay=0.25, sustain=0.0, release=0.2, cutoff=700.0, resonance=2.5,
            filter_env=3.0, filter_decay=0.18, gain_db=-10.0,
        ),
        volume_db=-6.0,
        pan=0.2,
    )  # fmt: skip
    clip = arp.add_midi_clip(start=0.0, duration=44.0, in_beats=True)
    for bar in range(10):
        tones = [m + 12 for m in CHORDS[bar % 4]] + [CHORDS[bar % 4][0] + 24]
        for eighth, i in enumerate((0, 1, 2, 3, 2, 1, 2, 1)):
            clip.add_note(tones[i], 100 if eighth % 2 == 0 else 70, bar * 4 + eighth / 2, 0.4, in_beats=True)
    for m in (69, 76, 81):
        clip.add_note(m, 70, 40.0, 3.0, in_beats=True)
    arp.add_effect(Delay(beats=0.75, feedback=0.4, mix=0.3))
    arp.automate("volume_db").set_points([(0.0, -24.0, "bend", 0.5), (2 * BAR, -6.0, "hold", 0.0)])

    half = p.add_metatrack("Half-time")
    again = p.add_audio_track("Drums again", volume_db=-5.0, parent_id=half.id)
    # An alias reads the metatrack's timeline as it sits in the song: its first bar is at 4 s.
    again.add_alias(drums.id, start=0.0, duration=BAR, offset=drums.offset)
    again.add_effect(Filter("lowpass", freq=3000.0))
    half.offset, half.speed = 6 * BAR, 0.5

    verb = p.add_bus("Reverb", volume_db=-3.0)
    verb.add_effect(Reverb(room_size=0.85, damping=0.4, mix=1.0))
    verb.add_effect(EQ3(low_db=-6.0))
    for track, level in ((snare_t, -12.0), (pad_t, -6.0), (arp, -8.0), (again, -14.0)):
        track.add_send(verb.id, level_db=level)

    parts = [
        ("Drums", "a metatrack of Kick, Snare and Hats: its offset, Compressor and speed lane act on all three"),
        ("Half-time", "a metatrack at speed 0.5 from 12 s: an alias in it plays the Drums at half speed"),
        ("Arp", "a MIDI track: the built-in PolySynth, a Delay of 3/4 beat, a volume lane fading it in"),
        ("Bass", "an audio track through EQ3 and a Compressor"),
        ("Pad", "a stereo 44.1 kHz file, resampled once, through a high-pass Filter its lane sweeps"),
        ("Reverb", "a bus with a Reverb, fed by sends from Snare, Pad, Arp and Drums again"),
    ]
    return p, parts
