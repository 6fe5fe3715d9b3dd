"""Where a block's time goes: clip reading, each effect kernel, faders, mixing, Python.

Run: ``python -m bench.profile [--tracks 128] [--effects 8] [--block 256] [--automated]
[--offline]``. Renders the bench suite's session block by block through a live plan (or
an offline render's: ``--offline``) twice, side by side: once as
the engine's callback does, once with every compiled call the block loop makes timed on
its own. It prints each stage's mean µs per block and share of the period; "Python" is
the plain run's time minus every timed call's, the interpreter's share of a block.
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import numpy as np

from bench.__main__ import RATE, Session, chain4, chain8
from mixtree.model.project import Project
from mixtree.render import plan as plan_module
from mixtree.render.compile import CompileOptions, compile_plan
from mixtree.render.plan import RenderPlan
from mixtree.render.stages import BatchStage

#: The plan module's compiled calls, by the stage name they are reported under.
STAGES = {
    "clear": "clip reading",
    "read_clips": "clip reading",
    "read_varispeed": "clip reading",
    "fill_warps": "clip reading",
    "fader_stage": "faders, sends, lanes",
    "fill_parameters": "held lanes",
    "mix_sends": "mixing (sends)",
    "delay_slots": "mixing (delays)",
    "mix_into_parents": "mixing + meters",
    "write_output": "output + meters",
}


def _timed(fn: Callable[..., Any], name: str, spent: dict[str, float]) -> Callable[..., Any]:
    def run(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        result = fn(*args, **kwargs)
        spent[name] += time.perf_counter() - t0
        return result

    return run


def _blocks(plan: RenderPlan, block: int, count: int) -> float:
    out = np.zeros((block, 2), np.float32)
    t0 = time.perf_counter()
    for b in range(count):
        plan.process(out, b * block)
    return (time.perf_counter() - t0) / count


def profile(
    tracks: int,
    effects: int,
    block: int,
    seconds: float = 4.0,
    repeat: int = 3,
    automated: bool = False,
    offline: bool = False,
) -> dict[str, float]:
    """Return mean seconds per block by stage (and ``"total"``, ``"Python"``), best of
    ``repeat``; ``automated``: with `bench.automation`'s four moving lanes on every track;
    ``offline``: an offline render's plan (fresh, no meters) instead of a live one."""
    s = Session(seconds)
    try:
        p = s.project(tracks, chain4 if effects == 4 else chain8)
        if automated:
            from bench.automation import automate

            automate(p, seconds)
        return profile_project(p, block, seconds, repeat, offline)
    finally:
        s.close()


def profile_project(p: Project, block: int, seconds: float, repeat: int = 3, offline: bool = False) -> dict[str, float]:
    """Return mean seconds per block of ``p`` by stage, best of ``repeat`` (see `profile`)."""
    count = int(seconds * RATE) // block
    plain = compile_plan(p, CompileOptions(max_block=block, fresh=offline))
    timed = compile_plan(p, CompileOptions(max_block=block, fresh=offline))
    spent: dict[str, float] = defaultdict(float)
    _blocks(plain, block, 4)  # first blocks: loading, and binding the plain plan's calls
    saved = {name: getattr(plan_module, name) for name in STAGES}
    for name, fn in saved.items():
        setattr(plan_module, name, _timed(fn, STAGES[name], spent))
    for stages in (*timed.level_stages, timed.master_stages):
        for stage in stages:
            if isinstance(stage, BatchStage):
                kind = type(stage.effects[0]).__name__
                stage.kernel = _timed(stage.kernel, f"effect: {kind}", spent)
    try:
        _blocks(timed, block, 4)  # (binds the timed plan's calls to the timers)
        best_total = float("inf")
        best_parts: dict[str, float] = {}
        for _ in range(repeat):
            total = _blocks(plain, block, count)
            spent.clear()
            _blocks(timed, block, count)
            if total < best_total:
                best_total, best_parts = total, {k: v / count for k, v in spent.items()}
    finally:
        for name, fn in saved.items():
            setattr(plan_module, name, fn)
    best_parts["Python"] = best_total - sum(best_parts.values())
    best_parts["total"] = best_total
    return best_parts


def main(argv: list[str] | None = None) -> None:
    """Print the per-stage table."""
    ap = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__.split("\n")[0])
    ap.add_argument("--tracks", type=int, default=128)
    ap.add_argument("--effects", type=int, choices=(4, 8), default=8)
    ap.add_argument("--block", type=int, default=256)
    ap.add_argument("--automated", action="store_true", help="with four moving lanes on every track")
    ap.add_argument("--offline", action="store_true", help="an offline render's plan (no meters)")
    args = ap.parse_args(argv)
    parts = profile(args.tracks, args.effects, args.block, automated=args.automated, offline=args.offline)
    period = args.block / RATE
    print(f"{args.tracks} tracks × {args.effects} effects, {args.block}-frame blocks at {RATE} Hz (best of 3)")
    print(f"  {'stage':<28}{'µs/block':>10}{'of period':>11}")
    for name, secs in sorted(parts.items(), key=lambda kv: (kv[0] == "total", -kv[1])):
        print(f"  {name:<28}{secs * 1e6:>10.1f}{secs / period:>11.1%}")


if __name__ == "__main__":
    main()
