"""The compressor's two paths, whole groups a chunk at a time and frame by frame, agree
to the bit: manual and under automation, at any block size."""

import numpy as np
import pytest

from mixtree import effects as fx
from mixtree.dsp import dynamics
from mixtree.dsp.rows import Rows
from mixtree.dsp.smoothing import DENSE

RATE = 48000
FRAMES = RATE // 4


def dense(values: np.ndarray) -> np.ndarray:
    """Return per-frame values (NaN rows: no lane) as a kernel's automation rows (`DENSE`)."""
    flag = np.where(np.isnan(values[:, :1]), np.nan, float(DENSE))
    return np.ascontiguousarray(np.concatenate([flag, values], axis=1))


def _lanes(rows: int) -> list[np.ndarray]:
    # row 0 manual; the others with lanes on the threshold, the makeup, the attack and the
    # release (the smoother's coefficients made again), a value per frame
    t = np.linspace(0.0, 1.0, FRAMES)
    out = [np.zeros((0, 0))]
    for r in range(1, rows):
        auto = np.full((len(fx.Compressor.PARAMETERS), FRAMES), np.nan)
        auto[dynamics.THRESHOLD_DB] = -30.0 + 20.0 * t * r / rows
        if r % 2:
            auto[dynamics.MAKEUP_DB] = 6.0 * t
        if r % 3 == 0:
            auto[dynamics.ATTACK] = np.where(t < 0.5, 0.001, 0.02)
            auto[dynamics.RELEASE] = 0.05 + 0.2 * t
        out.append(auto)
    return out


def _render(sizes: list[int], detection: str) -> np.ndarray:
    rows = 5
    effects = [fx.Compressor(ratio=2.0 + r, knee_db=3.0 * (r % 3), detection=detection) for r in range(rows)]
    for e in effects:
        e.prepare(RATE)
    lanes = _lanes(rows)
    rng = np.random.default_rng(11)
    x = (rng.standard_normal((rows, FRAMES, 2)) * np.linspace(0.01, 1.5, FRAMES)[None, :, None]).astype(np.float32)
    pos, k = 0, 0
    while pos < FRAMES:
        n = min(sizes[k % len(sizes)], FRAMES - pos)
        blocks = [dense(a[:, pos : pos + n]) if a.size else a for a in lanes]
        table = Rows(list(range(rows)), [(*e.memory(), a) for e, a in zip(effects, blocks, strict=True)])
        buf = np.ascontiguousarray(x[:, pos : pos + n])
        dynamics.compressor_kernel(buf, n, table.table, float(RATE))
        x[:, pos : pos + n] = buf
        pos, k = pos + n, k + 1
    return x


@pytest.mark.parametrize("detection", ["peak", "rms"])
def test_chunks_and_frames_agree_to_the_bit_with_and_without_lanes(detection):
    frame_by_frame = _render([1, 3, 7, 5], detection)  # never a whole group in a block
    for sizes in ([256], [4096], [513, 1, 37, 1024]):
        assert np.array_equal(_render(sizes, detection), frame_by_frame), sizes
    assert np.isfinite(frame_by_frame).all()
