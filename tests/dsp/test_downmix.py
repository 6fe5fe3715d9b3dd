import numpy as np
import pytest

from mixtree.dsp.downmix import fold_to_stereo


def test_mono_and_stereo_pass_through():
    x = np.ones((4, 1), np.float32)
    assert fold_to_stereo(x) is x
    y = np.ones((4, 2), np.float32)
    assert fold_to_stereo(y) is y


def test_five_one_folds_by_itu_775():
    x = np.zeros((1, 6), np.float32)
    x[0] = [1.0, 0.0, 1.0, 5.0, 0.0, 1.0]  # L, R, C, LFE, Ls, Rs
    out = fold_to_stereo(x)
    c = np.sqrt(0.5)
    assert out[0] == pytest.approx([1.0 + c, c + c])  # LFE dropped


def test_other_counts_average_even_channels_left_and_odd_right():
    x = np.array([[1.0, 2.0, 3.0]], np.float32)
    assert fold_to_stereo(x)[0] == pytest.approx([2.0, 2.0])
    x4 = np.array([[1.0, 0.0, 1.0, 0.0]], np.float32)
    assert fold_to_stereo(x4)[0] == pytest.approx([1.0, 0.0])
