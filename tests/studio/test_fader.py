import math

import pytest

from mixtree.studio.fader import MAX_DB, db_to_position, position_to_db


def test_unity_gain_sits_where_ardours_fader_puts_it():
    # Ardour: gain_to_slider_position_with_max(1.0, 2.0) = (192 / 198) ** 8
    assert db_to_position(0.0) == pytest.approx((192 / 198) ** 8, rel=1e-12)
    assert db_to_position(MAX_DB) == 1.0
    assert MAX_DB == pytest.approx(6.0206, abs=1e-4)


def test_silence_and_levels_past_the_ends_clamp_to_the_fader():
    assert db_to_position(-math.inf) == 0.0
    assert db_to_position(-250.0) == 0.0  # below Ardour's law: 0, not its even power
    assert db_to_position(24.0) == 1.0
    assert position_to_db(0.0) == -math.inf
    assert position_to_db(-0.5) == -math.inf
    assert position_to_db(3.0) == pytest.approx(MAX_DB)


@pytest.mark.parametrize("position", [0.001, 0.1, 0.5, 0.78, 0.999, 1.0])
def test_position_and_level_convert_back_and_forth(position):
    assert db_to_position(position_to_db(position)) == pytest.approx(position, rel=1e-12)


def test_the_law_matches_ardours_formula_in_gain():
    for position in (0.05, 0.3, 0.9):
        gain = math.exp(((position ** (1 / 8) * 198.0) - 192.0) / 6.0 * math.log(2.0))
        assert position_to_db(position) == pytest.approx(20 * math.log10(gain), abs=1e-9)


def test_nan_is_refused():
    with pytest.raises(ValueError, match="fader position"):
        position_to_db(math.nan)
    with pytest.raises(ValueError, match="fader level"):
        db_to_position(math.nan)
