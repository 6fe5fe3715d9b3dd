"""The compressor's two paths, whole groups a chunk at a time and frame by frame, agree
to the bit: manual and under automation (a lane's values or its pieces), at any block size."""

import numpy as np
import pytest

from mixtree import effects as fx
from mixtree.dsp import dynamics
from mixtree.dsp.rows import Rows
from mixtree.dsp.smoothing import DENSE, PIECE

RATE = 48000
FRAMES = RATE // 4
#: The length of the test lanes' pieces, frames.
SPAN = 100


def dense(values: np.ndarray) -> np.ndarray:
    """Return per-frame values (NaN rows: no lane) as a kernel's automation rows (`DENSE`)."""
    flag = np.where(np.isnan(values[:, :1]), np.nan, float(DENSE))
    return np.ascontiguousarray(np.concatenate([flag, values], axis=1))


def _lanes(rows: int) -> list[dict[int, np.ndarray]]:
    # row 0 manual; the others with lanes on the threshold, the makeup, the attack and the
    # release (the smoother's coefficients made again), each a parabola (v0, b, c) every
    # SPAN frames, not continuous
    count = FRAMES // SPAN + 1
    k = np.arange(count) / count
    out: list[dict[int, np.ndarray]] = [{}]
    for r in range(1, rows):
        alternate = np.where(np.arange(count) % 2, 1.0, -1.0)
        lanes = {dynamics.THRESHOLD_DB: np.stack([-30.0 + 20.0 * k * r / rows, 0.02 * alternate, 1e-4 * alternate], 1)}
        if r % 2:
            lanes[dynamics.MAKEUP_DB] = np.stack([6.0 * k, 0.01 * alternate, -5e-5 * alternate], 1)
        if r % 3 == 0:
            lanes[dynamics.ATTACK] = np.stack([np.where(k < 0.5, 0.001, 0.02), 0.0 * k, 0.0 * k], 1)
            lanes[dynamics.RELEASE] = np.stack([0.05 + 0.2 * k, 1e-5 + 0.0 * k, 0.0 * k], 1)
        out.append(lanes)
    return out


def block(lanes: dict[int, np.ndarray], parameters: int, pos: int, n: int, pieces: bool) -> np.ndarray:
    """Return the automation rows (``parameters`` of them) of frames ``pos .. pos + n`` of
    ``lanes`` (per parameter, a parabola's v0, b, c every `SPAN` frames): each lane's
    values (`DENSE`), or its pieces."""
    if not lanes:
        return np.zeros((0, 0))
    first, last = pos // SPAN, (pos + n - 1) // SPAN
    auto = np.full((parameters, 1 + max(n, PIECE * (last - first + 1))), np.nan)
    for p, coefficients in lanes.items():
        auto[p, 0] = DENSE
        for k in range(first, last + 1):
            i0 = max(0, k * SPAN - pos)
            u0 = float(pos - k * SPAN)
            v0, b, c = coefficients[k]
            if pieces:
                auto[p, 0] = k - first + 1
                auto[p, 1 + PIECE * (k - first) : 1 + PIECE * (k - first + 1)] = [i0, u0, v0, b, c]
            else:
                u = u0 + np.arange(i0, min(n, (k + 1) * SPAN - pos), dtype=np.float64)
                auto[p, 1 + i0 : 1 + i0 + u.size] = v0 + u * (b + u * c)
    return auto


def _render(sizes: list[int], detection: str, pieces: bool = False, lanes: bool = True) -> np.ndarray:
    rows = 5
    effects = [fx.Compressor(ratio=2.0 + r, knee_db=3.0 * (r % 3), detection=detection) for r in range(rows)]
    for e in effects:
        e.prepare(RATE)
    drawn = _lanes(rows) if lanes else [{}] * rows
    rng = np.random.default_rng(11)
    x = (rng.standard_normal((rows, FRAMES, 2)) * np.linspace(0.01, 1.5, FRAMES)[None, :, None]).astype(np.float32)
    pos, k = 0, 0
    while pos < FRAMES:
        n = min(sizes[k % len(sizes)], FRAMES - pos)
        blocks = [block(a, len(fx.Compressor.PARAMETERS), pos, n, pieces) for a in drawn]
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
        for pieces in (False, True):
            assert np.array_equal(_render(sizes, detection, pieces), frame_by_frame), (sizes, pieces)
    assert np.isfinite(frame_by_frame).all()
    assert not np.array_equal(frame_by_frame, _render([256], detection, lanes=False))  # the lanes tell
