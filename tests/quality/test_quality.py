"""The roadmap's audio-quality criteria, measured from rendered audio."""

import numpy as np
import pytest

from mixtree import effects as fx
from mixtree.dsp.biquad import sos
from mixtree.dsp.dynamics import static_curve
from mixtree.engine.engine import Engine
from tests.conftest import RATE, sine
from tests.quality.measure import CLICK_THRESHOLD, clicks, response_db, thd_n


def neutral_chain(track):
    track.add_effect(fx.EQ3())
    track.add_effect(fx.Gain(db=0.0))


@pytest.mark.parametrize("source_rate", [48000, 44100])
def test_thd_n_of_a_1k_sine_through_a_neutral_track_is_below_001_percent(project, wav, source_rate):
    src = project.pool.load(wav(sine(1000, 2.0, rate=source_rate), rate=source_rate))
    t = project.add_audio_track("sine")
    neutral_chain(t)
    t.add_clip(src)
    out = project.render(0.5, 1.0)
    for ch in range(2):
        assert thd_n(out[:, ch], 1000, RATE) < 1e-4


def test_thd_n_detector_sees_distortion(project, wav):
    clipped = np.clip(sine(1000, 1.0), -0.45, 0.45)
    assert thd_n(clipped[:, 0], 1000, RATE) > 1e-2


def test_neutral_chain_is_flat_within_a_tenth_of_a_db_from_20_hz_to_20_khz(project, wav):
    noise = (np.random.default_rng(9).standard_normal((4 * RATE, 2)) * 0.1).astype(np.float32)
    t = project.add_audio_track("noise")
    neutral_chain(t)
    t.add_clip(project.pool.load(wav(noise)))
    out = project.render()
    freqs = np.geomspace(20, 20000, 60)
    for ch in range(2):
        db = response_db(noise[:, ch], out[:, ch], RATE, freqs)
        assert np.abs(db).max() < 0.1


@pytest.mark.parametrize(
    ("kind", "freq", "q", "gain_db"),
    [
        ("lowpass", 800, 0.707, 0),
        ("highpass", 300, 2.0, 0),
        ("bandpass", 2000, 1.0, 0),
        ("notch", 1000, 4.0, 0),
        ("peak", 3000, 1.4, 6),
        ("lowshelf", 200, 0.707, -6),
        ("highshelf", 6000, 0.707, 4),
    ],
)
def test_filter_responses_match_the_rbj_design_within_a_tenth_of_a_db(project, wav, kind, freq, q, gain_db):
    t = project.add_audio_track("t")
    t.add_effect(fx.Filter(kind, freq, q, gain_db))
    from scipy import signal

    for f in (100, 500, 1000, 2500, 7000, 12000):
        n = RATE  # one second holds whole periods of every test frequency
        src = project.pool.load(wav(sine(f, 2.0, amp=0.25), name=f"{f}.wav"))
        clip = t.add_clip(src)
        out = project.render(0.0, 2.0)[RATE:, 0]  # from 0: effects start at rest at the range start
        t.remove_clip(clip.id)
        measured = 20 * np.log10(np.sqrt(2) * np.sqrt(np.mean(out[:n] ** 2)) / (0.25 * np.sqrt(0.5)))
        _, h = signal.sosfreqz(sos(kind, freq, q, gain_db, RATE), worN=[f], fs=RATE)
        expected = 20 * np.log10(max(abs(h[0]), 1e-6))
        if expected > -40:
            assert measured == pytest.approx(expected, abs=0.1), f
        else:
            assert measured < -35, f


def test_eq3_bands_match_their_design(project, wav):
    t = project.add_audio_track("t")
    t.add_effect(fx.EQ3(low_db=6.0, mid_db=-6.0, high_db=6.0))
    for f, expected in ((40, 6.0), (1000, -6.0), (18000, 6.0)):
        clip = t.add_clip(project.pool.load(wav(sine(f, 2.0, amp=0.2), name=f"{f}.wav")))
        out = project.render(0.0, 2.0)[RATE:, 0]
        t.remove_clip(clip.id)
        level = 20 * np.log10(np.sqrt(np.mean(out**2)) / (0.2 * np.sqrt(0.5) / np.sqrt(2)))
        assert level == pytest.approx(expected, abs=0.3), f


def test_compressor_static_curve_within_half_a_db(project, wav):
    t = project.add_audio_track("t")
    t.add_effect(fx.Compressor(threshold_db=-24.0, ratio=3.0, knee_db=4.0, attack=0.001, release=0.05))
    for level_db in (-36, -26, -24, -22, -12, -6):
        a = 10 ** (level_db / 20)
        src = project.pool.load(wav(np.full((RATE, 1), a, np.float32), name=f"{level_db}.wav"))
        clip = t.add_clip(src)
        out = project.render(0.5, 0.5)[:, 0] / np.float32(np.sqrt(0.5))
        t.remove_clip(clip.id)
        got = 20 * np.log10(out[-1])
        assert got == pytest.approx(static_curve(level_db, -24.0, 3.0, 4.0), abs=0.5), level_db


# -- clicks -------------------------------------------------------------------------------


@pytest.fixture
def playing(project, wav):
    src = project.pool.load(wav(sine(440, 4.0, amp=0.5)))
    t = project.add_audio_track("sine")
    t.add_clip(src)
    eq = t.add_effect(fx.EQ3())
    eng = Engine(project, driver="null", blocksize=256)
    eng.play()
    return project, t, eq, eng


def _run(eng, blocks=40):
    return np.concatenate([eng.process() for _ in range(blocks)])


def test_click_detector_finds_a_hard_step(playing):
    project, t, eq, eng = playing
    out = _run(eng)
    out[len(out) // 2 :] *= 0.1
    assert clicks(out, RATE) > CLICK_THRESHOLD * 10


@pytest.mark.parametrize("change", ["volume", "pan", "mute", "bypass", "eq_gain"])
def test_no_clicks_when_parameters_jump_while_a_sine_plays(playing, change):
    project, t, eq, eng = playing
    if change == "volume":
        t.volume_db = -60.0
    before = _run(eng)
    if change == "volume":
        eng.set_volume(t.id, 0.0)
    elif change == "pan":
        eng.set_pan(t.id, 1.0)
    elif change == "mute":
        eng.set_mute(t.id, True)
    elif change == "bypass":
        eq.mid_db = 12.0
        before = _run(eng)
        eq.bypass = True
    else:
        eq.mid_db = 15.0
    after = _run(eng)
    out = np.concatenate([before, after])
    assert clicks(out, RATE) < CLICK_THRESHOLD
    assert not np.array_equal(before[-256:], after[-256:])  # something did change
