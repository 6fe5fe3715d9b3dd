import hashlib

import numpy as np
import pytest
import soundfile as sf

import mixtree as mt
from mixtree.render.offline import render
from tests.conftest import RATE, sine

C = np.float32(np.sqrt(0.5))  # a mono track at centre: -3 dB each side


def test_clip_lands_on_the_exact_frame(project, ones):
    t = project.add_audio_track("T")
    t.add_clip(project.pool.load(ones), start=1.0, duration=0.5)
    out = project.render(0.0, 2.0)
    nz = np.flatnonzero(out[:, 0])
    assert nz[0] == RATE and nz[-1] == RATE + RATE // 2 - 1
    assert out[RATE, 0] == C and out[RATE, 1] == C


def test_offset_reads_from_that_point_of_the_source(project, ramp):
    t = project.add_audio_track("T")
    t.add_clip(project.pool.load(ramp), start=0.5, duration=0.25, offset=0.25)
    out = project.render(0.0, 1.0)[:, 0] / C
    assert out[RATE // 2] == pytest.approx(0.25, abs=1e-6)
    assert out[RATE // 2 + 100] == pytest.approx((RATE // 4 + 100) / RATE, abs=1e-6)


def test_reversed_clip_plays_its_region_backwards(project, ramp):
    t = project.add_audio_track("T")
    t.add_clip(project.pool.load(ramp), start=0.0, duration=0.5, offset=0.25, reversed=True)
    out = project.render(0.0, 0.5)[:, 0] / C
    region = np.arange(RATE // 4, RATE // 4 + RATE // 2) / RATE
    np.testing.assert_allclose(out, region[::-1], atol=1e-6)


def test_overlapping_clips_sum(project, ones):
    src = project.pool.load(ones)
    a = project.add_audio_track("A")
    a.add_clip(src, start=0.0, duration=1.0)
    a.add_clip(src, start=0.5, duration=1.0, gain_db=-6.0)
    out = project.render(0.0, 1.5)[:, 0] / C
    assert out[100] == pytest.approx(1.0)
    assert out[RATE * 3 // 4] == pytest.approx(1.0 + 10 ** (-6 / 20), rel=1e-6)
    assert out[RATE * 5 // 4] == pytest.approx(10 ** (-6 / 20), rel=1e-6)


@pytest.mark.parametrize("curve", ["linear", "equal_power", "s_curve", "exponential", "logarithmic"])
def test_fades_start_and_end_in_silence_without_steps(project, wav, curve):
    src = project.pool.load(wav(sine(1000, 1.0, amp=0.9)))
    t = project.add_audio_track("T")
    t.add_clip(src, start=0.1, duration=0.5, fade_in=0.05, fade_out=0.1, fade_curve=curve)
    out = project.render(0.0, 0.8)[:, 0]
    first, last = int(0.1 * RATE), int(0.6 * RATE) - 1
    assert out[first] == 0.0 and out[last] == 0.0
    # the steepest step anywhere is what the 1 kHz sine itself allows
    max_sine_step = 0.9 * C * 2 * np.pi * 1000 / RATE
    assert np.abs(np.diff(out)).max() <= max_sine_step * 1.01


def test_linear_fade_in_is_the_textbook_ramp(project, ones):
    t = project.add_audio_track("T")
    t.add_clip(project.pool.load(ones), start=0.0, duration=1.0, fade_in=0.01)
    out = project.render(0.0, 0.02)[:, 0] / C
    n = int(0.01 * RATE)
    np.testing.assert_allclose(out[:n], np.arange(n) / n, atol=1e-6)
    assert (out[n:] == 1.0).all()


def test_mute_and_solo_follow_daw_convention(project, ones):
    src = project.pool.load(ones)
    tracks = [project.add_audio_track(n, pan=p) for n, p in (("L", -1.0), ("R", 1.0), ("C", 0))]
    for t in tracks:
        t.add_clip(src, duration=0.1)
    tracks[0].mute = True
    out = project.render(0.0, 0.1)
    assert out[10].tolist() == pytest.approx([C, 1.0 + C])
    tracks[2].solo = True
    assert project.render(0.0, 0.1)[10].tolist() == pytest.approx([C, C])
    tracks[1].solo = True
    assert project.render(0.0, 0.1)[10].tolist() == pytest.approx([C, 1.0 + C])
    project.master.mute = True
    assert not project.render(0.0, 0.1).any()


def test_pan_law_constant_power_for_mono_balance_for_stereo(project, ones, wav):
    stereo = project.pool.load(wav(np.ones((RATE, 2), np.float32), name="st.wav"))
    m = project.add_audio_track("mono", pan=0.5)
    m.add_clip(project.pool.load(ones), duration=0.1)
    s = project.add_audio_track("stereo", pan=0.5, solo=True)
    s.add_clip(stereo, duration=0.1)
    assert project.render(0, 0.1)[5].tolist() == pytest.approx([0.5, 1.0])
    s.solo = False
    s.mute = True
    angle = 1.5 * np.pi / 4
    assert project.render(0, 0.1)[5].tolist() == pytest.approx([np.cos(angle), np.sin(angle)])


def test_mono_clip_on_a_stereo_track_sits_at_the_centre(project, ones, wav):
    stereo = project.pool.load(wav(np.zeros((RATE, 2), np.float32), name="st.wav"))
    t = project.add_audio_track("mixed")
    t.add_clip(stereo, duration=0.1)
    t.add_clip(project.pool.load(ones), duration=0.1)
    assert project.render(0, 0.1)[5].tolist() == pytest.approx([C, C])


def test_volume_is_applied_in_db(project, ones):
    t = project.add_audio_track("T", volume_db=-6.0)
    t.add_clip(project.pool.load(ones), duration=0.1)
    project.master.volume_db = -6.0
    assert project.render(0, 0.1)[5, 0] == pytest.approx(C * 10 ** (-12 / 20), rel=1e-6)


def test_resampled_source_keeps_length_and_pitch(project, wav):
    src = project.pool.load(wav(sine(1000, 2.0, rate=44100), rate=44100))
    project.add_audio_track("T").add_clip(src)
    out = project.render()
    assert out.shape == (2 * RATE, 2)
    x = out[RATE // 2 : RATE // 2 + RATE, 0] * np.hanning(RATE)
    assert np.argmax(np.abs(np.fft.rfft(x))) == pytest.approx(1000, abs=1)


@pytest.fixture
def busy(project, wav):
    rng = np.random.default_rng(7)
    for i in range(6):
        data = rng.standard_normal((RATE, 1 + i % 2)).astype(np.float32) * 0.1
        src = project.pool.load(wav(data, name=f"n{i}.wav"))
        t = project.add_audio_track(f"T{i}", volume_db=-i, pan=(i - 3) / 3)
        for k in range(3):
            t.add_clip(
                src,
                start=0.13 * i + 0.7 * k,
                duration=0.6,
                offset=0.011 * i,
                fade_in=0.05,
                fade_out=0.07,
                fade_curve="equal_power",
                reversed=k == 1,
            )
    return project


@pytest.mark.parametrize("blocksize", [32, 77, 256, 1000, 8192])
def test_every_block_size_gives_the_same_samples(busy, blocksize):
    reference = render(busy, 0.0, None, blocksize=512)
    assert np.array_equal(render(busy, 0.0, None, blocksize=blocksize), reference)


def test_any_range_equals_the_same_slice_of_the_whole(busy):
    whole = busy.render()
    part = busy.render(start=0.5, duration=0.75)
    assert np.array_equal(part, whole[RATE // 2 : RATE // 2 + RATE * 3 // 4])


def test_block_size_outside_range_is_refused(busy):
    for bad in (16, 8193, 1.5):
        with pytest.raises(ValueError, match="block size must be"):
            busy.render(blocksize=bad)


def test_negative_ranges_are_refused(busy):
    with pytest.raises(ValueError, match=r"duration must be within 0\.\.\d+(\.\d+)?, not -1"):
        busy.render(0.0, -1.0)
    with pytest.raises(ValueError, match=r"start must be within 0\.\.\d+(\.\d+)?, not -2"):
        busy.render(-2.0, 1.0)


def test_empty_project_renders_empty_audio(project):
    assert project.render().shape == (0, 2)
    assert project.render(0.0, 1.0).shape == (RATE, 2)


@pytest.mark.parametrize(
    ("name", "subtype"),
    [("a.wav", None), ("a.wav", "16"), ("a.flac", "24"), ("a.flac", "16"), ("a.mp3", None)],
)
def test_export_is_deterministic_to_the_byte(busy, tmp_path, name, subtype):
    digests = set()
    for i in range(2):
        out = busy.export(tmp_path / f"{i}{name}", subtype=subtype)
        digests.add(hashlib.sha256(out.read_bytes()).hexdigest())
    assert len(digests) == 1


def test_ogg_export_decodes_to_the_same_audio_every_time(busy, tmp_path):
    # libsndfile gives every Ogg stream a random serial number, so the bytes differ
    a = sf.read(str(busy.export(tmp_path / "a.ogg")))[0]
    b = sf.read(str(busy.export(tmp_path / "b.ogg")))[0]
    assert np.array_equal(a, b)


def test_float_export_equals_the_rendered_array(busy, tmp_path):
    path = busy.export(tmp_path / "mix.wav", start=0.25, duration=1.0)
    data, rate = sf.read(str(path), dtype="float32")
    assert rate == RATE and sf.info(str(path)).subtype == "FLOAT"
    assert np.array_equal(data, busy.render(0.25, 1.0))


def test_sixteen_bit_export_is_within_dither_of_the_render(busy, tmp_path):
    path = busy.export(tmp_path / "mix.wav", subtype="16")
    data, _ = sf.read(str(path), dtype="float64")
    assert np.abs(data - busy.render()).max() <= 1.5 / 32768


def test_export_to_an_unwritable_place_is_a_media_error(busy, tmp_path):
    with pytest.raises(mt.MediaError, match="nowhere"):
        busy.export(tmp_path / "nowhere" / "mix.wav")


def test_a_render_too_big_for_memory_is_refused_before_allocating_and_points_to_export(busy):
    import tracemalloc

    tracemalloc.start()
    too_big = r"a render of 100000 s would take 35\.8 GiB of memory \(the limit is 2 GiB\): export\(\) streams"
    with pytest.raises(ValueError, match=too_big):
        busy.render(0.0, 1e5)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 50 << 20


def test_ranges_beyond_the_longest_session_are_refused(busy):
    with pytest.raises(ValueError, match=r"start must be within 0\.\.11453246\.12, not 1000000000000000"):
        busy.render(1e15, 1.0)
    with pytest.raises(ValueError, match="duration must be within"):
        busy.export("never.wav", 0.0, 1e300)


def test_content_pushed_past_the_longest_session_needs_a_duration(project, ones):
    t = project.add_audio_track("T")
    t.add_clip(project.pool.load(ones), start=1e6, duration=1.0)
    project.create_metatrack([t.id]).speed = 1 / 64
    with pytest.raises(ValueError, match=r"content ends at 6\.4e\+07 s, past the longest session .*: give a duration"):
        project.render()
    assert project.render(0.0, 0.01).shape == (480, 2)
