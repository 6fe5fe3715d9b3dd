"""The linear ramp that parameters and faders share."""

import numpy as np
import pytest

from mixtree.dsp.smoothing import ramp_step, step_toward


@pytest.mark.parametrize(("start", "target", "frames"), [(0.3, 0.9, 480), (1.0, 0.0, 441), (-0.2, -0.7, 7)])
def test_a_ramp_reaches_its_target_in_its_frames_and_never_passes_it(start, target, frames):
    step = ramp_step(start, target, frames)
    assert step == pytest.approx(abs(target - start) / frames) and step >= 0.0
    values = [start]
    while values[-1] != target:
        values.append(step_toward(values[-1], target, step))
        assert len(values) <= frames + 2
    assert abs((len(values) - 1) - frames) <= 1  # rounding may leave a last tiny step
    assert np.all(np.diff(values) * np.sign(target - start) >= 0)  # monotone, toward the target


def test_a_step_stops_on_the_target():
    assert step_toward(0.95, 1.0, 0.1) == 1.0
    assert step_toward(-0.95, -1.0, 0.1) == -1.0
    assert step_toward(0.5, 1.0, 0.1) == pytest.approx(0.6)
