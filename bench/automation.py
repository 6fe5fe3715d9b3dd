"""What automation costs: a session played and rendered with lanes on every track, and static.

Run: ``python -m bench.automation [--quick]``. 128 tracks of noise, each through a low
shelf, a high shelf, a compressor and a gain; the automated session adds four lanes per
track (volume, pan, the low shelf's gain and the compressor's threshold, each a curve
moving all the time). Prints the real-time DSP load at 256 frames (mean, p99) of both,
side by side, their ratio, and the offline render time of both: the median of
``--rounds`` rounds in which the two sessions alternate.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

import mixtree as mt
from bench.__main__ import chain4
from bench.realtime import dsp_load, session

RATE = 48000


def automate(p: mt.Project, seconds: float) -> None:
    """Give every track volume, pan, low-shelf-gain and threshold lanes that keep moving."""
    for i, t in enumerate(p.tracks):
        shelf, _, comp, _ = t.effects
        lanes = [
            (t.automate("volume_db"), -12.0, 0.0),
            (t.automate("pan"), -0.8, 0.8),
            (shelf.automate("gain_db"), -6.0, 6.0),
            (comp.automate("threshold_db"), -30.0, -6.0),
        ]
        for k, (lane, low, high) in enumerate(lanes):
            points = []
            for n in range(int(seconds) + 2):
                value = low if (n + i + k) % 2 else high
                points.append((float(n) + 0.1 * k, value, ("linear", "s_curve", "bend", "smooth")[k], 0.3))
            lane.set_points(points)


def build(folder: Path, tracks: int, seconds: float, automated: bool) -> mt.Project:
    """Return the benchmark session, with or without its lanes."""
    p = session(folder, tracks, max(seconds, 7.0))  # its clips reach 6.5 s into the sources
    for t in p.tracks:
        for e in chain4():
            t.add_effect(e)
    if automated:
        automate(p, seconds)
    return p


def main(argv: list[str] | None = None) -> None:
    """Print the comparison."""
    ap = argparse.ArgumentParser(prog="python -m bench.automation", description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="a seconds-long smoke run")
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds of both sessions (median shown)")
    args = ap.parse_args(argv)
    tracks, seconds = (16, 2.0) if args.quick else (128, 10.0)
    rounds = 1 if args.quick else max(1, args.rounds)
    with tempfile.TemporaryDirectory(prefix="mixtree-bench-") as tmp:
        folder = Path(tmp)
        sessions = {
            "static": build(folder, tracks, seconds + 2, automated=False),
            "automated": build(folder, tracks, seconds + 2, automated=True),
        }
        print(f"Automation, {tracks} tracks x (low shelf, high shelf, compressor, gain), 256-frame callbacks")
        print(f"  median of {rounds} rounds, the two sessions alternating (this machine's load drifts)")
        print(f"  {'session':<12} {'mean':>8} {'p99':>8} {'render s':>9}")
        runs: dict[str, list[tuple[float, float, float]]] = {name: [] for name in sessions}
        for _ in range(rounds):
            for name, p in sessions.items():
                loads = dsp_load(p, 256, seconds)[1:]
                t0 = time.perf_counter()
                p.render(0.0, seconds)
                runs[name].append((loads.mean(), float(np.percentile(loads, 99)), time.perf_counter() - t0))
        rows = {name: tuple(float(np.median(column)) for column in zip(*r, strict=True)) for name, r in runs.items()}
        for name, (mean, p99, took) in rows.items():
            print(f"  {name:<12} {mean:>8.1%} {p99:>8.1%} {took:>9.3f}")
        (sm, sp, st), (am, ap_, at) = rows["static"], rows["automated"]
        print(f"  automated / static: mean {am / sm:.2f}x, p99 {ap_ / sp:.2f}x, render {at / st:.2f}x")


if __name__ == "__main__":
    main()
