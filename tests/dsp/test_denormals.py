"""Recursive kernels end in digital silence, and the flush that ends them changes no
audible sample (see `mixtree.dsp.denormals.LINE_FLOOR` and `STATE_FLOOR`)."""

import functools
import math
import sys
import types

import numba as nb
import numpy as np
import pytest
from numba.core.registry import CPUDispatcher
from scipy import signal

import mixtree as mt
from mixtree import effects as fx
from mixtree.dsp import biquad, dynamics
from mixtree.dsp.delay import MAX_DELAY
from mixtree.dsp.denormals import LINE_FLOOR, OUTPUT_FLOOR, STATE_FLOOR
from mixtree.dsp.reverb import FILTERS, line_lengths
from mixtree.dsp.rows import Rows
from mixtree.dsp.smoothing import CUR, TGT

RATE = 48000
BLOCK = 512


@functools.cache
def unflushed(kernel: CPUDispatcher) -> CPUDispatcher:
    """Return ``kernel`` compiled again with both floors at 0: the same code, never flushing."""
    module = sys.modules[kernel.py_func.__module__]
    space = dict(vars(module), LINE_FLOOR=0.0, STATE_FLOOR=0.0)
    for name, value in vars(module).items():
        if isinstance(value, CPUDispatcher) and value.py_func.__module__ == module.__name__:
            options = {k: v for k, v in value.targetoptions.items() if k != "nopython"}
            f = value.py_func
            space[name] = nb.njit(**options)(types.FunctionType(f.__code__, space, name, f.__defaults__))
    return space[kernel.py_func.__name__]


def run(effects, x, kernel=None, active=1.0):
    """Run ``effects`` (one type, one row each, at rest) over ``x`` ``(rows, frames, 2)`` in
    `BLOCK`-frame blocks, as a render does; return the output and each row's memory.

    ``active`` below 1 holds the effects part-bypassed, which runs the per-frame path."""
    memories = []
    for effect in effects:
        effect.prepare(RATE)
        params, state, buffer, ramps = effect.memory(fresh=True)
        params[-1, CUR] = params[-1, TGT] = active
        memories.append((params, state, buffer, ramps))
    rows = Rows(list(range(len(effects))), [(*m, np.zeros((0, 0))) for m in memories])  # no automation
    kernel = kernel or type(effects[0]).kernel
    out = x.copy()
    for at in range(0, x.shape[1], BLOCK):
        block = np.ascontiguousarray(out[:, at : at + BLOCK])
        kernel(block, block.shape[1], rows.table, float(RATE))
        out[:, at : at + BLOCK] = block
    return out, memories


def burst_then_silence(seconds, rows=1, burst=0.1):
    """Return ``rows`` tracks of 0.5-amplitude noise for ``burst`` seconds, then silence."""
    x = np.zeros((rows, int(seconds * RATE), 2), np.float32)
    n = int(burst * RATE)
    x[:, :n] = np.random.default_rng(7).standard_normal((rows, n, 2)) * 0.5
    return x


def end_of_sound(y):
    """Return the time, seconds, just after the last nonzero sample of ``y`` (rows, frames, 2)."""
    loud = np.flatnonzero(np.any(y != 0, axis=(0, 2)))
    return (loud[-1] + 1) / RATE if loud.size else 0.0


# -- delay lines ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("time", "feedback"),
    [(0.25, 0.35), (0.01, 0.95), (0.0101234, 0.95)],  # the default; the longest tail; fractional
)
def test_a_delay_tail_ends_in_digital_silence(time, feedback):
    # each echo is ``feedback`` times the one before: from the burst's peak down to the
    # floor takes log(LINE_FLOOR / peak) / log(feedback) echoes of ``time`` seconds
    x = burst_then_silence(80.0, burst=time)
    limit = (math.log(LINE_FLOOR / np.abs(x).max()) / math.log(feedback) + 2) * time
    x = x[:, : int((limit + MAX_DELAY) * RATE)]
    y, [(_, _, line, _)] = run([fx.Delay(time=time, feedback=feedback, mix=0.5)], x)
    assert time < end_of_sound(y) < limit
    assert not line.any()  # overwritten since: the silence goes on forever


@pytest.mark.parametrize("reverb", [fx.Reverb(), fx.Reverb(room_size=1.0, damping=0.0, mix=1.0)], ids=repr)
def test_a_reverb_tail_ends_in_digital_silence(reverb):
    # Each pass through a comb keeps at most its feedback (0.98 at room_size 1, the
    # longest tail) of what went in: the longest comb, from full scale down to the floor,
    # bounds the combs' tail; the four allpasses in series each add at most 50 passes.
    lengths = line_lengths(RATE)
    feedback = reverb.room_size * 0.28 + 0.7
    comb_passes = math.log(LINE_FLOOR) / math.log(feedback)
    limit = (comb_passes * lengths[:16].max() + 4 * 50 * lengths[16:].max()) / RATE
    y, [(_, state, lines, _)] = run([reverb], burst_then_silence(limit + 1.0))
    assert 1.0 < end_of_sound(y) < limit
    assert not lines.any() and not state[FILTERS : FILTERS + 16].any()


@pytest.mark.parametrize(
    "effect",
    [fx.Delay(time=0.01, feedback=0.95, mix=0.5), fx.Delay(time=0.0101234, feedback=0.9), fx.Reverb(mix=0.5)],
    ids=repr,
)
def test_flushing_a_line_changes_no_audible_sample(effect):
    x = burst_then_silence(12.0)
    y, _ = run([effect], x)
    plain, _ = run([effect], x, unflushed(type(effect).kernel))
    assert end_of_sound(plain) == x.shape[1] / RATE  # without the flush: subnormals forever
    assert np.abs(y - plain).max() < 1e-13  # -260 dBFS
    loud = np.abs(plain) > 1e-7  # above the last bit of 24-bit audio
    assert np.array_equal(y[loud], plain[loud])


# -- float64 state ----------------------------------------------------------------------


def slowest_pole(effect, sections):
    """Return the largest pole radius of a biquad effect's sections."""
    effect.prepare(RATE)
    state = effect.memory(fresh=True)[1]
    return max(
        np.abs(np.roots([1.0, state[k * biquad.SECTION + 3], state[k * biquad.SECTION + 4]])).max()
        for k in range(sections)
    )


def memories(effect, state):
    """Return the recursive float64 memories in ``effect``'s state."""
    if isinstance(effect, fx.Compressor):
        return state[[dynamics.ENVELOPE, dynamics.MEAN_SQUARE]]
    sections = 3 if isinstance(effect, fx.EQ3) else 1
    return np.concatenate([state[k * biquad.SECTION + 5 : (k + 1) * biquad.SECTION] for k in range(sections)])


@pytest.mark.parametrize(
    ("effects", "active"),
    [
        ([fx.Filter("lowpass", 100.0, 10.0)], 1.0),  # one steady row
        ([fx.Filter("highpass", 20.0), fx.Filter("peak", 1000.0, 5.0, 12.0)], 1.0),  # a steady pair
        ([fx.EQ3(6.0, -6.0, 6.0)], 1.0),  # three sections
        ([fx.Filter("lowpass", 100.0, 10.0)], 0.5),  # part-bypassed: the per-frame path
    ],
    ids=["filter", "pair", "eq3", "moving"],
)
def test_biquad_memories_come_to_rest_after_a_burst(effects, active):
    sections = 3 if isinstance(effects[0], fx.EQ3) else 1
    # from at most 10 (a resonance's gain) to the floor at the slowest pole's decay
    radius = max(slowest_pole(e, sections) for e in effects)
    limit = 0.1 + math.log(STATE_FLOOR / 10.0) / math.log(radius) / RATE
    x = burst_then_silence(limit + 1.0, rows=len(effects))
    y, rows = run(effects, x, active=active)
    assert end_of_sound(y) < limit
    for effect, (_, state, _, _) in zip(effects, rows, strict=True):
        assert not memories(effect, state).any()


def test_compressor_envelope_and_mean_square_come_to_rest_after_a_burst():
    comp = fx.Compressor(threshold_db=-40.0, detection="rms", release=0.1)
    # the envelope falls from at most 60 dB of reduction with the release's time constant
    # (a factor e each 0.1 s) down to the floor; the mean square decays faster (10 ms)
    limit = 0.1 + math.log(60.0 / STATE_FLOOR) * 0.1
    y, [(_, state, _, _)] = run([comp], burst_then_silence(limit + 1.0))
    assert end_of_sound(y) <= 0.1
    assert not memories(comp, state).any()


@pytest.mark.parametrize(
    ("effects", "active"),
    [
        ([fx.Filter("lowpass", 100.0, 10.0)], 1.0),
        ([fx.Filter("highpass", 20.0), fx.Filter("peak", 1000.0, 5.0, 12.0)], 1.0),
        ([fx.EQ3(6.0, -6.0, 6.0)], 1.0),
        ([fx.Filter("lowpass", 100.0, 10.0)], 0.5),
        ([fx.Compressor(threshold_db=-40.0, release=0.01)], 1.0),
        ([fx.Compressor(threshold_db=-40.0, release=0.01, detection="rms")], 1.0),
    ],
    ids=["filter", "pair", "eq3", "moving", "compressor", "rms"],
)
def test_flushing_float64_state_changes_no_sample(effects, active):
    # a burst, a silence long enough for the memories to be flushed, a burst again
    x = burst_then_silence(12.0, rows=len(effects))
    x[:, -RATE:] = x[:, : RATE // 10].repeat(10, axis=1)
    y, _ = run(effects, x, active=active)
    plain, _ = run(effects, x, unflushed(type(effects[0]).kernel), active=active)
    assert np.array_equal(y, plain)
    # and the second burst did meet flushed memories where the unflushed ones were not at rest
    _, flushed = run(effects, x[:, :-RATE], active=active)
    _, kept = run(effects, x[:, :-RATE], unflushed(type(effects[0]).kernel), active=active)
    assert not any(memories(e, row[1]).any() for e, row in zip(effects, flushed, strict=True))
    assert all(memories(e, row[1]).any() for e, row in zip(effects, kept, strict=True))


def test_biquads_match_scipy_through_their_tails_and_write_no_subnormal():
    # to scipy's last sample above OUTPUT_FLOOR; below it (float32 subnormals on the way), exact 0
    x = burst_then_silence(3.0)
    y, _ = run([fx.EQ3(6.0, -6.0, 6.0)], x)
    sections = [
        ("lowshelf", 250.0, biquad.EQ3_SHELF_Q, 6.0),
        ("peak", math.sqrt(250.0 * 4000.0), biquad.EQ3_PEAK_Q, -6.0),
        ("highshelf", 4000.0, biquad.EQ3_SHELF_Q, 6.0),
    ]
    sos = np.vstack([biquad.sos(*section, RATE) for section in sections])
    reference = signal.sosfilt(sos, x[0].astype(np.float64), axis=0)
    reference[np.abs(reference) < OUTPUT_FLOOR] = 0.0
    np.testing.assert_allclose(y[0], reference, rtol=1e-6, atol=1e-45)
    assert not np.any((y[0] != 0.0) & (np.abs(y[0]) < OUTPUT_FLOOR))


def test_a_released_synth_voice_ends_in_digital_silence(project):
    # Nothing to flush: a voice's filter is driven by its oscillator while the voice
    # sounds, and the voice stops (its state frozen, reset when reused) on the frame its
    # envelope reaches 0.
    synth = mt.PolySynth(waveform="square", cutoff=20.0, resonance=10.0, release=0.2)
    project.add_midi_track("Keys", instrument=synth).add_midi_clip(0.0, 3.0).add_note(60, 100, 0.0, 0.5)
    out = project.render(0.0, 3.0)
    assert 0.5 < end_of_sound(out[None]) <= 0.5 + 0.2 + 1 / RATE
