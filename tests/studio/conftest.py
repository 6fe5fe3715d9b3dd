"""A small saved song for the studio's tests: audio, a metatrack, MIDI and a lane."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

import mixtree as mt

RATE = 48000


def make_song(folder: Path, seconds: float = 6.0) -> mt.Project:
    """Write the song's media into ``folder``, save it there as ``song.json``, return it."""
    folder.mkdir(parents=True, exist_ok=True)
    n = int(seconds * RATE)
    t = np.arange(n) / RATE
    rng = np.random.default_rng(7)
    tone = (0.4 * np.sin(2 * np.pi * 220 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 0.5 * t))).astype(np.float32)
    beat = (rng.standard_normal(n) * np.exp(-((t % 0.5) * 30))).astype(np.float32) * 0.5
    sf.write(str(folder / "tone.wav"), np.stack([tone, tone * 0.8], axis=1), RATE, subtype="PCM_24")
    sf.write(str(folder / "beat.wav"), beat[:, None], RATE, subtype="PCM_16")
    song = mt.Project(sample_rate=RATE)
    keys = song.add_audio_track("Keys")
    keys.add_clip(song.pool.load(folder / "tone.wav"), start=1.0, duration=4.0, fade_in=0.2, fade_out=0.5)
    drums = song.add_audio_track("Drums")
    drums.add_clip(song.pool.load(folder / "beat.wav"), start=0.0, duration=5.0)
    song.create_metatrack([drums.id], name="Rhythm")
    synth = song.add_midi_track("Synth")
    clip = synth.add_midi_clip(0.5, 3.0)
    for k, pitch in enumerate((60, 64, 67, 72)):
        clip.add_note(pitch, 90, 0.5 * k, 0.4)
    lane = keys.automate("volume_db")
    lane.set_points([(0.0, -6.0, "linear", 0.0), (3.0, 0.0, "linear", 0.0)])
    song.save(folder / "song.json")
    song.forget_history()
    return song


@pytest.fixture
def song(tmp_path: Path) -> mt.Project:
    """The saved song (history empty)."""
    return make_song(tmp_path / "song")
