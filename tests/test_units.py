import math

import pytest

from mixtree import units


def test_db_round_trips_and_silence_is_zero_gain():
    assert units.db_to_gain(0.0) == 1.0
    assert units.db_to_gain(-6.0) == pytest.approx(0.501187, rel=1e-6)
    assert units.gain_to_db(units.db_to_gain(-17.5)) == pytest.approx(-17.5)
    assert units.db_to_gain(-math.inf) == 0.0
    assert units.gain_to_db(0.0) == -math.inf


def test_mono_pan_is_constant_power_minus_3_db_at_centre():
    left, right = units.pan_gains(0.0, mono=True)
    assert units.gain_to_db(left) == pytest.approx(-3.0103, abs=1e-3)
    assert left == pytest.approx(right)
    for pan in (-1.0, -0.3, 0.5, 1.0):
        lft, rgt = units.pan_gains(pan, mono=True)
        assert lft**2 + rgt**2 == pytest.approx(1.0)
    assert units.pan_gains(-1.0, mono=True) == pytest.approx((1.0, 0.0))


def test_stereo_pan_is_balance_unity_at_centre():
    assert units.pan_gains(0.0, mono=False) == (1.0, 1.0)
    assert units.pan_gains(0.5, mono=False) == (0.5, 1.0)
    assert units.pan_gains(-1.0, mono=False) == (1.0, 0.0)


def test_seconds_to_frames_rounds_to_nearest_frame():
    assert units.seconds_to_frames(1.0, 48000) == 48000
    assert units.seconds_to_frames(0.1, 44100) == 4410
    assert units.frames_to_seconds(24000, 48000) == 0.5


@pytest.mark.parametrize("rate", [0, 22050, 192000, 48000.5])
def test_unsupported_sample_rate_names_the_valid_ones(rate):
    with pytest.raises(ValueError, match="44100, 48000, 88200, 96000"):
        units.check_sample_rate(rate)
