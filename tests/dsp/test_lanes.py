"""Drawn lanes in a plan: exact at their pieces' ends, a parabola between, within a stated bound."""

import math

import numpy as np
import pytest

from mixtree.dsp.curves import SHAPES
from mixtree.dsp.lanes import (
    GAIN_TOLERANCE,
    KNOT,
    LANE_TOLERANCE,
    MAX_KNOT,
    MEMO,
    RIGHT_AT,
    LaneTable,
    ParameterLanes,
    drawn_value,
    fill_lane,
    fill_parameters,
    knot_lengths,
    point_at,
    touch_lane,
)  # fmt: skip
from mixtree.dsp.smoothing import DENSE, lane_value


def table(points, ramp=480.0, domain=""):
    """A one-lane table of (frame, value, shape, tension) points."""
    at = np.array([p[0] for p in points], np.float64)
    value = np.array([p[1] for p in points], np.float64)
    shape = np.array([SHAPES.index(p[2]) for p in points], np.int64)
    tension = np.array([p[3] for p in points], np.float64)
    n = len(points)
    one = np.zeros(1)
    return LaneTable(
        at, value, shape, tension, knot_lengths(at, value, shape, tension, domain), np.array([0]), np.array([n]),
        np.array([ramp]), at.copy(), np.array([-1]), one, one, np.zeros((0, 0)), np.zeros(1, np.int8),
        *(one.copy() for _ in range(5)), np.full((1, MEMO), -1.0),
    )  # fmt: skip


def exact(lanes, frames):
    """Every frame's value, straight from the formulas."""
    at, value, shape, tension = lanes.at, lanes.value, lanes.shape, lanes.tension
    out = []
    for n in frames:
        j = point_at(at, 0, len(at), float(n))
        jumps = j > 0 and (shape[j - 1] == 0 or at[j - 1] == at[j])
        glide = bool(jumps and n - at[j] + 1 < lanes.ramp[0])
        out.append(drawn_value(at, value, shape, tension, 0, len(at), lanes.ramp[0], j, glide, float(n)))
    return np.array(out)


def fill(lanes, first, frames, block):
    out = np.zeros(frames)
    for b in range(0, frames, block):
        n = min(block, frames - b)
        buf = np.zeros(n)
        fill_lane(lanes, 0, first + b, n, buf)
        out[b : b + n] = buf
    return out


@pytest.mark.parametrize("shape", ["linear", "smooth", "s_curve", "fast_start", "fast_end", "bend", "geometric"])
@pytest.mark.parametrize("span", [48000, 4800, 480])
def test_between_knots_a_lane_stays_within_its_bound(shape, span):
    # K³/(72√3) × the curve's largest third derivative, with K the longest power of two
    # that keeps it within LANE_TOLERANCE of the change (18); on ten milliseconds K is
    # KNOT, whose bound is below 1e-5 of the change (3e-4 for a bend of tension 0.6)
    lanes = table([(1000.3, 20.0, shape, 0.6), (1000.3 + span, 2.0, "hold", 0.0)])
    frames = np.arange(900, 1100 + span)
    got = fill(lanes, 900, frames.size, 256)
    want = exact(lanes, frames)
    k = lanes.knot[0]
    bound = LANE_TOLERANCE if k > KNOT else 3e-4
    assert np.abs(got - want).max() <= bound * 18.0
    knots = (frames % k == 0) | (frames == 1001) | (frames == 1001 + span)
    np.testing.assert_allclose(got[knots], want[knots], rtol=0, atol=1e-12)  # exact where pieces start
    if shape == "linear":
        assert k == MAX_KNOT  # a line needs no knots between its points
    elif span == 48000:
        assert k >= 512  # a second's curve: a piece or less a block


def test_pieces_of_a_volume_lane_keep_the_gain_within_its_bound():
    # a linear ramp in dB is a curve in gain: its pieces are short enough for the parabola
    # through their gains to stay within GAIN_TOLERANCE of the exact gain
    db = math.log(10.0) / 20.0
    lengths = []
    for span, change in ((48000, 12.0), (48000, 60.0), (480, 60.0)):
        at, value = np.array([0.0, span]), np.array([0.0, -change])
        k = int(knot_lengths(at, value, np.array([1, 0]), np.zeros(2), "db")[0])
        u = np.arange(k + 1)
        gain = np.exp(db * -change * u / span)  # the steepest piece: the first
        c = (gain[k] - 2 * gain[k // 2] + gain[0]) / (2 * (k / 2) ** 2)
        b = (gain[k // 2] - gain[0]) / (k / 2) - c * k / 2
        if k > KNOT:  # (the shortest pieces are as close as they come: 60 dB in 10 ms strays 1e-4)
            assert np.abs(gain[0] + u * (b + u * c) - gain).max() <= GAIN_TOLERANCE
        lengths.append(k)
    assert lengths[0] >= 512 and lengths[1] >= 128 and lengths[2] == KNOT
    plain = knot_lengths(np.array([0.0, 48000.0]), np.array([0.0, -12.0]), np.array([1, 0]), np.zeros(2))
    assert plain[0] == MAX_KNOT  # the same line on a parameter that is not a gain needs no knots


@pytest.mark.parametrize("tension", [-1.0, -0.61, 0.9, 1.0])
def test_a_steep_bend_is_worked_out_at_every_frame_to_its_cusp(tension):
    lanes = table([(1000.3, 20.0, "bend", tension), (1480.3, 2.0, "hold", 0.0)])
    frames = np.arange(900, 1600)
    got = fill(lanes, 900, frames.size, 100)
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, exact(lanes, frames), rtol=0, atol=1e-12)


def test_jumps_land_on_their_frame_and_glide_out_exactly_at_any_block_size():
    lanes = table([(0.0, 0.0, "hold", 0.0), (100.5, -10.0, "linear", 0.0), (2000.0, 0.0, "hold", 0.0)], ramp=64.0)
    frames = np.arange(0, 3000)
    reference = fill(lanes, 0, frames.size, 4096)
    for block in (32, 100, 256):
        assert np.array_equal(fill(lanes, 0, frames.size, block), reference)
    assert reference[100] == 0.0 and reference[101] != 0.0  # the first frame at or after 100.5
    np.testing.assert_allclose(reference, exact(lanes, frames), atol=1e-9)  # the glide is linear: exact


@pytest.mark.parametrize("block", [32, 256, 4096])
def test_a_piece_starting_where_the_last_ended_starts_from_the_value_kept_there(block):
    # the memo keeps each piece's right end: the next piece starts from it, and plays
    # exactly what a lane that never played before (nothing kept) plays there
    points = [(100.5, -12.0, "s_curve", 0.0), (20000.25, 3.0, "bend", 0.4), (30000.0, -6.0, "hold", 0.0)]
    played = table(points)
    got = fill(played, 0, 32768, block)
    for b in range(0, 32768, block):
        fresh = table(points)
        buf = np.zeros(block)
        fill_lane(fresh, 0, b, block, buf)
        assert np.array_equal(got[b : b + block], buf), b
    assert played.memo[0, RIGHT_AT] == played.memo[0, 1]  # the last piece's right end, kept


def pieces(lanes, first, frames, block):
    """Every frame a kernel reads from the rows `fill_parameters` writes, block by block, and
    each block's row column 0 (how the row holds the lane)."""
    out, kinds = np.zeros(frames), []
    row = np.zeros((1, 1 + block))
    entries = ParameterLanes(np.array([0]), np.array([row[0].ctypes.data]), np.array([row.shape[1]]))
    for b in range(0, frames, block):
        n = min(block, frames - b)
        fill_parameters(lanes, entries, first + b, n, True)
        out[b : b + n] = [lane_value(row, 0, i) for i in range(n)]
        kinds.append(row[0, 0])
        assert lanes.last[0] == out[b + n - 1]
    return out, kinds


@pytest.mark.parametrize("block", [16, 100, 256, 4096])
@pytest.mark.parametrize("tension", [0.4, 0.9])  # 0.9: a piece a frame, more than a row holds
def test_a_kernels_row_reads_back_every_frame_fill_lane_writes(block, tension):
    points = [(100.5, -12.0, "bend", tension), (2000.25, 3.0, "hold", 0.0), (2000.25, 9.0, "s_curve", 0.0),
              (6000.0, -6.0, "hold", 0.0)]  # fmt: skip
    frames = 8000
    got, kinds = pieces(table(points, ramp=64.0), 0, frames, block)
    assert np.array_equal(got, fill(table(points, ramp=64.0), 0, frames, block))
    assert max(kinds) >= 2  # a block over several pieces, as a list of them
    if tension > 0.6 and block > 16:
        assert DENSE in kinds  # the cusp's pieces do not fit: its values


def test_a_recorded_move_reaches_a_kernel_as_values():
    lanes = table([(0.0, 1.0, "linear", 0.0), (1000.0, 2.0, "hold", 0.0)], ramp=10.0)
    touch_lane(lanes, 0, 5.0, glide=False)
    got, kinds = pieces(lanes, 0, 64, 64)
    assert kinds == [DENSE] and np.all(got == 5.0)
