"""The session the soaks play: 32 tracks with effects, metatracks, MIDI and automation, one loop long."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

import mixtree as mt
from mixtree import effects as fx

RATE = 48000
#: The loop the soaks play, seconds: every source, note and lane repeats on it exactly.
LOOP = 8.0


def _stationary(seed: int, seconds: float) -> np.ndarray:
    """Return a tone plus noise whose loudness does not change over ``seconds``."""
    frames = int(seconds * RATE)
    t = np.arange(frames) / RATE
    rng = np.random.default_rng(seed)
    tone = 0.2 * np.sin(2 * np.pi * (110.0 * (1 + seed % 7)) * t)
    return (tone + 0.05 * rng.standard_normal(frames)).astype(np.float32)[:, None]


def build(folder: Path, tracks: int = 32) -> mt.Project:
    """Build the soak session in ``folder`` (its media are written there): ``tracks`` tracks
    in all (audio, MIDI, buses and metatracks), every one playing through the whole loop."""
    folder.mkdir(parents=True, exist_ok=True)
    p = mt.Project(sample_rate=RATE)
    verb = p.add_bus("Verb")
    verb.add_effect(fx.Reverb(room_size=0.6, mix=1.0))
    made = 1
    audio: list[mt.AudioTrack] = []
    for k in range(18):
        path = folder / f"src{k}.wav"
        sf.write(str(path), _stationary(k, LOOP), RATE, subtype="FLOAT")
        t = p.add_audio_track(f"A{k}", volume_db=-18.0, pan=((k % 5) - 2) / 3)
        t.add_clip(p.pool.load(path), start=0.0, duration=LOOP)
        chain = k % 4
        if chain == 0:
            t.add_effect(fx.EQ3(low_db=3.0, high_db=-2.0))
        elif chain == 1:
            t.add_effect(fx.Compressor(threshold_db=-24.0, ratio=3.0))
        elif chain == 2:
            t.add_effect(fx.Delay(time=0.25, feedback=0.4, mix=0.3))
        else:
            t.add_effect(fx.Filter(kind="lowpass", freq=3000.0))
        if k % 3 == 0:
            t.add_send(verb.id, level_db=-12.0)
        if k % 2 == 0:  # a lane that repeats each loop: down and back up
            lane = t.automate("volume_db")
            lane.add_point(0.0, -18.0)
            lane.add_point(LOOP / 2, -24.0)
            lane.add_point(LOOP - 0.01, -18.0)
        audio.append(t)
        made += 1
    for k in range(8):
        keys = p.add_midi_track(f"M{k}", instrument=fx.PolySynth(), volume_db=-24.0)
        clip = keys.add_midi_clip(start=0.0, duration=LOOP)
        for n in range(16):
            clip.add_note(48 + (n * 5 + k) % 24, 90, start=n * LOOP / 16, duration=LOOP / 32)
        made += 1
    groups = [p.create_metatrack([t.id for t in audio[g * 4 : g * 4 + 4]], name=f"G{g}") for g in range(3)]
    made += len(groups)
    groups[0].add_effect(fx.Gain(db=-1.0))
    groups[1].speed = 1.0
    outer = p.create_metatrack([groups[2].id], name="Outer")
    outer.add_effect(fx.EQ3(mid_db=-2.0))
    made += 1
    while made < tracks:
        filler = p.add_audio_track(f"F{made}", volume_db=-30.0)
        filler.add_clip(p.pool.load(folder / "src0.wav"), start=0.0, duration=LOOP)
        made += 1
    p.master.add_effect(fx.Compressor(threshold_db=-6.0, ratio=2.0))
    return p


def count_tracks(project: mt.Project) -> int:
    """Return how many tracks (of every kind, master aside) the project holds."""
    return len(project.tracks)
