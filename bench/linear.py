"""Does cost grow linearly? Block cost against track count and against chain length.

Run: ``python -m bench.linear [--block 256] [--seconds 2]``. Times a live plan's blocks
for 8 → 256 tracks (4 effects each) and for 1 → 16 effects (32 tracks), fits a line
through each series by least squares and prints the slope (µs per track, µs per effect
per track) and each point's deviation from the line, the largest last. Every point is
the best of three medians, measured in one process.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from bench.__main__ import RATE, Session, chain8
from mixtree import effects as fx
from mixtree.render.compile import CompileOptions, compile_plan

TRACKS = (8, 16, 32, 64, 128, 256)
EFFECTS = (1, 2, 4, 8, 12, 16)


def chain(n: int) -> list[fx.Effect]:
    """Return the first ``n`` of 16 effects: the 8-effect strip, then 8 more without memory to spare."""
    more = [
        fx.Filter("lowshelf", 200.0, gain_db=2.0),
        fx.EQ3(mid_db=1.0),
        fx.Compressor(threshold_db=-24.0),
        fx.Gain(db=-0.5),
        fx.Filter("peak", 1000.0, 1.0, -2.0),
        fx.Pan(pan=-0.1),
        fx.Gain(db=0.5),
        fx.Filter("highshelf", 8000.0, gain_db=-1.0),
    ]
    return (chain8() + more)[:n]


def block_cost(s: Session, tracks: int, effects: int, block: int, repeat: int = 3) -> float:
    """Return the seconds one ``block``-frame block of ``tracks`` × ``effects`` takes (best of medians)."""
    p = s.project(tracks, lambda: chain(effects))
    plan = compile_plan(p, CompileOptions(max_block=block))
    out = np.zeros((block, 2), np.float32)
    count = int(s.seconds * RATE) // block
    for b in range(4):
        plan.process(out, b * block)
    best = float("inf")
    for _ in range(repeat):
        times = np.empty(count)
        for b in range(count):
            t0 = time.perf_counter()
            plan.process(out, b * block)
            times[b] = time.perf_counter() - t0
        best = min(best, float(np.median(times)))
    return best


def fit(xs: tuple[int, ...], ys: list[float]) -> tuple[float, float, list[float]]:
    """Return the slope, intercept and each point's relative deviation from the least-squares line."""
    slope, intercept = np.polyfit(np.array(xs, float), np.array(ys), 1)
    return float(slope), float(intercept), [y / (slope * x + intercept) - 1.0 for x, y in zip(xs, ys, strict=True)]


def _table(title: str, unit: str, xs: tuple[int, ...], ys: list[float], per: int) -> list[str]:
    slope, intercept, dev = fit(xs, ys)
    lines = [title, f"  {'n':>5}{'µs/block':>11}{'vs line':>9}"]
    lines += [f"  {x:>5}{y * 1e6:>11.1f}{d:>+9.1%}" for x, y, d in zip(xs, ys, dev, strict=True)]
    worst = max(range(len(xs)), key=lambda k: abs(dev[k]))
    off = ys[worst] - (slope * xs[worst] + intercept)
    lines.append(
        f"  slope {slope * 1e6 / per:.3f} µs {unit}, intercept {intercept * 1e6:.1f} µs; largest deviation "
        f"from linear {dev[worst]:+.1%} ({off * 1e6:+.1f} µs) at n = {xs[worst]}"
    )
    return lines


def main(argv: list[str] | None = None) -> None:
    """Print both series and their slopes."""
    ap = argparse.ArgumentParser(prog="python -m bench.linear", description=__doc__.split("\n")[0])
    ap.add_argument("--block", type=int, default=256)
    ap.add_argument("--seconds", type=float, default=2.0)
    args = ap.parse_args(argv)
    s = Session(args.seconds)
    try:
        by_tracks = [block_cost(s, n, 4, args.block) for n in TRACKS]
        by_effects = [block_cost(s, 32, n, args.block) for n in EFFECTS]
    finally:
        s.close()
    lines = _table(f"Tracks 8 → 256, 4 effects each, {args.block}-frame blocks", "per track", TRACKS, by_tracks, 1)
    lines += _table(f"Effects 1 → 16 on 32 tracks, {args.block}-frame blocks", "per effect per track", EFFECTS,
                    by_effects, 32)  # fmt: skip
    print("\n".join(lines))


if __name__ == "__main__":
    main()
