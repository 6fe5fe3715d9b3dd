import numpy as np
import pytest

import mixtree as mt
from mixtree.io import audio_file
from mixtree.model import pool
from tests.conftest import RATE


def _noise(seconds: float, channels: int = 2, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal((int(seconds * RATE), channels)) * 0.1).astype(np.float32)


def test_budget_defaults_to_one_gib_and_refuses_what_is_not_a_byte_count(project):
    assert project.pool.budget == pool.DEFAULT_BUDGET == 1 << 30
    for bad in (-1, 1.5, True, "1G"):
        with pytest.raises(ValueError, match="pool budget"):
            project.pool.budget = bad


def test_a_file_above_the_threshold_streams_and_holds_nothing(project, wav):
    project.pool.stream_above = 100_000
    small = project.pool.load(wav(_noise(0.1), name="small.wav"))  # 38 400 bytes decoded
    big = project.pool.load(wav(_noise(1.0), name="big.wav"))  # 384 000 bytes
    assert not small.streamed and small.data is not None
    assert big.streamed and big.data is None and big.frames == RATE and big.channels == 2
    memory = project.pool.memory()
    assert memory.held == small.data.nbytes and memory.in_memory == 1 and memory.streamed == 1


def test_least_recently_used_decoded_audio_is_evicted_to_stay_in_budget(project, wav):
    project.pool.budget = 800_000  # two seconds of stereo float32 fit, three do not
    a = project.pool.load(wav(_noise(1.0, seed=1), name="a.wav"))
    b = project.pool.load(wav(_noise(1.0, seed=2), name="b.wav"))
    project.pool.load(a.path)  # a is used again: b is now the least recently used
    c = project.pool.load(wav(_noise(1.0, seed=3), name="c.wav"))
    assert b.streamed and not a.streamed and not c.streamed
    assert project.pool.memory().held <= project.pool.budget


def test_lowering_the_budget_evicts_and_the_evicted_source_reads_the_same_frames(project, wav):
    data = _noise(1.0)
    src = project.pool.load(wav(data))
    project.pool.budget = 1000
    assert src.streamed and project.pool.memory().held == 0
    out = np.zeros((500, 2), np.float32)
    src.reader().read(1234, out)
    assert np.array_equal(out, data[1234:1734])


def test_files_bigger_than_the_budget_stream_whatever_the_threshold(project, wav):
    project.pool.budget = 10_000
    assert project.pool.load(wav(_noise(0.5))).streamed


def test_an_mp3_streams_like_any_other_file(project, tmp_path):
    path = tmp_path / "a.mp3"
    audio_file.write(path, _noise(0.5), RATE)
    project.pool.stream_above = 0
    assert project.pool.load(path).streamed


def test_the_budget_is_saved_with_the_project(project, wav, tmp_path):
    project.pool.budget = 64 << 20
    project.add_audio_track("a").add_clip(project.pool.load(wav(_noise(0.1))))
    project.save(tmp_path / "song.json")
    again = mt.Project.load(tmp_path / "song.json")
    assert again.pool.budget == 64 << 20


def test_a_file_that_would_not_fit_beside_audio_that_cannot_be_evicted_streams(project, wav, tmp_path):
    gone = tmp_path / "kept.wav"
    audio_file.write(gone, _noise(1.0), RATE)
    kept = project.pool.load(gone)
    gone.unlink()  # its file is gone: its decoded audio cannot be read again, so it stays
    project.pool.budget = kept.data.nbytes + 100_000
    later = project.pool.load(wav(_noise(0.5)))  # 192 000 bytes: more than is left
    assert not kept.streamed and later.streamed
    assert project.pool.memory().held <= project.pool.budget
