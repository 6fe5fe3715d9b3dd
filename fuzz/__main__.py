"""``python -m fuzz --minutes N`` fuzzes every target for N minutes in all (atheris where it
is installed, else the seeded mutator); ``--quick`` runs a fixed number of seeded inputs per
target (what CI runs). It prints a line per target and exits 1 if any input broke the property."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from fuzz.engines import Result, have_atheris, run_atheris, run_mutator
from fuzz.targets import targets

#: Inputs per target in ``--quick`` mode (seeded: the same inputs every run).
QUICK_INPUTS = 150


def report(results: list[Result]) -> str:
    """Return the table of what each target ran and found."""
    lines = [f"{'target':<14} {'engine':<8} {'inputs':>9} {'seconds':>8} {'inputs/s':>9}  failures"]
    for r in results:
        rate = r.inputs / r.seconds if r.seconds else 0.0
        lines.append(f"{r.target:<14} {r.engine:<8} {r.inputs:>9} {r.seconds:>8.1f} {rate:>9.0f}  {len(r.failures)}")
        lines += [f"    {failure}" for failure in r.failures]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the fuzz targets; return 1 if any input broke the property."""
    parser = argparse.ArgumentParser(prog="python -m fuzz", description=__doc__)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--minutes", type=float, default=None, help="the whole budget, shared by the targets")
    mode.add_argument("--quick", action="store_true", help=f"{QUICK_INPUTS} seeded inputs per target")
    parser.add_argument("--targets", default=None, help="comma-separated names (default: all)")
    parser.add_argument("--engine", choices=("auto", "atheris", "mutator"), default="auto")
    parser.add_argument("--out", type=Path, default=None, help="where crashes and corpora go (default: a temp folder)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    known = targets()
    names = args.targets.split(",") if args.targets else list(known)
    out = args.out or Path(tempfile.mkdtemp(prefix="mixtree-fuzz-"))
    crashes = out / "crashes"
    suffixes = {name: known[name].suffix for name in names}
    if args.quick or args.minutes is None:
        results = run_mutator(names, suffixes, crashes, seconds=600.0, inputs=QUICK_INPUTS, seed=args.seed)
    else:
        each = args.minutes * 60.0 / len(names)
        engine = "atheris" if args.engine == "atheris" or (args.engine == "auto" and have_atheris()) else "mutator"
        if engine == "atheris":
            results = [run_atheris(n, crashes, out / "corpus" / n, each, args.seed, system=True) for n in names]
        else:
            results = [run_mutator([n], suffixes, crashes, seconds=each, seed=args.seed, system=True)[0] for n in names]
    print(report(results))
    print(f"crashes and corpora in {out}")
    return 1 if any(r.failures for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
