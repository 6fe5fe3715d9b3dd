"""Start-up: ``import mixtree``, ``mixtree info``, and ``mixtree play`` until it first prints.

Run: ``python -m bench.startup [PROJECT] [--repeat N]``. Each command runs in a fresh
interpreter ``N`` times (default 7); the best and the median wall-clock seconds are
printed (the best is the figure to compare: a shared machine only ever adds time).
``info`` and ``play`` (null driver, in a pseudo-terminal, stopped when its screen shows
and when the engine is up) need a project file, e.g. the demo's ``demo-out/demo.json``.
"""

from __future__ import annotations

import argparse
import os
import pty
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


def _play_until(project: Path, text: str) -> Callable[[], float]:
    # ``mixtree play`` in a pseudo-terminal (its screen is for one), timed until it shows ``text``
    def run() -> float:
        cmd = [sys.executable, "-m", "mixtree.cli.main", "play", str(project), "--driver", "null"]
        main_fd, child_fd = pty.openpty()
        t0 = time.perf_counter()
        with subprocess.Popen(cmd, stdin=child_fd, stdout=child_fd, stderr=child_fd) as p:
            os.close(child_fd)
            seen = b""
            while text.encode() not in seen:
                chunk = os.read(main_fd, 4096)
                assert chunk, seen.decode(errors="replace")
                seen += chunk
            took = time.perf_counter() - t0
            p.kill()
        os.close(main_fd)
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
        runs["mixtree play: screen"] = _play_until(args.project, "starting")
        runs["mixtree play: engine up"] = _play_until(args.project, "paused")
    print(f"{'command':<28}{'best s':>9}{'median s':>10}   ({args.repeat} runs each)")
    for name, run in runs.items():
        best, median = best_of(run, args.repeat)
        print(f"{name:<28}{best:>9.3f}{median:>10.3f}")


if __name__ == "__main__":
    main()
