import numpy as np
import pytest

import mixtree as mt
from mixtree.io import audio_file
from mixtree.model import pool
from tests.conftest import RATE, sine
from tests.io.test_audio_file import riff_wav


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


def test_a_wav_claiming_1_hz_is_refused_before_it_is_resampled(project, tmp_path):
    path = tmp_path / "one-hertz.wav"
    path.write_bytes(riff_wav(1, frames=100_000))  # 200 kB that would resample to 19 GB at 48 kHz
    with pytest.raises(mt.MediaError, match="'.*one-hertz.wav': its header gives a sample rate of 1 Hz, outside"):
        project.pool.load(path)
    assert len(project.pool) == 0


def test_a_wav_claiming_2147483647_hz_is_refused_not_loaded_as_zero_frames(project, tmp_path):
    path = tmp_path / "fast.wav"
    path.write_bytes(riff_wav(2_147_483_647, frames=1000))
    with pytest.raises(mt.MediaError, match="'.*fast.wav': its header gives a sample rate of 2147483647 Hz"):
        project.pool.load(path)
    assert len(project.pool) == 0


@pytest.mark.parametrize("channels", [1, 6])
def test_the_resampled_size_is_checked_before_soxr_runs_counting_folded_channels(project, wav, monkeypatch, channels):
    path = wav(np.zeros((2000, channels), np.float32), rate=1000, name="slow.wav")  # 96000 frames at 48 kHz
    out = min(channels, 2)
    monkeypatch.setattr(audio_file, "MAX_DECODED_BYTES", 96000 * out * 4 - 1)
    monkeypatch.setattr(pool.soxr, "resample", lambda *a, **k: pytest.fail("resampled a refused source"))
    with pytest.raises(mt.MediaError) as info:
        project.pool.load(path)
    assert info.value.path == path
    assert info.value.reason.startswith(f"resampled to 48000 Hz it would take {96000 * out * 4 / 1024:.1f} KiB ")
    assert f"(96000 frames × {out} channel" in info.value.reason
    assert len(project.pool) == 0


def test_a_source_whose_resampled_size_is_at_the_limit_loads(project, wav, monkeypatch):
    path = wav(np.zeros((2000, 6), np.float32), rate=1000, name="slow.wav")
    monkeypatch.setattr(audio_file, "MAX_DECODED_BYTES", 96000 * 2 * 4)
    assert project.pool.load(path).data.shape == (96000, 2)
