import random
import warnings
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

import mixtree as mt
from mixtree.io.audio_file import MediaWarning
from mixtree.io.stream import StreamReader, exact_frames

# a real MP3 another program wrote: no gapless header, 11025 Hz mono, and libsndfile's
# length from its header is an estimate (87 frames more than decoding gives)
HOUSE = Path(pytest.importorskip("pygame").__file__).parent / "examples" / "data" / "house_lo.mp3"


@pytest.fixture(scope="module")
def lame_mp3(tmp_path_factory) -> Path:
    """20 s of stereo noise written by LAME through libsndfile: a gapless header."""
    path = tmp_path_factory.mktemp("mp3") / "noise.mp3"
    data = (np.random.default_rng(7).standard_normal((20 * 44100, 2)) * 0.1).astype(np.float32)
    sf.write(str(path), data, 44100, format="MP3")
    return path


def _whole(path: Path) -> np.ndarray:
    with sf.SoundFile(str(path)) as f:
        return f.read(dtype="float32", always_2d=True)


@pytest.mark.parametrize(("name", "tolerance"), [("lame", 0.0), ("house", 1.2e-7)])
def test_an_mp3_read_anywhere_gives_a_whole_decode(name, tolerance, lame_mp3):
    # exactly for LAME's 44.1 kHz; mpg123's MPEG-2.5 at 11025 Hz differs in the last bit
    # (one float32 step) after a seek, however early
    path = lame_mp3 if name == "lame" else HOUSE
    whole = _whole(path)
    assert exact_frames(path) == whole.shape[0]
    with sf.SoundFile(str(path)) as f:
        rate = f.samplerate
    reader = StreamReader(path, rate, exact_frames(path))
    try:
        rng = random.Random(3)
        for _ in range(60):  # forwards and backwards, anywhere: a seek straight there is wrong at first
            start = rng.randrange(0, whole.shape[0] - 3000)
            out = np.empty((2048, whole.shape[1]), np.float32)
            reader.read(start, out)
            assert np.abs(out - whole[start : start + 2048]).max() <= tolerance
        tail = np.empty((4096, whole.shape[1]), np.float32)
        assert reader.read(whole.shape[0] - 1000, tail) == 1000  # the end is where decoding ends
        assert np.abs(tail[:1000] - whole[-1000:]).max() <= tolerance and not tail[1000:].any()
    finally:
        reader.close()


def test_an_mp3_above_the_threshold_streams_and_renders_as_decoded_whole(lame_mp3):
    def song(streamed: bool) -> mt.Project:
        p = mt.Project(sample_rate=44100)
        if streamed:
            p.pool.stream_above = 0
        src = p.pool.load(lame_mp3)
        assert src.streamed == streamed
        t = p.add_audio_track("mp3")
        t.add_clip(src, start=0.5, offset=3.0, duration=6.0)
        t.add_clip(src, start=7.0, offset=1.0, duration=2.0, reversed=True)
        t.add_clip(src, start=9.5, offset=12.0, duration=2.0, speed=1.25)
        return p

    assert np.array_equal(song(True).render(0.0, 12.0), song(False).render(0.0, 12.0))


def test_a_streamed_mp3_without_a_gapless_header_is_warned_about_and_ends_where_decoding_does():
    p = mt.Project(sample_rate=44100)  # resampled as it streams
    p.pool.stream_above = 0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        src = p.pool.load(HOUSE)
    assert src.streamed and src.frames == _whole(HOUSE).shape[0] * 4
    assert any(issubclass(w.category, MediaWarning) and "gapless" in str(w.message) for w in caught)
    p.add_audio_track("house").add_clip(src)
    q = mt.Project(sample_rate=44100)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MediaWarning)
        q.add_audio_track("house").add_clip(q.pool.load(HOUSE))
    streamed, whole = p.render(0.0, src.duration + 0.1), q.render(0.0, src.duration + 0.1)
    assert np.abs(streamed - whole).max() < 1e-6 and not streamed[src.frames + 1 :].any()
