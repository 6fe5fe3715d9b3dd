import math

import numpy as np
import pytest
from scipy.integrate import quad

from mixtree.dsp.curves import (
    BEND,
    FAST_END,
    FAST_START,
    GEOMETRIC,
    HOLD,
    LINEAR,
    S_CURVE,
    SHAPES,
    SMOOTH,
    curve,
    curve_integral,
    lane_value,
    segment_integral,
    segment_value,
    shape_code,
)

U = np.linspace(0.0, 1.0, 101)


def _bend(c: float, u: float) -> float:
    # the definition, written out independently
    a = (1 + c) / 2
    s = u / (a + math.sqrt(a * a + (1 - 2 * a) * u)) if u > 0 else 0.0
    return 2 * s * (1 - s) * (1 - a) + s * s


FORMULAS = {
    HOLD: lambda u, c: 0.0,
    LINEAR: lambda u, c: u,
    SMOOTH: lambda u, c: u * u * (3 - 2 * u),
    S_CURVE: lambda u, c: (1 - math.cos(math.pi * u)) / 2,
    FAST_START: lambda u, c: 1 - (1 - u) ** 3,
    FAST_END: lambda u, c: u**3,
    BEND: lambda u, c: _bend(c, u),
}


@pytest.mark.parametrize("shape", list(FORMULAS))
@pytest.mark.parametrize("tension", [-1.0, -0.5, 0.0, 0.3, 1.0])
def test_each_shape_follows_its_formula_and_its_integral(shape, tension):
    for u in U:
        assert curve(shape, u, tension) == pytest.approx(FORMULAS[shape](u, tension), abs=1e-9)
        expected = quad(lambda w: FORMULAS[shape](w, tension), 0.0, u, epsabs=1e-13)[0]
        assert curve_integral(shape, u, tension) == pytest.approx(expected, abs=1e-9)


def test_the_fixtures():
    assert curve(SMOOTH, 0.5, 0.0) == 0.5
    assert curve(FAST_START, 0.5, 0.0) == 0.875
    assert curve(FAST_END, 0.5, 0.0) == 0.125
    assert curve(BEND, 0.5, 0.5) == pytest.approx(0.263932, abs=1e-6)
    assert curve(BEND, 0.5, 1.0) == pytest.approx(0.085786, abs=1e-6)
    assert curve(BEND, 0.5, -0.5) == pytest.approx(0.736068, abs=1e-6)
    for c in (-1.0, -0.7, -0.2, 0.0, 0.4, 1.0):
        assert curve(BEND, 0.0, c) == 0.0 and curve(BEND, 1.0, c) == 1.0
        for u in U:
            assert curve(BEND, u, c) + curve(BEND, 1 - u, -c) == pytest.approx(1.0, abs=1e-12)
    assert curve(BEND, 0.3, 1e-12) == pytest.approx(0.3, abs=1e-9)  # stable near 0


def test_geometric_segments_move_by_a_constant_ratio():
    for u in U:
        assert segment_value(100.0, 1600.0, GEOMETRIC, 0.0, u) == pytest.approx(100.0 * 16.0**u, rel=1e-12)
        expected = quad(lambda w: 100.0 * 16.0**w, 0.0, u)[0]
        assert segment_integral(100.0, 1600.0, GEOMETRIC, 0.0, u) == pytest.approx(expected, rel=1e-9, abs=1e-12)
    assert segment_integral(2.0, 2.0, GEOMETRIC, 0.0, 0.5) == 1.0


def test_a_lane_holds_its_ends_and_a_point_takes_effect_on_its_position():
    at = np.array([10.0, 20.0, 20.0, 30.0])
    value = np.array([1.0, 3.0, 5.0, 7.0])
    shape = np.array([LINEAR, HOLD, LINEAR, LINEAR], np.int64)
    tension = np.zeros(4)
    assert lane_value(at, value, shape, tension, 0, 4, 0.0) == 1.0
    assert lane_value(at, value, shape, tension, 0, 4, 15.0) == 2.0
    assert lane_value(at, value, shape, tension, 0, 4, 19.999) == pytest.approx(2.9998)
    assert lane_value(at, value, shape, tension, 0, 4, 20.0) == 5.0  # the later of two points wins
    assert lane_value(at, value, shape, tension, 0, 4, 25.0) == 6.0
    assert lane_value(at, value, shape, tension, 0, 4, 99.0) == 7.0


def test_shape_names():
    assert [shape_code(s) for s in SHAPES] == list(range(len(SHAPES)))
    with pytest.raises(ValueError, match="shape must be one of hold, linear"):
        shape_code("wobble")
