"""A batched stage's rows as one integer table: kernels view each row's arrays without
counting references.

A kernel indexing a typed list of arrays, or handing an array to a compiled call it does
not inline, counts a reference to it (an atomic increment and decrement, some 6 ns; see
`mixtree.dsp`): with 128 tracks × 8 effects, five lists and several calls a row, that
was a tenth of a block. A `Rows` table holds, per row, the track's slot and the address
and shape of each of its arrays (parameter table, state, buffer, ramps, automation); the
kernels make views of them (`params_of`, ...) that carry no reference count. The arrays
stay the effects' own (`Effect.memory`): the control side's parameter writes and the
state carry over from plan to plan, and the `Rows` object keeps them alive.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mixtree.dsp.jit import njit, on_load

#: Columns of a row: its slot; then address and shape of its parameter table (float64
#: ``(parameters, 4)``), state (float64), buffer (float32 ``(frames, channels)``), ramps
#: (int64) and automation (float64 ``(parameters, frames)``, or ``(0, 0)``); then which
#: parameters have a lane, as bits (`lanes_of`).
SLOT, PARAMS, STATE, BUFFER, RAMPS, AUTO, LANES = 0, 1, 4, 6, 9, 11, 14
WIDTH = 15

#: Each kind of array: its column, dtype and number of dimensions.
KINDS = (
    (PARAMS, np.float64, 2),
    (STATE, np.float64, 1),
    (BUFFER, np.float32, 2),
    (RAMPS, np.int64, 1),
    (AUTO, np.float64, 2),
)


class Rows:
    """The table (int64 ``(rows, WIDTH)``) a batched kernel takes, and the arrays it
    points into (kept alive as long as it is). Control side."""

    __slots__ = ("table", "arrays")

    def __init__(self, slots: list[int], arrays: list[tuple[np.ndarray, ...]]) -> None:
        self.arrays = tuple(arrays)
        self.table = np.zeros((len(slots), WIDTH), np.int64)
        for r, (slot, row) in enumerate(zip(slots, arrays, strict=True)):
            self.table[r, SLOT] = slot
            for (column, dtype, ndim), a in zip(KINDS, row, strict=True):
                if a.dtype != dtype or a.ndim != ndim or not a.flags.c_contiguous or not a.flags.writeable:
                    raise ValueError(
                        f"row {r}: a {a.dtype} {a.shape} array where a kernel reads {ndim}-D {np.dtype(dtype)}"
                    )
                self.table[r, column] = a.ctypes.data
                self.table[r, column + 1 : column + 1 + ndim] = a.shape
            self.table[r, LANES] = _lane_bits(row[-1])

    def subset(self, rows: list[int]) -> Rows:
        """Return the table of ``rows`` alone (their arrays, not copies)."""
        return Rows([int(self.table[r, SLOT]) for r in rows], [self.arrays[r] for r in rows])


def _lane_bits(auto: np.ndarray) -> int:
    # the rows of an automation array that hold a lane (column 0 not NaN: see
    # `mixtree.dsp.smoothing`), as bits; fixed for the array's life (a block's fill
    # writes a lane's row, never a NaN one)
    return sum(1 << int(p) for p in np.flatnonzero(~np.isnan(auto[:, 0]))) if auto.size else 0


def _load(numba: Any) -> None:
    # the views' makings, which only numba can give: numba.carray, and an address as a
    # typed pointer (an intrinsic: one LLVM inttoptr)
    from numba import types
    from numba.core.extending import intrinsic

    @intrinsic
    def pointer(typingctx: Any, address: Any, dtype: Any) -> Any:
        sig = types.CPointer(dtype.dtype)(address, dtype)

        def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
            return builder.inttoptr(args[0], context.get_value_type(signature.return_type))

        return sig, codegen

    globals().update(carray=numba.carray, _pointer=pointer)


on_load(_load)


@njit(cache=True, inline="always")
def params_of(rows: np.ndarray, r: int) -> np.ndarray:
    """Return row ``r``'s parameter table (see `mixtree.dsp.smoothing`)."""
    return carray(_pointer(rows[r, PARAMS], np.dtype(np.float64)), (rows[r, PARAMS + 1], rows[r, PARAMS + 2]))  # noqa: F821


@njit(cache=True, inline="always")
def state_of(rows: np.ndarray, r: int) -> np.ndarray:
    """Return row ``r``'s state."""
    return carray(_pointer(rows[r, STATE], np.dtype(np.float64)), (rows[r, STATE + 1],))  # noqa: F821


@njit(cache=True, inline="always")
def buffer_of(rows: np.ndarray, r: int) -> np.ndarray:
    """Return row ``r``'s buffer (a delay's line, a reverb's lines)."""
    return carray(_pointer(rows[r, BUFFER], np.dtype(np.float32)), (rows[r, BUFFER + 1], rows[r, BUFFER + 2]))  # noqa: F821


@njit(cache=True, inline="always")
def ramps_of(rows: np.ndarray, r: int) -> np.ndarray:
    """Return row ``r``'s ramp lengths, frames."""
    return carray(_pointer(rows[r, RAMPS], np.dtype(np.int64)), (rows[r, RAMPS + 1],))  # noqa: F821


@njit(cache=True, inline="always")
def auto_of(rows: np.ndarray, r: int) -> np.ndarray:
    """Return row ``r``'s automation for the block (see `mixtree.dsp.smoothing.value_at`)."""
    return carray(_pointer(rows[r, AUTO], np.dtype(np.float64)), (rows[r, AUTO + 1], rows[r, AUTO + 2]))  # noqa: F821


@njit(cache=True, inline="always")
def lanes_of(rows: np.ndarray, r: int) -> int:
    """Return which of row ``r``'s parameters have a lane, as bits (set when the table
    was made: a kernel reads them here, without touching every parameter's row of its
    automation, which lie a block's length apart)."""
    return rows[r, LANES]


@njit(cache=True, inline="always")
def floats_at(address: int, n: int) -> np.ndarray:
    """Return a view of the ``n`` float64 values at ``address`` (one row of an array the
    caller keeps alive), without a reference count."""
    return carray(_pointer(address, np.dtype(np.float64)), (n,))  # noqa: F821
