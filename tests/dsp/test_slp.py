"""The kernels built with the SLP vectoriser (``slp=True``) against their plain build."""

import importlib
import pkgutil

import numpy as np
import pytest

import mixtree.dsp
from mixtree import effects as fx
from mixtree.dsp import biquad, gain, jit
from mixtree.dsp.rows import Rows
from tests.dsp.test_dynamics import dense

RATE = 48000.0
FRAMES = 256


def _effects(kind):
    # steady rows in pairs and alone, a bypassed one, gliding ones, and each kind of filter
    if kind == "filter":
        made = [fx.Filter(k, 80.0 * (i + 1), 0.5 + i / 4, gain_db=i - 3.0) for i, k in enumerate(biquad.KINDS)]
        made += [fx.Filter("peak", 1000.0 + 300 * i, 1.0, 4.0) for i in range(5)]
    elif kind == "pan":
        made = [fx.Pan(pan=i / 4 - 1.0) for i in range(9)]
    else:
        made = [fx.EQ3(low_db=i - 4.0, mid_db=2.0 - i, high_db=i / 2, low_freq=150.0 + 10 * i) for i in range(9)]
    for e in made:
        e.prepare(int(RATE))
    return made


def _run(kernel, kind, automated):
    made = _effects(kind)
    autos = []
    for i, e in enumerate(made):
        auto = np.zeros((0, 0))
        if automated and i % 3 == 0:  # a lane on the first parameter with gain (or frequency)
            auto = np.full((len(e.PARAMETERS), FRAMES * 6), np.nan)
            row = 3 if kind == "filter" else 0
            auto[row] = np.linspace(-1.0, 1.0, FRAMES * 6) * (1.0 if kind == "pan" else 12.0)
        autos.append(auto)
    rng = np.random.default_rng(7)
    out = []
    for b in range(6):
        if b == 2:
            made[1].bypass = True
            spec = made[4].PARAMETERS[len(made[4].PARAMETERS) // 2]
            made[4].set_parameter(spec.id, made[4].get_parameter(spec.id) * 0.5)
        if b == 4:
            made[1].bypass = False
        window = slice(b * FRAMES, (b + 1) * FRAMES)
        blocks = [dense(a[:, window]) if a.size else a for a in autos]
        rows = Rows(list(range(len(made))), [(*e.memory(), a) for e, a in zip(made, blocks, strict=True)])
        buf = (rng.standard_normal((len(made), FRAMES, 2)) * 0.3).astype(np.float32)
        kernel(buf, FRAMES, rows.table, RATE)
        out.append(buf)
    return np.concatenate(out, axis=1)


KERNELS = {"filter": biquad.filter_kernel, "eq3": biquad.eq3_kernel, "pan": gain.pan_kernel}


@pytest.mark.parametrize("kind", KERNELS)
def test_the_vectorised_kernel_gives_the_plain_builds_bits(kind):
    kernel = jit.compiled(KERNELS[kind])
    assert getattr(kernel, "slp", False)
    # the same function, numba's default build (no SLP, and not cached: numba's cache
    # would hand back the vectorised build, which it files under the same name)
    plain = jit.njit(kernel.py_func)
    assert not getattr(plain, "slp", False)
    for automated in (False, True):
        vectorised = _run(kernel, kind, automated)
        assert np.array_equal(vectorised, _run(plain, kind, automated))
        assert np.isfinite(vectorised).all() and np.abs(vectorised).max() > 0.1


def test_slp_is_refused_for_a_kernel_given_a_signature():
    with pytest.raises(ValueError, match="slp=True is for kernels compiled on first use"):
        jit.njit("void(float64[:])", slp=True)(lambda a: None)


def test_every_vectorised_kernel_is_checked_here():
    dispatcher = type(jit.compiled(biquad.eq3_kernel))
    found = set()
    for info in pkgutil.iter_modules(mixtree.dsp.__path__):
        module = importlib.import_module(f"mixtree.dsp.{info.name}")
        found |= {v.__name__ for v in vars(module).values() if isinstance(v, dispatcher) and getattr(v, "slp", False)}
    assert found == {jit.compiled(k).__name__ for k in KERNELS.values()}


@pytest.mark.parametrize("kind", ["filter", "eq3"])
def test_rows_run_in_pairs_give_what_each_gives_alone(kind):
    # steady rows run two at a time (`biquad._static_pair`): each row's bits are those of
    # the kernel run on that row alone, whatever its partner
    kernel = KERNELS[kind]
    together, alone = _effects(kind), _effects(kind)
    rng = np.random.default_rng(11)
    for _ in range(3):
        buf = (rng.standard_normal((len(together), FRAMES, 2)) * 0.3).astype(np.float32)
        one_by_one = buf.copy()
        rows = Rows(list(range(len(together))), [(*e.memory(), np.zeros((0, 0))) for e in together])
        kernel(buf, FRAMES, rows.table, RATE)
        for i, e in enumerate(alone):
            kernel(one_by_one, FRAMES, Rows([i], [(*e.memory(), np.zeros((0, 0)))]).table, RATE)
        assert np.array_equal(buf, one_by_one)
    assert np.abs(buf).max() > 0.1
