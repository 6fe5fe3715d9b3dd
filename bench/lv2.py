"""What hosting an LV2 plugin costs: `Lv2Plugin.process` against the plugin's bare run call.

Run: ``python -m bench.lv2 [--plugin URI] [--calls N]``. In one process, times
``process`` (copy in, run, copy out) and the descriptor's ``run`` called straight through
ctypes (what the inline ``lilv_instance_run`` does) at 64/256/1024 frames, then the cost
of listing the installed plugins and of one instantiate/activate/close cycle.
"""

from __future__ import annotations

import argparse
import time
import timeit

import numpy as np

from mixtree.effects.plugins.lv2 import Lv2Plugin, list_lv2

RATE = 48000


def per_call(fn: object, calls: int) -> float:
    """Return the best of five timings of ``fn``, microseconds per call."""
    return min(timeit.repeat(fn, number=calls, repeat=5)) / calls * 1e6


def main() -> None:
    """Print the per-block table and the one-off costs."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--plugin", default="http://lv2plug.in/plugins/eg-amp")
    parser.add_argument("--calls", type=int, default=100_000)
    args = parser.parse_args()
    plugin = Lv2Plugin(args.plugin, RATE, 1024)
    plugin.activate(RATE, 1024)
    inputs = (np.random.default_rng(0).standard_normal((1024, plugin.info.inputs)) * 0.1).astype(np.float32)
    outputs = np.zeros((1024, plugin.info.outputs), np.float32)
    run, handle = plugin._run, plugin._handle  # the bare call, for comparison only
    print(f"{args.plugin}: µs per block (best of 5 × {args.calls})")
    print(f"{'frames':>7} {'process':>9} {'bare run':>9} {'overhead':>9}")
    for frames in (64, 256, 1024):
        hosted = per_call(lambda frames=frames: plugin.process(inputs, outputs, frames, None), args.calls)
        bare = per_call(lambda frames=frames: run(handle, frames), args.calls)
        print(f"{frames:>7} {hosted:>9.2f} {bare:>9.2f} {hosted - bare:>9.2f}")
    plugin.close()
    start = time.perf_counter()
    count = len(list_lv2())
    print(f"list_lv2: {count} plugins in {(time.perf_counter() - start) * 1e3:.0f} ms")
    start = time.perf_counter()
    for _ in range(200):
        cycle = Lv2Plugin(args.plugin, RATE, 256)
        cycle.activate(RATE, 256)
        cycle.close()
    print(f"instantiate + activate + close: {(time.perf_counter() - start) / 200 * 1e3:.2f} ms")


if __name__ == "__main__":
    main()
