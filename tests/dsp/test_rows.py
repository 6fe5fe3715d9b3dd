import numpy as np
import pytest

from mixtree.dsp import jit
from mixtree.dsp.rows import LANES, SLOT, Rows, auto_of, buffer_of, lanes_of, params_of, ramps_of, state_of


def _row(n=3):
    return (np.ones((n, 4)), np.arange(5.0), np.zeros((7, 2), np.float32), np.arange(n), np.full((n, 16), np.nan))


@jit.njit(cache=False)
def _touch(rows):
    # write through every view: the arrays behind the table must change
    for r in range(rows.shape[0]):
        params_of(rows, r)[0, 0] += rows[r, SLOT]
        state_of(rows, r)[4] = -1.0
        buffer_of(rows, r)[6, 1] = 2.0
        auto_of(rows, r)[0, 15] = 0.5
    return ramps_of(rows, rows.shape[0] - 1).sum()


def test_a_kernel_writes_through_the_views_into_the_rows_own_arrays():
    arrays = [_row(), _row(2)]
    rows = Rows([4, 9], arrays)
    assert jit.compiled(_touch)(rows.table) == 1  # the second row's ramps: 0 + 1
    assert [a[0][0, 0] for a in arrays] == [5.0, 10.0]
    assert all(a[1][4] == -1.0 and a[2][6, 1] == 2.0 and a[4][0, 15] == 0.5 for a in arrays)
    part = rows.subset([1])
    assert part.table[0, SLOT] == 9 and part.arrays[0] is arrays[1]


@pytest.mark.parametrize(
    "bad",
    [
        np.ones((3, 4), np.float32),  # a kernel would read float64
        np.ones((4, 3)).T,  # not C-contiguous: strides the view does not carry
        np.ones(12),  # 1-D where the table is 2-D
    ],
)
def test_a_row_whose_array_a_kernel_would_misread_is_refused(bad):
    params, *rest = _row()
    with pytest.raises(ValueError, match="row 0"):
        Rows([0], [(bad, *rest)])


def test_the_table_says_which_parameters_have_a_lane():
    manual, automated = _row(), _row(5)
    automated[4][[1, 4], 0] = [0.0, 2.0]  # rows 1 and 4 hold a lane (values; two pieces)
    rows = Rows([0, 1, 2], [manual, automated, (*manual[:4], np.zeros((0, 0)))])
    assert [jit.compiled(lanes_of)(rows.table, r) for r in range(3)] == [0, 0b10010, 0]
    assert rows.subset([1]).table[0, LANES] == 0b10010
