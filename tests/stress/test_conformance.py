"""The effect conformance grid's quick subset (``python -m tests.stress.conformance --quick``):
every built-in at 48 kHz, blocks 1, 441 and 4096, mono and stereo, passes every check."""

from __future__ import annotations

import numpy as np
import pytest

from mixtree import effects as fx
from tests.stress import conformance


@pytest.mark.parametrize("name", sorted(conformance.builtins()))
def test_a_built_in_effect_passes_every_check_of_the_quick_grid(name: str) -> None:
    grid = conformance.run({name: conformance.builtins()[name]}, **conformance.QUICK)[0]
    assert len(grid.cells) == 6
    assert grid.passed, grid.render()


def test_the_grid_catches_an_effect_that_writes_subnormals() -> None:
    class Subnormal(fx.Effect):
        effect_type = "tests.Subnormal"
        PARAMETERS = ()
        kernel = None

        def process_block(self, block: np.ndarray, sample_rate: int) -> None:
            block[:] = np.where(block == 0.0, np.float32(1e-40), block)

    cell = conformance.check_cell(Subnormal, 48000, 64, 2, builtin=False, tail_seconds=0.1)
    assert "S" in cell.failed and "between 0 and 1e-30" in cell.failed["S"]


def test_the_grid_catches_an_effect_that_explodes() -> None:
    class Loud(fx.Effect):
        effect_type = "tests.Loud"
        PARAMETERS = ()
        kernel = None

        def process_block(self, block: np.ndarray, sample_rate: int) -> None:
            block *= np.float32(1e3)

    cell = conformance.check_cell(Loud, 48000, 256, 1, builtin=False, tail_seconds=0.1)
    assert "B" in cell.failed and "above the bound" in cell.failed["B"]
