import numpy as np
import pytest

import mixtree as mt
from tests.conftest import RATE, sine


def test_loading_the_same_file_twice_returns_the_same_source(project, wav):
    path = wav(sine(440, 0.1))
    a = project.pool.load(path)
    assert project.pool.load(str(path)) is a
    assert len(project.pool) == 1


def test_source_is_float32_at_the_project_rate_and_resampled_once(project, wav):
    path = wav(sine(1000, 1.0, rate=44100), rate=44100)
    src = project.pool.load(path)
    assert src.data.dtype == np.float32
    assert src.sample_rate == RATE and src.original_rate == 44100
    assert src.frames == RATE
    spectrum = np.abs(np.fft.rfft(src.data[:, 0] * np.hanning(src.frames)))
    assert np.argmax(spectrum) * RATE / src.frames == pytest.approx(1000, abs=1)


def test_mono_stays_mono_and_surround_folds_to_stereo(project, wav):
    assert project.pool.load(wav(sine(100, 0.1), name="m.wav")).channels == 1
    six = np.tile(sine(100, 0.1), (1, 6))
    src = project.pool.load(wav(six, name="six.wav"))
    assert src.channels == 2 and src.original_channels == 6


def test_unreadable_file_raises_media_error_and_adds_nothing(project, tmp_path):
    (tmp_path / "bad.wav").write_bytes(b"not audio" * 100)
    with pytest.raises(mt.MediaError, match="bad.wav"):
        project.pool.load(tmp_path / "bad.wav")
    assert len(project.pool) == 0
    with pytest.raises(mt.UnknownIdError, match="no source with id 99"):
        project.pool.get(99)
