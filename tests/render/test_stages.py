"""Batched stages give every track exactly what its effect gives alone."""

from collections.abc import Callable

import numpy as np
import pytest

from mixtree import effects as fx
from mixtree.effects.base import Effect
from mixtree.render.stages import BatchStage
from tests.conftest import RATE

BLOCK = 256


def filters() -> list[Effect]:
    """Seven filters: five steady (one left without a partner), one gliding, one bypassed."""
    effects = [
        fx.Filter("lowshelf", 200.0, gain_db=3.0),
        fx.Filter("highshelf", 6000.0, gain_db=-3.0),
        fx.Filter("peak", 1000.0, 2.0, 6.0),
        fx.Filter("lowpass", 3000.0),
        fx.Filter("highpass", 90.0),
        fx.Filter("notch", 500.0),
        fx.Filter("bandpass", 2000.0),
    ]
    for e in effects:
        e.prepare(RATE)
    effects[5].freq = 1500.0
    effects[6].bypass = True
    return effects


def eq3s() -> list[Effect]:
    """Three EQ3s, one of them gliding."""
    effects = [fx.EQ3(3.0, -2.0, 1.0), fx.EQ3(-6.0, 0.0, 4.0), fx.EQ3(0.0, 5.0, 0.0)]
    for e in effects:
        e.prepare(RATE)
    effects[1].mid_db = -4.0
    return effects


def compressors() -> list[Effect]:
    """Three compressors: peak, RMS and one gliding to a lower threshold."""
    effects = [fx.Compressor(-24.0), fx.Compressor(-12.0, 8.0, detection="rms"), fx.Compressor(knee_db=0.0)]
    for e in effects:
        e.prepare(RATE)
    effects[2].threshold_db = -30.0
    return effects


@pytest.mark.parametrize("make", [filters, eq3s, compressors], ids=lambda f: f.__name__)
def test_a_batched_stage_equals_each_effect_alone(make: Callable[[], list[Effect]]):
    batched, alone = make(), make()
    rng = np.random.default_rng(7)
    x = (rng.standard_normal((len(batched), 8 * BLOCK + 37, 2)) * 0.3).astype(np.float32)
    stage = BatchStage(type(batched[0]).kernel, list(enumerate(batched)), RATE, fresh=False)
    buf = x.copy()
    failed, reasons = np.zeros(len(batched), bool), [""] * len(batched)
    for at in range(0, x.shape[1], BLOCK):
        block = np.ascontiguousarray(buf[:, at : at + BLOCK])
        stage.run(block, block.shape[1], at, failed, reasons)
        buf[:, at : at + BLOCK] = block
    for row, effect in enumerate(alone):
        expected = x[row].copy()
        for at in range(0, x.shape[1], BLOCK):
            effect.process(expected[at : at + BLOCK], RATE)
        assert np.array_equal(buf[row], expected), repr(effect)
    assert not np.array_equal(buf, x)


def test_a_kernel_with_the_old_list_signature_is_refused_by_name():
    import numba as nb

    @nb.njit(cache=False)
    def old(buf, frames, slots, params, states, buffers, ramps, autos, rate):
        pass

    class Old(fx.Effect):
        loadable = False  # not registered: the engine's warm-up in other tests must not meet it
        kernel = staticmethod(old)

    with pytest.raises(TypeError, match=r"Old's kernel must take \(buf, frames, rows, rate\), not 9"):
        BatchStage(old, [(0, Old())], RATE, fresh=True)
