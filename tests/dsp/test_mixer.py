"""Mixing into parents: the sum through the per-frame gains (or gains at rest), meters, the
non-finite guard."""

import numpy as np
import pytest

from mixtree.dsp.mixer import SendRows, faders_for, mix_buffers, mix_into_parents, mix_sends, write_output

FRAMES = 64


def _no_sends() -> SendRows:
    return SendRows(*(np.zeros(0, t) for t in (np.int32, np.int32, np.bool_, float, float, float, np.int32)))


def _mix(values, past_the_block=0.0):
    # slot 0 is the parent of slots 1..n, each holding ``values[k]`` at unity gain
    slots = len(values) + 1
    buf = np.full((slots, FRAMES + 8, 2), past_the_block, np.float32)
    buf[0] = 0.0
    for k, v in enumerate(values, 1):
        buf[k, :FRAMES] = v
    mix, faders = mix_buffers(slots, _no_sends(), FRAMES + 8), faders_for(slots)
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


@pytest.mark.parametrize("meters", [False, True])
def test_gains_at_rest_mix_send_and_write_what_the_same_gains_per_frame_do(meters):
    # a fader at rest writes its first frame alone (`Mix.rest`): every reader gives the
    # bits it gives when that gain is written at every frame
    from mixtree.dsp.delays import delay_lines

    rng = np.random.default_rng(3)
    source = rng.standard_normal((4, FRAMES, 2)).astype(np.float32)
    parent = np.array([0, 0, 0, 2], np.int32)  # slot 3 mixes into bus 2, slots 1 and 2 into the master 0
    sends = SendRows(
        src=np.array([1, 1]), dst=np.array([3, 3]), pre=np.array([True, False]), gain=np.ones(2),
        target=np.ones(2), step=np.zeros(2), lane=np.full(2, -1, np.int32),
    )  # fmt: skip
    no_lines = delay_lines([])
    results = []
    for rest in (False, True):
        buf = source.copy()
        mix, faders = mix_buffers(4, sends, FRAMES), faders_for(4)
        gains = np.array([[0.7, 0.3], [0.123456789, 1.1], [0.5, 0.25], [0.9, 0.8]])
        if rest:
            mix.gains[:, 0] = gains
            mix.opens[:, 0] = 0.75
            mix.gains[:, 1:] = np.nan  # never read
            mix.opens[:, 1:] = np.nan
            mix.rest[:] = True
        else:
            mix.gains[:] = gains[:, None, :]
            mix.opens[:] = 0.75
        mix.live[:] = True
        mix.levels[:] = 0.5
        failed = np.zeros(4, np.bool_)
        out = np.zeros((FRAMES, 2), np.float32)
        mix_sends(buf, FRAMES, np.arange(2), sends, mix, failed, np.full(2, -1, np.int64), no_lines)
        mix_into_parents(buf, FRAMES, np.array([3], np.int32), parent, mix, faders, failed, meters)
        mix_into_parents(buf, FRAMES, np.array([1, 2], np.int32), parent, mix, faders, failed, meters)
        write_output(buf, FRAMES, 0, mix, faders, failed, out)
        results.append((out, faders.peak.copy(), faders.rms.copy(), failed.copy()))
    for a, b in zip(*results, strict=True):
        assert np.array_equal(a, b)
    assert not results[1][3].any() and np.abs(results[1][0]).max() > 0.1


@pytest.mark.parametrize("frames", [1, 63, 64])
@pytest.mark.parametrize("rest", [False, True])
def test_metering_adds_the_products_and_meters_each_side(frames, rest):
    # the metered sum runs two frames a step: the same sums, and each side's peak and RMS
    rng = np.random.default_rng(frames)
    buf = rng.standard_normal((3, FRAMES, 2)).astype(np.float32)
    before = buf.copy()
    mix, faders = mix_buffers(3, _no_sends(), FRAMES), faders_for(3)
    mix.gains[:] = rng.uniform(0.1, 2.0, (3, FRAMES, 2))
    if rest:
        mix.rest[:] = True
        mix.gains[:, 1:] = np.nan  # never read
    mix.live[:] = True
    failed = np.zeros(3, np.bool_)
    mix_into_parents(buf, frames, np.array([1, 2], np.int32), np.zeros(3, np.int32), mix, faders, failed, True)
    expected = before[0, :frames].copy()
    for s in (1, 2):
        g = (mix.gains[s, :1] if rest else mix.gains[s, :frames]).astype(np.float32)
        v = g * before[s, :frames]
        expected += v
        assert np.array_equal(faders.peak[s], np.abs(v).max(axis=0))
        np.testing.assert_allclose(faders.rms[s], np.sqrt((v.astype(np.float64) ** 2).mean(axis=0)), rtol=1e-6)
    assert np.array_equal(buf[0, :frames], expected)
