"""One job run in this process, as a worker runs it: outputs, measurements, failures."""

from pathlib import Path

import numpy as np
import pytest

from mixtree.batch import Job
from mixtree.batch.runner import file_digest, run_job
from mixtree.io.audio_file import read

MIDI = Path(__file__).parents[1] / "data" / "midi" / "k525short.mid"


def test_a_job_normalises_the_mix_to_the_loudness_asked_and_writes_stems_beside_it(song, tmp_path):
    job = Job(song, {"Bass.pan": 0.5}, out=str(tmp_path / "mix.wav"), stems=str(tmp_path / "stems"), normalize_lufs=-20)
    row = run_job(job)
    assert row["error"] is None and row["loudness_lufs"] == pytest.approx(-20.0, abs=0.01)
    mix, *stems = [Path(p) for p in row["outputs"]]
    assert mix == tmp_path / "mix.wav" and [p.parent for p in stems] == [tmp_path / "stems"] * 3
    assert row["sha256"] == [file_digest(p) for p in row["outputs"]]
    assert row["peak"] == pytest.approx(float(np.abs(read(mix).data).max()))


def test_a_midi_file_renders_through_the_built_in_synth(tmp_path):
    row = run_job(Job(MIDI, {}, out=str(tmp_path / "song.flac"), duration=1.0))
    assert row["error"] is None and row["seconds"] == 1.0 and row["peak"] > 0


def test_a_failing_job_returns_its_error_and_leaves_no_file(song, tmp_path):
    row = run_job(Job(song, {"Drums.volume_db": 99.0}, out=str(tmp_path / "out" / "x.wav")))
    assert row["error"].startswith("ValueError: 'Drums.volume_db'") and row["outputs"] == []
    assert not (tmp_path / "out").exists()


def test_a_silent_or_too_short_render_has_no_loudness(song, tmp_path):
    row = run_job(Job(song, {"Master.mute": 1}, out=str(tmp_path / "a.wav")))
    assert row["error"] is None and row["loudness_lufs"] is None and row["peak_db"] is None
    row = run_job(Job(song, {}, out=str(tmp_path / "b.wav"), duration=0.2))
    assert row["loudness_lufs"] is None and row["peak"] > 0


def test_a_job_whose_media_are_missing_fails_naming_the_file_rather_than_render_silence(song, tmp_path):
    (song.parent / "drums.wav").unlink()
    row = run_job(Job(song, {}, out=str(tmp_path / "x.wav")))
    assert row["error"].startswith("MediaError:") and "drums.wav" in row["error"]
    assert row["outputs"] == [] and not (tmp_path / "x.wav").exists()
