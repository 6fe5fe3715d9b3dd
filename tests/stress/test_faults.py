"""Faults injected: saves killed or out of disk, folders gone, autosaves after a crash, media
removed while playing, media over the pool's budget (the long run: ``python -m tests.stress.faults``)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

import mixtree as mt
from mixtree.engine.engine import Engine
from tests.stress import faults

RATE = 48000


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return faults.large_project(tmp_path_factory.mktemp("large"), tracks=120, clips=20)


def test_a_save_killed_at_random_moments_leaves_one_whole_state(large: Path) -> None:
    rng = random.Random(21)
    first = 1
    for _ in range(2):
        result = faults.kill_during_saves(large, first, rng, most_seconds=2.0)
        assert result.found >= first - 1
        first = max(result.finished, result.found) + 1
    assert first > 2  # the children got through saves before being killed


def test_a_full_disk_leaves_the_file_and_its_backup_as_they_were(large: Path) -> None:
    mt.Project.load(large).save(large)  # a backup to keep
    bak = large.with_name(large.name + ".bak")
    before = large.read_bytes(), bak.read_bytes()
    said = faults.disk_full(large, limit=64 * 1024)
    assert said.startswith("SaveError") and "song.json" in said, said
    assert (large.read_bytes(), bak.read_bytes()) == before
    assert not list(large.parent.glob(".*.tmp"))  # no temporary file left behind
    assert faults.state_of(large) is not None


def test_saving_into_a_folder_that_vanished_is_a_clear_error_and_loses_nothing(tmp_path: Path) -> None:
    p = mt.Project(sample_rate=RATE)
    p.add_audio_track("kept")
    folder = tmp_path / "gone"
    folder.mkdir()
    p.save(folder / "song.json")
    os.remove(folder / "song.json")
    folder.rmdir()
    p.tracks[0].name = "edited"
    with pytest.raises(mt.SaveError, match="does not exist"):
        p.save()
    assert p.tracks[0].name == "edited" and p.saved_version != p.version  # still unsaved, still there
    assert mt.Project.load(p.save(tmp_path / "elsewhere.json")).tracks[0].name == "edited"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only folder")
def test_saving_into_a_read_only_folder_is_a_clear_error_and_loses_nothing(tmp_path: Path) -> None:
    p = mt.Project(sample_rate=RATE)
    p.add_audio_track("kept")
    path = p.save(tmp_path / "song.json")
    before = path.read_bytes()
    p.tracks[0].name = "edited"
    tmp_path.chmod(0o555)
    try:
        with pytest.raises(mt.SaveError, match="song.json"):
            p.save()
    finally:
        tmp_path.chmod(0o755)
    assert path.read_bytes() == before and p.tracks[0].name == "edited"


def test_an_autosave_survives_a_killed_session_and_is_recovered(large: Path) -> None:
    code = (
        "import os, signal, sys, warnings\nwarnings.simplefilter('ignore')\nimport mixtree as mt\n"
        "p = mt.Project.load(sys.argv[1])\np.tracks[0].volume_db = -7.0\np.autosave()\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(faults.ROOT / "src"), str(faults.ROOT)])}
    done = subprocess.run([sys.executable, "-c", code, str(large)], env=env, check=False)
    assert done.returncode == -signal.SIGKILL
    with pytest.warns(mt.RecoveryWarning):
        assert mt.Project.load(large).tracks[0].volume_db == 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        recovered = mt.Project.load(large, recover=True)
    assert recovered.tracks[0].volume_db == -7.0
    mt.discard_autosaves(large)


def _noise(seconds: float, seed: int) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal((int(seconds * RATE), 2)) * 0.1).astype(np.float32)


def test_media_removed_while_playing_take_their_source_offline_and_the_rest_plays_on(tmp_path: Path) -> None:
    p = mt.Project(sample_rate=RATE)
    p.pool.stream_above = 1 << 20  # the 2 MB file streams, the small one is held in memory
    sf.write(str(tmp_path / "big.wav"), _noise(6.0, 1), RATE, subtype="FLOAT")
    sf.write(str(tmp_path / "small.wav"), _noise(6.0, 2)[: RATE // 2], RATE, subtype="FLOAT")
    streamed, held = p.pool.load(tmp_path / "big.wav"), p.pool.load(tmp_path / "small.wav")
    assert streamed.streamed and not held.streamed
    p.add_audio_track("streamed").add_clip(streamed, start=0.0)
    kept = p.add_audio_track("held")
    for k in range(12):
        kept.add_clip(held, start=k * 0.5)
    expected = p.render(0.0, 6.0)
    eng = Engine(p, driver="null", blocksize=256, autosave=None)
    try:
        eng.play()
        out = []
        for k in range(6 * RATE // 256):
            if k == RATE // 256:  # after a second: the streamed file is cut short, the held one deleted
                sf.write(str(tmp_path / "big.wav"), np.zeros((10, 2), np.float32), RATE)
                os.remove(tmp_path / "small.wav")
                eng.seek(2.0)
            assert eng.streams_ready()
            out.append(eng.process())
        with warnings.catch_warnings(record=True) as said:
            warnings.simplefilter("always")
            errors = [e for e in eng.events() if e.kind == "error"]
    finally:
        eng.close()
    audio = np.concatenate(out)
    assert len(errors) == 1 and "big.wav" in errors[0].message
    assert any("big.wav" in str(w.message) for w in said)
    assert streamed.offline and not held.offline
    later = audio[3 * RATE : 5 * RATE]
    assert np.isfinite(audio).all() and np.sqrt(np.mean(later**2)) > 0.05  # the held source plays on
    np.testing.assert_allclose(audio[: RATE // 2], expected[: RATE // 2], atol=1e-6)


def test_a_project_whose_media_exceed_the_pool_budget_loads_and_plays_streamed(tmp_path: Path) -> None:
    p = mt.Project(sample_rate=RATE)
    for k in range(3):
        sf.write(str(tmp_path / f"s{k}.wav"), _noise(3.0, k), RATE, subtype="FLOAT")
        p.add_audio_track(f"t{k}").add_clip(p.pool.load(tmp_path / f"s{k}.wav"), start=0.0)
    expected = p.render(0.0, 3.0)
    p.pool.budget = 1 << 20  # 1 MiB: each source needs 1.1 MiB decoded
    path = p.save(tmp_path / "song.json")
    q = mt.Project.load(path)
    assert all(s.streamed for s in q.pool) and q.pool.memory().held == 0
    eng = Engine(q, driver="null", blocksize=512, autosave=None)
    try:
        eng.play()
        out = []
        for _ in range(3 * RATE // 512):
            assert eng.streams_ready()
            out.append(eng.process())
    finally:
        eng.close()
    played = np.concatenate(out)
    np.testing.assert_allclose(played, expected[: played.shape[0]], atol=1e-6)
