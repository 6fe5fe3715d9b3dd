"""An automated filter's redesigns: those worked out a batch at a time (a lane on the gain
alone) against those made one at a time, to the bit, at any block size."""

import numpy as np

from mixtree import effects as fx
from mixtree.dsp import biquad
from mixtree.dsp.rows import Rows
from tests.dsp.test_dynamics import SPAN, block

RATE = 48000
FRAMES = RATE // 2
KINDS = ("lowshelf", "highshelf", "peak", "lowpass", "peak")


def _render(sizes: list[int], pieces: bool = True, q_lane: bool = False, lanes: bool = True) -> np.ndarray:
    # five filters (adjacent automated rows run as pairs, the last alone) with gain lanes,
    # a parabola every SPAN frames; with ``q_lane`` a lane holds each Q where it is, which
    # makes each redesign alone (`_filter_design`)
    effects = [fx.Filter(kind, 200.0 * (r + 1), 0.7 + 0.2 * r) for r, kind in enumerate(KINDS)]
    for e in effects:
        e.prepare(RATE)
    count = FRAMES // SPAN + 1
    k = np.arange(count) / count
    drawn = []
    for r, e in enumerate(effects):
        alternate = np.where(np.arange(count) % 2, 1.0, -1.0)
        gain = np.stack([12.0 * np.sin(7.0 * k + r), 0.05 * alternate, 1e-4 * alternate], 1)
        rows = {biquad.GAIN_DB: gain} if lanes else {}
        if lanes and q_lane:
            rows[biquad.Q] = np.stack([np.full(count, e.q), 0.0 * k, 0.0 * k], 1)
        drawn.append(rows)
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((len(effects), FRAMES, 2)) * 0.3).astype(np.float32)
    pos, b = 0, 0
    while pos < FRAMES:
        n = min(sizes[b % len(sizes)], FRAMES - pos)
        autos = [block(a, len(fx.Filter.PARAMETERS), pos, n, pieces) for a in drawn]
        table = Rows(list(range(len(effects))), [(*e.memory(), a) for e, a in zip(effects, autos, strict=True)])
        buf = np.ascontiguousarray(x[:, pos : pos + n])
        biquad.filter_kernel(buf, n, table.table, float(RATE))
        x[:, pos : pos + n] = buf
        pos, b = pos + n, b + 1
    return x


def test_designs_a_batch_at_a_time_are_those_made_one_at_a_time():
    one_at_a_time = _render([256], pieces=False, q_lane=True)
    assert np.isfinite(one_at_a_time).all()
    for sizes in ([256], [4096], [513, 1, 37, 1024], [1, 3, 7, 5]):
        for pieces in (True, False):
            assert np.array_equal(_render(sizes, pieces), one_at_a_time), (sizes, pieces)
    assert not np.array_equal(_render([256], lanes=False), one_at_a_time)  # the lanes tell
