"""Each built-in against its textbook definition."""

import math
import sys

import numpy as np
import pytest
from scipy import signal

from mixtree import effects as fx
from mixtree.dsp.dynamics import static_curve
from mixtree.units import pan_gains

RATE = 48000


def cookbook(kind, f0, q, gain_db, fs):
    """The RBJ Audio EQ Cookbook, written out again independently of mixtree."""
    a = 10 ** (gain_db / 40)
    w0 = 2 * math.pi * f0 / fs
    c, s = math.cos(w0), math.sin(w0)
    al = s / (2 * q)
    table = {
        "lowpass": ([(1 - c) / 2, 1 - c, (1 - c) / 2], [1 + al, -2 * c, 1 - al]),
        "highpass": ([(1 + c) / 2, -(1 + c), (1 + c) / 2], [1 + al, -2 * c, 1 - al]),
        "bandpass": ([al, 0, -al], [1 + al, -2 * c, 1 - al]),
        "notch": ([1, -2 * c, 1], [1 + al, -2 * c, 1 - al]),
        "peak": ([1 + al * a, -2 * c, 1 - al * a], [1 + al / a, -2 * c, 1 - al / a]),
        "lowshelf": (
            [
                a * ((a + 1) - (a - 1) * c + 2 * math.sqrt(a) * al),
                2 * a * ((a - 1) - (a + 1) * c),
                a * ((a + 1) - (a - 1) * c - 2 * math.sqrt(a) * al),
            ],
            [
                (a + 1) + (a - 1) * c + 2 * math.sqrt(a) * al,
                -2 * ((a - 1) + (a + 1) * c),
                (a + 1) + (a - 1) * c - 2 * math.sqrt(a) * al,
            ],
        ),
        "highshelf": (
            [
                a * ((a + 1) + (a - 1) * c + 2 * math.sqrt(a) * al),
                -2 * a * ((a - 1) + (a + 1) * c),
                a * ((a + 1) + (a - 1) * c - 2 * math.sqrt(a) * al),
            ],
            [
                (a + 1) - (a - 1) * c + 2 * math.sqrt(a) * al,
                2 * ((a - 1) - (a + 1) * c),
                (a + 1) - (a - 1) * c - 2 * math.sqrt(a) * al,
            ],
        ),
    }
    b, den = table[kind]
    return np.array([[*(np.array(b) / den[0]), 1.0, den[1] / den[0], den[2] / den[0]]])


def noise(frames=RATE // 2, seed=0):
    return (np.random.default_rng(seed).standard_normal((frames, 2)) * 0.2).astype(np.float32)


def test_gain_scales_by_its_decibels():
    x = noise()
    y = fx.Gain(db=-6.0).process(x.copy(), RATE)
    np.testing.assert_allclose(y, x * 10 ** (-6 / 20), rtol=1e-6)


#: Kernel constants named otherwise than their parameter's id in capitals.
KERNEL_NAMES = {
    fx.PolySynth: {
        "waveform": "WAVE",
        "attack": "A",
        "decay": "D",
        "sustain": "S",
        "release": "R",
        "resonance": "RESO",
        "filter_env": "F_ENV",
        "filter_attack": "FA",
        "filter_decay": "FD",
        "filter_sustain": "FS",
        "filter_release": "FR",
        "velocity": "VEL_SENS",
        "gain_db": "GAIN",
    }
}


#: The built-ins that run through a kernel.
KERNELED = [kind for kind in (getattr(fx, name) for name in fx.__all__) if getattr(kind, "kernel", None)]


@pytest.mark.parametrize("kind", KERNELED, ids=lambda kind: kind.__name__)
def test_each_kernel_reads_each_parameter_from_its_row(kind):
    module = sys.modules[kind.kernel.py_func.__module__]
    names = KERNEL_NAMES.get(kind, {})
    rows = {p.id: getattr(module, names.get(p.id, p.id.upper())) for p in kind.PARAMETERS}
    assert rows == {p.id: row for row, p in enumerate(kind.PARAMETERS)}


@pytest.mark.parametrize("pan", [-1.0, -0.25, 0.0, 0.6, 1.0])
def test_pan_is_the_balance_a_track_applies_to_stereo(pan):
    x = noise()
    y = fx.Pan(pan=pan).process(x.copy(), RATE)
    left, right = pan_gains(pan, False)
    assert np.array_equal(y[:, 0], x[:, 0] * np.float32(left))
    assert np.array_equal(y[:, 1], x[:, 1] * np.float32(right))


def test_pan_is_neutral_at_centre_and_silences_the_far_side_at_the_edge():
    x = noise()
    assert np.array_equal(fx.Pan().process(x.copy(), RATE), x)
    hard_left = fx.Pan(pan=-1.0).process(x.copy(), RATE)
    assert np.array_equal(hard_left[:, 0], x[:, 0]) and not hard_left[:, 1].any()


@pytest.mark.parametrize("kind", ["lowpass", "highpass", "bandpass", "notch", "peak", "lowshelf", "highshelf"])
@pytest.mark.parametrize("rate", [44100, 48000, 96000])
def test_filter_is_the_rbj_biquad(kind, rate):
    x = noise()
    y = fx.Filter(kind, freq=1234.0, q=1.3, gain_db=7.5).process(x.copy(), rate)
    ref = signal.sosfilt(cookbook(kind, 1234.0, 1.3, 7.5, rate), x.astype(np.float64), axis=0)
    np.testing.assert_allclose(y, ref, atol=2e-6)


def test_eq3_is_two_shelves_and_a_peak_and_flat_when_neutral():
    x = noise()
    assert np.array_equal(fx.EQ3().process(x.copy(), RATE), x)
    y = fx.EQ3(low_db=3.0, mid_db=-4.0, high_db=5.0, low_freq=200.0, high_freq=5000.0).process(x.copy(), RATE)
    sos = np.vstack(
        [
            cookbook("lowshelf", 200.0, 1 / math.sqrt(2), 3.0, RATE),
            cookbook("peak", math.sqrt(200.0 * 5000.0), 0.7, -4.0, RATE),
            cookbook("highshelf", 5000.0, 1 / math.sqrt(2), 5.0, RATE),
        ]
    )
    np.testing.assert_allclose(y, signal.sosfilt(sos, x.astype(np.float64), axis=0), atol=2e-6)


@pytest.mark.parametrize("knee", [0.0, 6.0])
def test_compressor_static_curve_holds_for_steady_levels(knee):
    comp = fx.Compressor(threshold_db=-20.0, ratio=4.0, knee_db=knee, attack=0.001, release=0.05, makeup_db=2.0)
    for level_db in (-40.0, -23.0, -20.0, -17.0, -10.0, -3.0):
        comp.reset()
        x = np.full((RATE // 2, 2), 10 ** (level_db / 20), np.float32)
        y = comp.process(x, RATE)
        out_db = 20 * math.log10(y[-1, 0])
        expected = static_curve(level_db, -20.0, 4.0, knee) + 2.0
        assert out_db == pytest.approx(expected, abs=0.5), level_db
    assert static_curve(-10.0, -20.0, 4.0, 0.0) == pytest.approx(-17.5)


def giannoulis(level, threshold, ratio, knee):
    """The soft-knee static curve as Giannoulis, Massberg and Reiss write it, piece by piece."""
    over = level - threshold
    if 2 * over < -knee:
        return level
    if knee > 0 and 2 * abs(over) <= knee:
        return level + (1 / ratio - 1) * (over + knee / 2) ** 2 / (2 * knee)
    return threshold + over / ratio


@pytest.mark.parametrize("knee", [0.0, 0.5, 6.0, 24.0])
def test_compressor_static_curve_is_the_published_one(knee):
    for level in np.linspace(-60.0, 6.0, 331):
        assert static_curve(level, -20.0, 3.0, knee) == pytest.approx(giannoulis(level, -20.0, 3.0, knee), abs=1e-9)


def test_compressor_rms_detection_reads_a_sine_by_its_rms():
    comp = fx.Compressor(threshold_db=-30.0, ratio=10.0, knee_db=0.0, detection="rms", attack=0.002)
    t = np.arange(RATE) / RATE
    x = np.repeat((0.5 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)[:, None], 2, axis=1)
    y = comp.process(x, RATE)
    rms_in = 20 * math.log10(0.5 / math.sqrt(2))
    rms_out = 20 * math.log10(np.sqrt(np.mean(y[RATE // 2 :, 0] ** 2)))
    assert rms_out == pytest.approx(static_curve(rms_in, -30.0, 10.0, 0.0), abs=0.5)


def test_compressor_attack_and_release_follow_their_time_constants():
    comp = fx.Compressor(threshold_db=-40.0, ratio=50.0, knee_db=0.0, attack=0.01, release=0.1)
    x = np.zeros((RATE, 2), np.float32)
    x[: RATE // 2] = 0.5
    y = comp.process(x, RATE)
    gr = 20 * np.log10(np.maximum(y[: RATE // 2, 0], 1e-12) / 0.5)
    final = gr[-1]
    # one-pole: 63 % of the way after one time constant
    assert gr[int(0.01 * RATE)] == pytest.approx(final * (1 - math.exp(-1)), rel=0.05)


@pytest.mark.parametrize("detection", ["peak", "rms"])
def test_compressor_gives_the_same_bits_whole_groups_at_once_or_frame_by_frame(detection):
    # blocks of 1 to 7 frames never hold a whole group: the per-frame path; a long block
    # runs its groups a chunk at a time (`_groups`): the two must agree to the bit
    rng = np.random.default_rng(5)
    x = (rng.standard_normal((RATE // 4, 2)) * np.linspace(0.01, 2.0, RATE // 4)[:, None]).astype(np.float32)
    outs = []
    for sizes in ([RATE // 4], [1, 3, 7, 5], [513, 1, 4096, 37]):
        comp = fx.Compressor(threshold_db=-24.0, ratio=6.0, knee_db=3.0, attack=0.001, detection=detection)
        comp.prepare(RATE)
        y, pos, k = x.copy(), 0, 0
        while pos < len(y):
            n = sizes[k % len(sizes)]
            comp.process(y[pos : pos + n], RATE)
            pos, k = pos + n, k + 1
        outs.append(y)
    assert not np.array_equal(outs[0], x)
    for y in outs[1:]:
        assert np.array_equal(y, outs[0])


def test_delay_echoes_at_its_time_with_feedback_and_mix():
    x = np.zeros((RATE, 2), np.float32)
    x[0] = 1.0
    y = fx.Delay(time=0.1, feedback=0.5, mix=0.4).process(x, RATE)
    d = int(0.1 * RATE)
    assert y[0, 0] == pytest.approx(0.6)
    assert y[d, 0] == pytest.approx(0.4)
    assert y[2 * d, 1] == pytest.approx(0.2)
    assert np.count_nonzero(y[:, 0]) == 10


def test_delay_in_beats_follows_the_tempo():
    delay = fx.Delay(beats=0.5, mix=1.0, feedback=0.0)
    delay.set_tempo(100.0)
    assert delay.delay_seconds == pytest.approx(0.3)
    x = np.zeros((RATE, 2), np.float32)
    x[0] = 1.0
    y = delay.process(x, RATE)
    assert np.flatnonzero(y[:, 0]).tolist() == [int(0.3 * RATE)]


def test_reverb_decays_and_is_dry_at_zero_mix():
    x = np.zeros((3 * RATE, 2), np.float32)
    x[0] = 1.0
    y = fx.Reverb(room_size=0.7, damping=0.3, mix=0.5).process(x.copy(), RATE)
    energy = [np.sum(y[i * RATE // 4 : (i + 1) * RATE // 4] ** 2) for i in range(12)]
    assert energy[1] > 0 and all(b < a for a, b in zip(energy[1:], energy[2:], strict=False))
    assert np.isfinite(y).all() and not np.array_equal(y[:, 0], y[:, 1])  # stereo spread
    dry = fx.Reverb(mix=0.0).process(x.copy(), RATE)
    assert np.array_equal(dry, x)


def test_an_eq3_that_glided_to_its_settings_has_the_design_of_one_made_with_them():
    eq = fx.EQ3()
    eq.process(noise(4800), RATE)
    eq.low_db, eq.mid_db, eq.high_db, eq.low_freq, eq.high_freq = 3.0, -4.5, 5.0, 180.0, 6000.0
    eq.process(noise(4800), RATE)  # longer than the 20 ms glide
    made = fx.EQ3(low_db=3.0, mid_db=-4.5, high_db=5.0, low_freq=180.0, high_freq=6000.0)
    made.prepare(RATE)
    glided, fresh = eq.memory()[1], made.memory()[1]
    for k in range(3):
        assert np.array_equal(glided[9 * k : 9 * k + 5], fresh[9 * k : 9 * k + 5]), k
