import numpy as np

from mixtree import effects as fx
from mixtree.dsp.delay import _behind, _read_point
from tests.conftest import RATE


def test_a_read_point_a_hair_before_the_write_point_stays_inside_the_line():
    size = 192002
    w, d = 3360, 0.07 * RATE  # 3360.0000000000005 frames
    n, f = _read_point(d)
    assert (n, 0.0 < f < 1e-9) == (3360, True)
    assert _behind(w, n, size) == 0 and _behind(0, 1, size) == size - 1  # the frame before wraps to the end
    assert _read_point(2.25) == (2, 0.25) and _behind(10, 2, size) == 8


def test_the_read_point_interpolates_between_the_two_frames_around_the_delay():
    x = np.zeros((RATE, 2), np.float32)
    x[0] = 1.0
    y = fx.Delay(time=100.25 / RATE, feedback=0.0, mix=1.0).process(x, RATE)
    assert np.flatnonzero(y[:, 0]).tolist() == [100, 101]
    assert y[100, 0] == 0.75 and y[101, 0] == 0.25


def test_a_delay_of_a_time_that_rounds_past_a_whole_frame_renders_the_same_at_every_block_size(project, wav):
    # before the fix its read point once a line's length fell one past the end: garbage
    # from beyond the line, NaN in a metatrack's child, results that changed with the block size
    noise = (np.random.default_rng(1).standard_normal((3 * RATE, 2)) * 0.2).astype(np.float32)
    t = project.add_audio_track("t")
    t.add_clip(project.pool.load(wav(noise)), duration=2.5)
    t.add_effect(fx.Delay(time=0.07, feedback=0.3, mix=0.3))
    renders = [project.render(0.0, 4.0, blocksize=b) for b in (512, 4096, 257)]
    assert np.isfinite(renders[0]).all()
    assert all(np.array_equal(renders[0], r) for r in renders[1:])
