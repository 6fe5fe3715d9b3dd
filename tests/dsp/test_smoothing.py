"""The linear ramp that parameters and faders share."""

import numpy as np
import pytest

from mixtree.dsp.smoothing import (
    CUR,
    DENSE,
    PIECE,
    TGT,
    automate,
    lane_points,
    lane_value,
    ramp_step,
    step_toward,
    value_at,
)


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


def test_an_automation_row_holds_values_or_pieces_and_nan_means_no_lane():
    auto = np.full((3, 1 + 2 * PIECE), np.nan)
    auto[0, 0] = DENSE
    auto[0, 1:9] = np.arange(8.0) * 0.5
    # two pieces: from frame 0 on u = 10 + i, then from frame 5 on u = i - 5
    auto[1, 0] = 2
    auto[1, 1 : 1 + PIECE] = [0, 10.0, 1.0, 0.5, 0.25]
    auto[1, 1 + PIECE : 1 + 2 * PIECE] = [5, -5.0, -1.0, 2.0, 0.0]
    assert [lane_value(auto, 0, i) for i in range(8)] == [i * 0.5 for i in range(8)]
    for i in range(8):
        u = 10.0 + i if i < 5 else i - 5.0
        want = 1.0 + u * (0.5 + u * 0.25) if i < 5 else -1.0 + u * 2.0
        assert lane_value(auto, 1, i) == want
    params = np.zeros((3, 4))
    params[2, CUR] = params[2, TGT] = 7.0
    assert automate(params, auto, 6) and params[0, CUR] == 3.0 and params[1, CUR] == -1.0 + 1.0 * 2.0
    assert value_at(params, auto, 2, 6) == 7.0 and params[2, CUR] == 7.0  # no lane: its own glide (at rest)


@pytest.mark.parametrize(("first", "stride"), [(0, 1), (7, 8), (31, 32), (3, 5), (12, 13)])
def test_a_run_of_frames_reads_what_each_frame_reads(first, stride):
    # a row of values, and of three pieces (one of them holding no sampled frame at a
    # stride of 8 or more), read a frame in ``stride`` from ``first``
    frames = 64
    auto = np.full((2, 1 + frames), np.nan)
    auto[0, 0] = DENSE
    auto[0, 1:] = np.sin(np.arange(frames) * 0.3)
    auto[1, 0] = 3
    pieces = [[0, 100.0, 1.0, 1e-3, -2e-6], [20, -20.0, -3.0, 0.01, 1e-4], [23, 7.0, 0.5, -0.02, 3e-5]]
    for k, piece in enumerate(pieces):
        auto[1, 1 + PIECE * k : 1 + PIECE * (k + 1)] = piece
    n = (frames - 1 - first) // stride + 1
    for p in range(2):
        out = np.full(n + 2, np.inf)
        lane_points(auto, p, first, stride, n, out)
        assert list(out[:n]) == [lane_value(auto, p, first + g * stride) for g in range(n)]
        assert np.isinf(out[n:]).all()  # nothing past the n asked for
