import os
import time
from types import SimpleNamespace

import numpy as np
import soundfile as sf

from mixtree.studio import peaks


def _reference(data: np.ndarray, per: int) -> np.ndarray:
    lo, hi = data.min(axis=1), data.max(axis=1)
    n = -(-len(lo) // per)
    pad = n * per - len(lo)
    lo = np.concatenate([lo, np.full(pad, np.inf)]).reshape(n, per).min(axis=1)
    hi = np.concatenate([hi, np.full(pad, -np.inf)]).reshape(n, per).max(axis=1)
    return np.stack([lo, hi], axis=1)


def test_every_level_holds_the_min_and_max_over_its_frames_and_channels(tmp_path):
    rng = np.random.default_rng(3)
    data = (rng.standard_normal((peaks.BLOCK + 12345, 2)) * 0.3).clip(-1, 1).astype(np.float32)
    path = tmp_path / "noise.wav"
    sf.write(str(path), data, 44100, subtype="FLOAT")
    overview = peaks.compute(path)
    assert overview.rate == 44100 and overview.frames == data.shape[0]
    for level in range(peaks.LEVELS):
        expected = _reference(data, overview.frames_per_bucket(level))
        assert np.array_equal(overview.levels[level], expected.astype(np.float32)), level
    assert np.array_equal(peaks.of_array(data, 44100).levels[3], overview.levels[3])


def test_the_cache_is_reused_until_the_file_changes(tmp_path):
    path = tmp_path / "a.wav"
    sf.write(str(path), np.full((5000, 1), 0.25, np.float32), 48000, subtype="FLOAT")
    folder = tmp_path / "peaks"
    first, reused = peaks.load_or_compute(path, folder)
    assert not reused and len(list(folder.glob("*.npz"))) == 1
    again, reused = peaks.load_or_compute(path, folder)
    assert reused and np.array_equal(again.levels[0], first.levels[0])
    sf.write(str(path), np.full((7000, 1), -0.5, np.float32), 48000, subtype="FLOAT")
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 10**9))  # a new stamp even within one clock tick
    changed, reused = peaks.load_or_compute(path, folder)
    assert not reused and changed.frames == 7000 and changed.levels[0][0, 0] == -0.5


def test_the_cache_sits_beside_the_project_or_in_the_user_cache(tmp_path, monkeypatch):
    assert peaks.cache_dir(tmp_path / "song.json") == tmp_path / "peaks"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert peaks.cache_dir(None) == tmp_path / "cache" / "mixtree" / "peaks"


def test_a_store_builds_on_its_worker_and_reports_a_missing_file(tmp_path, song):
    ready, failed = [], []
    store = peaks.PeakStore(lambda: tmp_path / "peaks", ready.append, lambda i, m: failed.append((i, m)))
    sources = list(song.pool)
    for s in sources:
        store.request(s)
    assert store.wait(30)
    assert sorted(ready) == sorted(s.id for s in sources)
    assert store.get(sources[0].id) is not None
    held = sources[0]  # decoded in memory: drawn from memory once its file is gone
    held.path.unlink()
    gone = SimpleNamespace(id=999, path=tmp_path / "gone.wav", data=None, sample_rate=48000)
    other = peaks.PeakStore(lambda: tmp_path / "elsewhere", ready.append, lambda i, m: failed.append((i, m)))
    other.request(held)
    other.request(gone)
    assert other.wait(30)
    store.close()
    other.close()
    assert ready.count(held.id) == 2
    assert failed == [(999, "OSError: cannot draw 'gone.wav': the file is missing")]


def test_a_long_file_is_read_at_200_times_real_time_at_least(tmp_path):
    seconds = 120
    data = (np.random.default_rng(1).standard_normal((48000 * seconds, 2)) * 0.2).astype(np.float32)
    path = tmp_path / "long.wav"
    sf.write(str(path), data, 48000, subtype="PCM_16")
    del data
    best = min(_timed(path) for _ in range(2))
    assert seconds / best >= 200, f"{seconds / best:.0f}x real time"


def _timed(path):
    t = time.perf_counter()
    peaks.compute(path)
    return time.perf_counter() - t
