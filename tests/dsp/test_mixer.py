"""Mixing into parents: the sum through the per-frame gains, meters, the non-finite guard."""

import numpy as np
import pytest

from mixtree.dsp.mixer import faders_for, mix_buffers, mix_into_parents

FRAMES = 64


def _mix(values, past_the_block=0.0):
    # slot 0 is the parent of slots 1..n, each holding ``values[k]`` at unity gain
    slots = len(values) + 1
    buf = np.full((slots, FRAMES + 8, 2), past_the_block, np.float32)
    buf[0] = 0.0
    for k, v in enumerate(values, 1):
        buf[k, :FRAMES] = v
    mix, faders = mix_buffers(slots, 0, FRAMES + 8), faders_for(slots)
    mix.gains[:] = 1.0
    mix.live[:] = True
    failed = np.zeros(slots, np.bool_)
    parent = np.zeros(slots, np.int32)
    mix_into_parents(buf, FRAMES, np.arange(1, slots, dtype=np.int32), parent, mix, faders, failed, True)
    return buf[0, :FRAMES], failed[1:], faders


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize(("frame", "side"), [(0, 0), (FRAMES - 1, 1), (17, 1)])
def test_a_slot_with_one_non_finite_sample_is_flagged_and_adds_nothing(bad, frame, side):
    poisoned = np.full((FRAMES, 2), 0.25, np.float32)
    poisoned[frame, side] = bad
    huge = np.full((FRAMES, 2), 3e38, np.float32)  # the largest floats are still finite
    out, failed, faders = _mix([poisoned, 0.5, huge])
    assert failed.tolist() == [True, False, False]
    assert np.all(out == np.float32(0.5) + np.float32(3e38))
    assert faders.peak[1].tolist() == [0.0, 0.0] and faders.peak[2].tolist() == [0.5, 0.5]


def test_the_guard_reads_only_the_block():
    # samples past ``frames`` (the rest of a longer buffer) are not the block's
    out, failed, _ = _mix([0.1], past_the_block=np.nan)
    assert not failed[0] and np.all(out == np.float32(0.1))
