import numpy as np
import pytest

from mixtree.dsp.fades import CURVES, curve_code, fade_gain


@pytest.mark.parametrize("curve", CURVES)
def test_every_curve_runs_from_exact_silence_to_unity_monotonically(curve):
    code = curve_code(curve)
    xs = np.linspace(0, 1, 1001)
    g = np.array([fade_gain(x, code) for x in xs])
    assert g[0] == 0.0 and g[-1] == pytest.approx(1.0, abs=1e-7)
    assert (np.diff(g) >= 0).all()


def test_equal_power_curves_cross_at_minus_3_db():
    code = curve_code("equal_power")
    assert fade_gain(0.5, code) == pytest.approx(np.sqrt(0.5), abs=1e-7)


def test_unknown_curve_names_the_known_ones():
    with pytest.raises(ValueError, match="linear, equal_power"):
        curve_code("wobbly")
