"""Start-up: ``import mixtree``, ``mixtree info``, and ``mixtree play`` until it first prints.

Run: ``python -m bench.startup [PROJECT] [--repeat N]``. Each command runs in a fresh
interpreter ``N`` times (default 7); the best and the median wall-clock seconds are
printed (the best is the figure to compare: a shared machine only ever adds time).
``info`` and ``play`` (null driver, stopped at its first line and at the engine's) need
a project file, e.g. the demo's ``demo-out/demo.json``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path


def best_of(run: Callable[[], float | None], repeat: int) -> tuple[float, float]:
    """Return the best and the median of ``repeat`` timings (a run may time itself)."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        took = run()
        times.append(time.perf_counter() - t0 if took is None else took)
    times.sort()
    return times[0], times[len(times) // 2]


def _quiet(cmd: list[str]) -> Callable[[], None]:
    return lambda: subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True) and None


def _play_line(project: Path, line: int) -> Callable[[], float]:
    def run() -> float:
        cmd = [sys.executable, "-m", "mixtree.cli.main", "play", str(project), "--driver", "null"]
        t0 = time.perf_counter()
        with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as p:
            assert p.stdout is not None
            for _ in range(line):
                p.stdout.readline()
            took = time.perf_counter() - t0
            p.kill()
        return took

    return run


def main(argv: list[str] | None = None) -> None:
    """Print the table."""
    ap = argparse.ArgumentParser(prog="python -m bench.startup", description=__doc__.split("\n")[0])
    ap.add_argument("project", type=Path, nargs="?", help="a project file for info and play")
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args(argv)
    runs: dict[str, Callable[[], float | None]] = {"import mixtree": _quiet([sys.executable, "-c", "import mixtree"])}
    if args.project:
        runs["mixtree info"] = _quiet([sys.executable, "-m", "mixtree.cli.main", "info", str(args.project)])
        runs["mixtree play: first line"] = _play_line(args.project, 1)
        runs["mixtree play: engine up"] = _play_line(args.project, 2)
    print(f"{'command':<28}{'best s':>9}{'median s':>10}   ({args.repeat} runs each)")
    for name, run in runs.items():
        best, median = best_of(run, args.repeat)
        print(f"{name:<28}{best:>9.3f}{median:>10.3f}")


if __name__ == "__main__":
    main()
