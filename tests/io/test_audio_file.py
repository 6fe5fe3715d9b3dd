import importlib.util
import os
import struct
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy
import soundfile as sf
from scipy import signal

from mixtree import MediaError, MediaWarning
from mixtree.io import audio_file
from mixtree.io.mpeg import TYPICAL_DELAY
from mixtree.io.quantize import Quantizer
from tests.conftest import sine

SCIPY_DATA = Path(scipy.__file__).parent / "io" / "tests" / "data"
FREEDESKTOP = Path("/usr/share/sounds/freedesktop/stereo")
_PYGAME = importlib.util.find_spec("pygame")  # found, not imported: only its example sounds are used
PYGAME_DATA = Path(_PYGAME.submodule_search_locations[0]) / "examples" / "data" if _PYGAME else Path("-")
needs_pygame = pytest.mark.skipif(not PYGAME_DATA.is_dir(), reason="pygame (a test extra) is not installed")


def lag(x: np.ndarray, reference: np.ndarray) -> int:
    """Return how many frames ``x`` runs late against ``reference`` (first channels)."""
    c = signal.correlate(x[:, 0].astype(np.float64), reference[:, 0].astype(np.float64), "full")
    return int(np.argmax(c)) - (reference.shape[0] - 1)


def riff_wav(rate: int, channels: int = 1, frames: int = 100, data_bytes: int | None = None) -> bytes:
    """Return a 16-bit PCM WAV of silence whose header says what it is told to, true or not."""
    block = 2 * channels
    fmt = struct.pack("<HHIIHH", 1, channels, rate, rate * block & 0xFFFFFFFF, block & 0xFFFF, 16)
    data = bytes(frames * block)
    size = len(data) if data_bytes is None else data_bytes
    body = b"WAVEfmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", size) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def flac_claiming(tmp_path: Path, total_frames: int) -> Path:
    """Write a short real FLAC whose STREAMINFO then claims ``total_frames`` (0: unknown)."""
    path = tmp_path / "liar.flac"
    sf.write(str(path), np.full((1000, 1), 0.1, np.float32), 44100)
    raw = bytearray(path.read_bytes())
    # STREAMINFO follows "fLaC" and a 4-byte block header; its 36-bit total ends at byte 26
    packed = int.from_bytes(raw[18:26], "big")
    raw[18:26] = ((packed & ~(2**36 - 1)) | total_frames).to_bytes(8, "big")
    path.write_bytes(bytes(raw))
    return path


@pytest.mark.parametrize(
    ("name", "frames", "channels", "rate"),
    [
        ("test-44100Hz-le-1ch-4bytes.wav", 4410, 1, 44100),
        ("test-44100Hz-be-1ch-4bytes.wav", 4410, 1, 44100),  # RIFX, big-endian
        ("test-44100Hz-le-1ch-4bytes-rf64.wav", 4410, 1, 44100),
        ("test-44100Hz-2ch-32bit-float-be.wav", 441, 2, 44100),
        ("test-48000Hz-2ch-64bit-float-le-wavex.wav", 480, 2, 48000),
        ("test-1234Hz-le-1ch-10S-20bit-extra.wav", 10, 1, 1234),  # extra chunk, odd rate
        ("test-8000Hz-le-5ch-9S-5bit.wav", 9, 5, 8000),
        ("test-8000Hz-le-1ch-1byte-ulaw.wav", None, 1, 8000),
    ],
)
def test_reads_real_wav_files_other_programs_wrote(name, frames, channels, rate):
    decoded = audio_file.read(SCIPY_DATA / name)
    assert decoded.data.dtype == np.float32
    assert decoded.channels == channels
    assert decoded.sample_rate == rate
    if frames is not None:
        assert decoded.frames == frames
    assert np.isfinite(decoded.data).all()


@needs_pygame
@pytest.mark.parametrize(
    ("name", "frames"),
    [
        ("boom.wav", 12432),  # 8-bit unsigned PCM, 11025 Hz
        ("car_door.wav", 3735),
        ("punch.wav", 4041),
        ("whiff.wav", 5791),
        ("secosmic_lo.wav", 36000),  # Microsoft ADPCM
        ("house_lo.wav", 78331),
        ("house_lo.ogg", 78331),
    ],
)
def test_reads_the_sounds_pygame_ships(name, frames):
    decoded = audio_file.read(PYGAME_DATA / name)
    assert (decoded.frames, decoded.channels, decoded.sample_rate) == (frames, 1, 11025)
    assert np.isfinite(decoded.data).all() and np.abs(decoded.data).max() > 0.05  # Vorbis overshoots 1.0 here


@needs_pygame
def test_vorbis_is_gapless_and_an_mp3_without_a_gapless_header_starts_late_and_says_so():
    wav = audio_file.read(PYGAME_DATA / "house_lo.wav").data
    assert lag(audio_file.read(PYGAME_DATA / "house_lo.ogg").data, wav) == 0
    with pytest.warns(MediaWarning, match="without a gapless .*usually by 1105 samples"):
        mp3 = audio_file.read(PYGAME_DATA / "house_lo.mp3")
    assert lag(mp3.data, wav) == TYPICAL_DELAY  # LAME's 576 and the decoder's 529
    assert mp3.frames >= wav.shape[0] + TYPICAL_DELAY  # the delay is there, and the padding


@pytest.mark.skipif("MP3" not in sf.available_formats(), reason="this libsndfile cannot write MP3")
def test_an_mp3_with_a_gapless_header_decodes_in_place(tmp_path):
    rng = np.random.default_rng(4)
    noise = signal.lfilter(*signal.butter(4, 0.2), rng.standard_normal(3 * 44100) * 0.1).astype(np.float32)
    sf.write(str(tmp_path / "n.mp3"), noise, 44100)  # libsndfile writes LAME's Xing/Info header
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        decoded = audio_file.read(tmp_path / "n.mp3")
    assert decoded.frames == noise.shape[0] and lag(decoded.data, noise[:, None]) == 0


def test_reads_a_file_whose_header_promises_more_data_than_it_has():
    decoded = audio_file.read(SCIPY_DATA / "test-44100Hz-le-1ch-4bytes-early-eof.wav")
    assert 0 < decoded.frames < 4410


@pytest.mark.parametrize(
    "name",
    [
        "test-44100Hz-le-1ch-4bytes-incomplete-chunk.wav",
        "test-44100Hz-le-1ch-4bytes-early-eof-no-data.wav",
    ],
)
def test_truncated_real_files_raise_media_error_naming_the_file(name):
    with pytest.raises(MediaError, match=name) as info:
        audio_file.read(SCIPY_DATA / name)
    assert info.value.path.name == name
    assert isinstance(info.value, OSError)


@pytest.mark.skipif(not FREEDESKTOP.is_dir(), reason="Debian's sound-theme-freedesktop is not installed")
def test_reads_real_ogg_vorbis_files_from_the_freedesktop_theme():
    files = sorted(FREEDESKTOP.glob("*.oga"))[:5]
    assert files
    for f in files:
        decoded = audio_file.read(f)
        assert decoded.frames > 1000 and decoded.sample_rate in (44100, 48000)
        assert 0.01 < np.abs(decoded.data).max() <= 1.0


def test_missing_empty_and_garbage_files_raise_media_error(tmp_path):
    with pytest.raises(MediaError, match="no such file"):
        audio_file.read(tmp_path / "nope.wav")
    (tmp_path / "empty.wav").write_bytes(b"")
    with pytest.raises(MediaError, match="'.*empty.wav': the file is empty"):
        audio_file.read(tmp_path / "empty.wav")
    (tmp_path / "junk.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunkjunkjunk" * 10)
    with pytest.raises(MediaError, match="junk.wav"):
        audio_file.read(tmp_path / "junk.wav")
    (tmp_path / "text.flac").write_text("this is not audio at all\n" * 50)
    with pytest.raises(MediaError, match="text.flac"):
        audio_file.read(tmp_path / "text.flac")
    with pytest.raises(MediaError, match="not a regular file"):
        audio_file.read(tmp_path)


def test_file_with_no_frames_is_refused(tmp_path):
    path = tmp_path / "zero.wav"
    sf.write(str(path), np.zeros((0, 1), np.float32), 48000)
    with pytest.raises(MediaError, match="no audio frames"):
        audio_file.read(path)


@pytest.mark.parametrize("rate", [1, 999, 1_000_001, 2_147_483_647])
def test_a_header_rate_outside_1_khz_to_1_mhz_is_refused_before_decoding(tmp_path, monkeypatch, rate):
    path = tmp_path / "liar.wav"
    path.write_bytes(riff_wav(rate, frames=100_000))  # 200 kB; at 1 Hz, 48 kHz would make it 19 GB
    monkeypatch.setattr(sf.SoundFile, "read", lambda *a, **k: pytest.fail("decoded a refused file"))
    with pytest.raises(MediaError) as info:
        audio_file.read(path)
    assert str(info.value) == (
        f"cannot open '{path}': its header gives a sample rate of {rate} Hz, outside the 1000 to 1000000 Hz "
        "a source may have"
    )


@pytest.mark.parametrize("rate", [1000, 1_000_000])
def test_the_rate_bounds_themselves_are_accepted(tmp_path, rate):
    path = tmp_path / "edge.wav"
    path.write_bytes(riff_wav(rate))
    assert audio_file.read(path).sample_rate == rate


def test_a_source_over_the_decoded_size_limit_is_refused_before_it_is_read(tmp_path, monkeypatch):
    monkeypatch.setattr(audio_file, "MAX_DECODED_BYTES", 4000)  # 1000 mono float32 frames
    (tmp_path / "fits.wav").write_bytes(riff_wav(48000, frames=1000))
    assert audio_file.read(tmp_path / "fits.wav").frames == 1000
    (tmp_path / "big.wav").write_bytes(riff_wav(48000, channels=2, frames=1000))
    monkeypatch.setattr(sf.SoundFile, "read", lambda *a, **k: pytest.fail("decoded a refused file"))
    with pytest.raises(MediaError) as info:
        audio_file.read(tmp_path / "big.wav")
    assert info.value.path == tmp_path / "big.wav"
    assert info.value.reason == (
        "decoded it would take 7.8 KiB (1000 frames × 2 channels of float32), more than the 3.9 KiB limit"
    )


def test_the_decoded_size_limit_is_4_gib_of_float32():
    assert audio_file.MAX_DECODED_BYTES == 4 * 2**30


def test_a_flac_header_claiming_256_gib_is_refused_without_allocating_it(tmp_path):
    path = flac_claiming(tmp_path, 2**36 - 1)
    with pytest.raises(MediaError) as info:
        audio_file.read(path)
    assert info.value.reason == (
        "decoded it would take 256.0 GiB (68719476735 frames × 1 channel of float32), more than the 4.0 GiB limit"
    )


def test_a_source_within_the_limit_but_beyond_free_memory_says_how_much_it_needed(tmp_path, monkeypatch):
    path = tmp_path / "a.wav"
    path.write_bytes(riff_wav(48000, channels=2, frames=2**20))

    def no_memory(shape, dtype):
        raise MemoryError(f"Unable to allocate array with shape {shape}")

    monkeypatch.setattr(audio_file.np, "empty", no_memory)
    with pytest.raises(MediaError) as info:
        audio_file.read(path)
    assert info.value.reason == "not enough memory to decode it (8.0 MiB)"


def test_a_flac_header_of_unknown_length_is_refused_clearly(tmp_path):
    path = flac_claiming(tmp_path, 0)  # FLAC's "total samples unknown"
    with pytest.raises(MediaError, match="'.*liar.flac': its header does not give its length"):
        audio_file.read(path)


def test_a_flac_header_promising_more_than_it_holds_says_decoding_failed_and_how_long_it_claimed(tmp_path):
    path = flac_claiming(tmp_path, 10**6)
    with pytest.raises(MediaError, match=r"'.*liar.flac': decoding its 1000000 frames failed: "):
        audio_file.read(path)


@pytest.mark.parametrize(
    ("rate", "channels", "reason"),
    [
        (44100, 0, "its header gives zero channels"),
        (44100, 65535, "its header gives more channels than libsndfile reads (1024)"),
        (0, 1, "its header gives an impossible sample rate, channel count, length or format"),
        (2**32 - 1, 1, "its header gives an impossible sample rate, channel count, length or format"),
    ],
)
def test_impossible_wav_headers_are_refused_naming_the_file_and_the_lie(tmp_path, rate, channels, reason):
    path = tmp_path / "liar.wav"
    path.write_bytes(riff_wav(rate, channels=channels, frames=2))
    with pytest.raises(MediaError) as info:
        audio_file.read(path)
    assert str(info.value) == f"cannot open '{path}': {reason}"


def test_a_data_chunk_longer_than_the_file_reads_the_frames_that_are_there(tmp_path):
    path = tmp_path / "long.wav"
    path.write_bytes(riff_wav(44100, frames=100, data_bytes=0xFFFFFFFF))
    assert audio_file.read(path).frames == 100


def test_many_channels_within_libsndfile_limit_decode(tmp_path):
    path = tmp_path / "wide.wav"
    path.write_bytes(riff_wav(44100, channels=1000, frames=10))
    assert audio_file.read(path).data.shape == (10, 1000)


def _damaged_mp3s():
    """Yield (name, bytes) for copies of pygame's real MP3, cut or overwritten in ways it cannot decode."""
    real = (PYGAME_DATA / "house_lo.mp3").read_bytes()
    yield "cut-to-1-byte.mp3", real[:1]
    yield "cut-to-100-bytes.mp3", real[:100]
    yield "cut-inside-its-first-frame.mp3", real[:400]
    yield "zeroed.mp3", bytes(len(real))
    yield "text.mp3", b"this is not audio at all\n" * 100


@needs_pygame
def test_an_mp3_that_cannot_be_decoded_is_called_not_a_valid_mp3_stream(tmp_path):
    for name, content in _damaged_mp3s():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(MediaError) as info:
            audio_file.read(tmp_path / name)
        assert info.value.path == tmp_path / name
        assert info.value.reason.startswith("not a valid MP3 stream: no MPEG audio frame in it could be decoded")
        assert "regular file" not in str(info.value)


@needs_pygame
def test_mp3_bytes_under_another_name_that_cannot_be_decoded_say_they_start_like_mpeg_audio(tmp_path):
    (tmp_path / "cut.wav").write_bytes((PYGAME_DATA / "house_lo.mp3").read_bytes()[:100])
    with pytest.raises(MediaError) as info:
        audio_file.read(tmp_path / "cut.wav")
    assert info.value.reason == (
        "it starts like MPEG audio, but no MPEG audio frame in it could be decoded "
        "(libsndfile: cannot get MPEG decoder configuration)"
    )


@needs_pygame
def test_an_mp3_damaged_midway_says_decoding_failed(tmp_path):
    raw = bytearray((PYGAME_DATA / "house_lo.mp3").read_bytes())
    middle = len(raw) // 2
    raw[middle : middle + 3000] = bytes(3000)
    (tmp_path / "holed.mp3").write_bytes(bytes(raw))
    with pytest.raises(MediaError, match=r"'.*holed.mp3': decoding its \d+ frames failed: "):
        audio_file.read(tmp_path / "holed.mp3")


def test_nan_and_inf_samples_become_silence_with_a_warning_naming_the_file(wav):
    data = sine(100, 0.01)
    data[3, 0] = np.nan
    data[7, 0] = np.inf
    path = wav(data, name="broken.wav")
    with pytest.warns(MediaWarning, match="broken.wav.*2 NaN or infinite"):
        decoded = audio_file.read(path)
    assert decoded.data[3, 0] == 0 and decoded.data[7, 0] == 0
    assert decoded.data[5, 0] == data[5, 0]


@pytest.mark.parametrize(
    ("ext", "subtype"),
    [(".wav", "float"), (".wav", "24"), (".wav", "16"), (".flac", "24"), (".flac", "16")],
)
def test_write_then_read_round_trips_within_the_format_resolution(tmp_path, ext, subtype):
    audio = np.concatenate([sine(440, 0.1), sine(660, 0.1)], axis=1)
    path = tmp_path / f"out{ext}"
    audio_file.write(path, audio, 48000, subtype)
    back = audio_file.read(path).data
    tol = {"float": 0, "24": 2.0**-23, "16": 2.0**-14}[subtype]
    assert back.shape == audio.shape
    assert np.abs(back - audio).max() <= tol


@pytest.mark.parametrize("ext", [".ogg", ".mp3"])
def test_lossy_formats_round_trip_to_about_the_same_signal(tmp_path, ext):
    audio = np.concatenate([sine(440, 1.0), sine(440, 1.0)], axis=1)
    path = tmp_path / f"out{ext}"
    audio_file.write(path, audio, 48000)
    back = audio_file.read(path)
    # the MP3 encoder's delay and padding may move the length by up to a couple of frames
    assert abs(back.frames - audio.shape[0]) <= 2 * 1152
    assert np.sqrt(np.mean(back.data**2)) == pytest.approx(0.5 / np.sqrt(2), rel=0.05)


def test_sixteen_bit_dither_is_tpdf_and_deterministic():
    x = np.full((200000, 1), 0.25 / 32768, np.float32)  # a quarter of an LSB
    a = Quantizer("PCM_16")(x) >> 16
    b = Quantizer("PCM_16")(x) >> 16
    assert np.array_equal(a, b)
    # TPDF of ±1 LSB: values -1, 0, 1 (plus the offset), mean preserved
    assert set(np.unique(a)) <= {-1, 0, 1, 2}
    assert a.mean() == pytest.approx(0.25, abs=0.01)


def test_dither_does_not_depend_on_chunking():
    x = (np.random.default_rng(3).standard_normal((5000, 2)) * 0.1).astype(np.float32)
    whole = Quantizer("PCM_16")(x)
    q = Quantizer("PCM_16")
    parts = np.concatenate([q(x[:1234]), q(x[1234:4000]), q(x[4000:])])
    assert np.array_equal(whole, parts)


def test_pcm_clips_instead_of_wrapping():
    x = np.array([[1.5], [-1.5]], np.float32)
    q = Quantizer("PCM_24")(x) >> 8
    assert q[0, 0] == 2**23 - 1 and q[1, 0] == -(2**23)


def test_unknown_extension_or_subtype_is_a_value_error(tmp_path):
    audio = sine(440, 0.01)
    with pytest.raises(ValueError, match="extension must be one of"):
        audio_file.write(tmp_path / "x.aac", audio, 48000)
    with pytest.raises(ValueError, match="FLAC sample format must be one of 24, 16"):
        audio_file.write(tmp_path / "x.flac", audio, 48000, "float")


def test_writing_into_a_missing_folder_says_the_folder_does_not_exist(tmp_path):
    path = tmp_path / "no" / "such" / "mix.wav"
    with pytest.raises(MediaError) as info:
        audio_file.write(path, sine(440, 0.01), 48000)
    assert str(info.value) == f"cannot open '{path}': cannot write: the folder '{path.parent}' does not exist"


def test_writing_onto_a_folder_says_it_is_a_folder(tmp_path):
    (tmp_path / "mix.wav").mkdir()
    with pytest.raises(MediaError, match="'.*mix.wav': cannot write: it is a folder$"):
        audio_file.open_for_writing(tmp_path / "mix.wav", 48000, 2)


def test_writing_below_a_file_says_that_file_is_not_a_folder(tmp_path):
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(MediaError, match="'.*mix.wav': cannot write: '.*notes.txt' is a file, not a folder$"):
        audio_file.open_for_writing(tmp_path / "notes.txt" / "mix.wav", 48000, 2)


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into a read-only folder")
def test_writing_into_a_read_only_folder_says_so(tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir(mode=0o555)
    with pytest.raises(MediaError) as info:
        audio_file.open_for_writing(folder / "mix.wav", 48000, 2)
    assert info.value.reason == f"cannot write: no permission to write in the folder '{folder}'"


def test_info_reads_the_header_only_and_does_not_limit_the_size(tmp_path):
    path = tmp_path / "a.wav"
    sf.write(str(path), np.zeros((1000, 2), np.float32), 48000, subtype="FLOAT")
    head = audio_file.info(path)
    assert (head.frames, head.sample_rate, head.channels, head.format) == (1000, 48000, 2, "WAV")
    assert audio_file.info(flac_claiming(tmp_path, 2**34)).frames == 2**34  # it may stream
    fast = tmp_path / "fast.wav"
    fast.write_bytes(riff_wav(2_000_000))
    with pytest.raises(MediaError, match="sample rate"):
        audio_file.info(fast)
