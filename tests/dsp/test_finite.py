import numpy as np

from mixtree.dsp.finite import zero_nonfinite


def test_nan_and_infinities_become_zero_and_the_rest_is_untouched():
    data = np.random.default_rng(1).standard_normal((1000, 2)).astype(np.float32)
    data[3, 1], data[500, 0], data[999, 1] = np.nan, np.inf, -np.inf
    data[7, 0] = np.finfo(np.float32).max  # the largest finite value stays
    data[8, 0] = np.finfo(np.float32).tiny / 4  # so does a denormal
    want = np.where(np.isfinite(data), data, 0.0)
    assert zero_nonfinite(data)
    assert np.array_equal(data, want)
    assert not zero_nonfinite(data)  # nothing left to find
    assert np.array_equal(data, want)


def test_a_slice_of_rows_is_scanned_alone():
    data = np.ones((100, 1), np.float32)
    data[50, 0] = np.nan
    assert not zero_nonfinite(data[:50])
    assert zero_nonfinite(data[40:60]) and data[50, 0] == 0.0
