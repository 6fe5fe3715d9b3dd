"""Compiled kernels over arrays; no model, no objects, audio-thread safe.

The kernels keep the GIL while they run: a kernel that released it would have to win it
back afterwards, and under a busy control thread that costs up to a switch interval per
call, several times a block (measured: p99 load 49 % instead of 4.5 % at 256 frames while
another thread recompiled plans in a loop, `python -m bench.realtime`).

Handing an array to a compiled function, or a tuple of them (a `LaneTable` holds twenty),
counts a reference of each, an atomic increment and decrement some 6 ns an array: loops
over slots or lanes take their arrays out of the tuples once, before the loop, and pass
indices (measured: 0.2 µs a lane, `dsp.lanes.fill_parameters`). The batched effect
kernels take their rows' arrays as a `dsp.rows.Rows` table for the same reason.
"""
