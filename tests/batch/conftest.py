"""Small projects for the batch tests: short, few tracks, so a job takes milliseconds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

import mixtree as mt
import mixtree.batch as batch
from mixtree import effects as fx
from mixtree.batch import Job, Report, grid

RATE = 48000
SECONDS = 0.6


def make_project(folder: Path, killer: bool = False) -> mt.Project:
    """Drums (noise through a compressor) sending to Verb (a bus with a reverb), and Bass (a sine)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    n = int(SECONDS * RATE)
    drums = folder / "drums.wav"
    sf.write(str(drums), (rng.standard_normal((n, 2)) * 0.1).astype(np.float32), RATE, subtype="FLOAT")
    bass = folder / "bass.wav"
    t = np.arange(n) / RATE
    sf.write(str(bass), (0.3 * np.sin(2 * np.pi * 55 * t)).astype(np.float32)[:, None], RATE, subtype="FLOAT")
    p = mt.Project(sample_rate=RATE)
    verb = p.add_bus("Verb")
    verb.add_effect(fx.Reverb(mix=0.5))
    d = p.add_audio_track("Drums", volume_db=-3.0)
    d.add_clip(p.pool.load(drums))
    d.add_effect(fx.Compressor(threshold_db=-20.0))
    d.add_send(verb.id, level_db=-6.0)
    b = p.add_audio_track("Bass", pan=-0.2)
    b.add_clip(p.pool.load(bass))
    b.add_effect(fx.Filter("lowpass", 800.0))
    if killer:
        from tests.batch.effects import Killer, KillOnce

        b.add_effect(Killer())
        b.add_effect(KillOnce())
    return p


@pytest.fixture
def song(tmp_path: Path) -> Path:
    """A saved project file (with its media beside it)."""
    p = make_project(tmp_path / "song")
    return p.save(tmp_path / "song" / "song.json")


#: 4 × 13 = 52 grid jobs, then a job that raises and one over a corrupt project file.
GRID = {"Drums.volume_db": [-12.0, -6.0, -3.0, 0.0], "Verb.mix": [k / 12 for k in range(13)]}
SRC = str(Path(__file__).resolve().parents[2] / "src")


def sweep(folder: Path) -> tuple[Path, list[Job]]:
    """Write the song and a corrupt project under ``folder``; return the song and the 54 jobs."""
    song = make_project(folder / "song").save(folder / "song" / "song.json")
    out = folder / "renders"
    jobs = grid(song, GRID, out=str(out / "{index:05d}.wav"), subtype="float")
    bad = folder / "corrupt.json"
    bad.write_text('{"format": "mixtree", "version": 3, "tracks": [')
    jobs.append(Job(song, {"Verb.mix": 7.0}, out=str(out / "raises.wav"), index=52))
    jobs.append(Job(bad, {}, out=str(out / "corrupt.wav"), index=53))
    return song, jobs


@pytest.fixture(scope="session")
def local_run(tmp_path_factory) -> tuple[Path, list[Job], Report]:
    folder = tmp_path_factory.mktemp("local")
    song, jobs = sweep(folder)
    return song, jobs, batch.render(jobs, workers=2)
