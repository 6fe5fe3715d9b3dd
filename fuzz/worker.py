"""Run fuzz targets in this (child) process: seeded mutations for a budget, each input under
a time limit (the process exits if one overruns) and the process under a memory bound.

``python -m fuzz.worker --targets a,b --inputs N --seconds S --seed K --crashes DIR`` prints
one JSON line per target: inputs run, failures (each saved to ``DIR``).
"""

from __future__ import annotations

import argparse
import faulthandler
import hashlib
import json
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

from fuzz.mutate import mutate_safely
from fuzz.targets import PropertyViolation, Target, check, targets

#: The time one input may take before the worker is stopped and the input kept as a hang, s.
INPUT_SECONDS = 10.0

#: How far the worker's peak resident memory may rise above its level after the seeds, MiB:
#: a header that claims 2^40 frames or 2^16 channels must not make anything allocate it.
RSS_BOUND_MB = 512

#: Where an input is written as it runs, so the parent can keep it if the worker dies on it.
CURRENT = "current"


def save_failure(crashes: Path, target: Target, data: bytes, kind: str, reason: str) -> Path:
    """Keep ``data`` (and why it failed) in ``crashes``, named by its hash; return the file."""
    crashes.mkdir(parents=True, exist_ok=True)
    name = f"{target.name}-{kind}-{hashlib.sha1(data).hexdigest()[:12]}{target.suffix}"
    (crashes / name).write_bytes(data)
    (crashes / f"{name}.txt").write_text(reason + "\n")
    return crashes / name


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def fuzz_target(
    target: Target,
    inputs: int,
    seconds: float,
    seed: int,
    crashes: Path,
    system: bool = False,
    timeout: float = INPUT_SECONDS,
    rss_bound_mb: float = RSS_BOUND_MB,
) -> dict[str, object]:
    """Run ``target``'s seeds, then mutations of them until ``inputs`` ran or ``seconds`` passed.

    Returns a summary: ``inputs`` run, ``failures`` (reasons, with the saved file),
    ``peak_rss_mb`` above the level after the seeds, ``seeds`` used.
    """
    rng = random.Random(seed)
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix=f"fuzz-{target.name}-") as tmp:
        scratch = Path(tmp)
        seeds = target.seeds(scratch, system)
        folder = scratch / "in"
        folder.mkdir()
        target.companions(folder)
        current = crashes / f".{CURRENT}-{target.name}"
        crashes.mkdir(parents=True, exist_ok=True)
        start = time.monotonic()
        base = None
        count = 0
        while count < inputs and time.monotonic() - start < seconds:
            data = seeds[count] if count < len(seeds) else mutate_safely(target.mutate, rng.choice(seeds), rng, seeds)
            current.write_bytes(data)
            faulthandler.dump_traceback_later(timeout, exit=True)
            try:
                check(target, data, folder)
            except PropertyViolation as exc:
                failures.append(f"{save_failure(crashes, target, data, 'error', str(exc))}: {str(exc).splitlines()[0]}")
            finally:
                faulthandler.cancel_dump_traceback_later()
            count += 1
            if count == len(seeds):
                base = _peak_mb()
            elif base is not None and _peak_mb() - base > rss_bound_mb:
                reason = f"peak RSS rose {_peak_mb() - base:.0f} MiB above the seeds' level (bound {rss_bound_mb} MiB)"
                failures.append(f"{save_failure(crashes, target, data, 'memory', reason)}: {reason}")
                break  # the peak stays: later inputs could not be judged
        current.unlink(missing_ok=True)
    return {
        "target": target.name,
        "inputs": count,
        "seeds": len(seeds),
        "seconds": round(time.monotonic() - start, 2),
        "failures": failures,
        "peak_rss_mb": round(_peak_mb() - (base or _peak_mb()), 1),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the targets named on the command line; print a JSON summary line for each."""
    parser = argparse.ArgumentParser(prog="python -m fuzz.worker")
    parser.add_argument("--targets", required=True, help="comma-separated target names")
    parser.add_argument("--inputs", type=int, default=10**9)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--crashes", type=Path, required=True)
    parser.add_argument("--system", action="store_true", help="seed from Debian's sounds too")
    parser.add_argument("--timeout", type=float, default=INPUT_SECONDS)
    args = parser.parse_args(argv)
    known = targets()
    for name in args.targets.split(","):
        summary = fuzz_target(
            known[name], args.inputs, args.seconds, args.seed, args.crashes, args.system, args.timeout
        )
        print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
