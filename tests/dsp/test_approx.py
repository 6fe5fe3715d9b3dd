"""The kernels' own logarithm and exponential against numpy's."""

import math

import numpy as np

from mixtree.dsp import approx, jit
from mixtree.dsp.jit import njit


@njit(cache=False, error_model="numpy")
def _both(xs, ys, ln_out, exp_out):
    # in a loop, as kernels take them (the compiler vectorises it)
    for i in range(xs.shape[0]):
        ln_out[i] = approx.ln(xs[i])
        exp_out[i] = approx.exp(ys[i])


def test_ln_and_exp_agree_with_numpy_to_a_few_ulps():
    rng = np.random.default_rng(3)
    xs = np.concatenate([np.exp(rng.uniform(-690.0, 690.0, 200_000)), [1.0, 2.0, 0.5, math.sqrt(0.5), math.sqrt(2.0)]])
    ys = np.concatenate([rng.uniform(-690.0, 690.0, 200_000), [0.0, 1.0, -1.0, 1e-300, -1e-300]])
    ln_out, exp_out = np.empty_like(xs), np.empty_like(ys)
    jit.compiled(_both)(xs, ys, ln_out, exp_out)
    exact = np.log(xs)
    assert (np.abs(ln_out - exact) / np.maximum(np.abs(exact), 1.0)).max() <= 1e-14  # (ln 1 is 0: absolute there)
    assert np.abs(exp_out / np.exp(ys) - 1.0).max() <= 1e-14
    assert ln_out[-5] == 0.0 and exp_out[-5] == 1.0


def test_each_call_alone_gives_the_bits_a_vectorised_loop_gives():
    xs = np.exp(np.linspace(-50.0, 5.0, 1001))
    ln_out, exp_out = np.empty_like(xs), np.empty_like(xs)
    jit.compiled(_both)(xs, -xs, ln_out, exp_out)
    assert [approx.ln(x) for x in xs[::50]] == list(ln_out[::50])
    assert [approx.exp(-x) for x in xs[::50]] == list(exp_out[::50])


def test_exp_clamps_instead_of_overflowing():
    assert approx.exp(1e6) == approx.exp(approx.EXP_LIMIT) > 1e303
    assert 0.0 < approx.exp(-1e6) == approx.exp(-approx.EXP_LIMIT) < 1e-303
