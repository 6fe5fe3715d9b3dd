"""Drive fuzz targets for a budget in child processes: the seeded mutator, or atheris
(coverage-guided, libFuzzer's engine) where it is installed. A child that dies on an input
(a crash, a hang past the per-input limit, memory past the bound) has that input kept and
is started again for what is left of the budget."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from fuzz.worker import CURRENT, INPUT_SECONDS, RSS_BOUND_MB

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Result:
    """What fuzzing one target found: ``inputs`` run over ``seconds``, ``failures`` (each
    a saved input and why), the ``engine`` used."""

    target: str
    engine: str
    inputs: int = 0
    seconds: float = 0.0
    failures: list[str] = field(default_factory=list)


def have_atheris() -> bool:
    """Return True if atheris can be imported here."""
    return importlib.util.find_spec("atheris") is not None


def _env() -> dict[str, str]:
    # the children import this checkout's mixtree (src/) and the fuzz package (the root)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def _keep_current(crashes: Path, name: str, suffix: str, why: str) -> str:
    current = crashes / f".{CURRENT}-{name}"
    if not current.exists():
        return f"(input lost) {why}"
    kept = crashes / f"{name}-{why.split()[0]}-{int(time.time() * 1000) % 10**9}{suffix}"
    current.replace(kept)
    kept.with_name(kept.name + ".txt").write_text(why + "\n")
    return f"{kept}: {why}"


def _death(returncode: int, stderr: str) -> str:
    if "Timeout" in stderr:
        return f"hang: one input ran past the {INPUT_SECONDS:.0f} s limit"
    if returncode < 0:
        return f"crash: killed by signal {-returncode}"
    tail = stderr.strip().splitlines()[-1:] or ["no output"]
    return f"crash: exit code {returncode} ({tail[0][:200]})"


def run_mutator(
    names: list[str],
    suffixes: dict[str, str],
    crashes: Path,
    seconds: float = 60.0,
    inputs: int = 10**9,
    seed: int = 0,
    system: bool = False,
) -> list[Result]:
    """Fuzz each of ``names`` with the seeded mutator, ``inputs`` or ``seconds`` each, in one
    child process, restarted after a death on the targets not yet done."""
    results = {name: Result(name, "mutator") for name in names}
    pending = list(names)
    restarts = 0
    while pending:
        command = [sys.executable, "-m", "fuzz.worker", "--targets", ",".join(pending), "--crashes", str(crashes)]
        command += ["--inputs", str(inputs), "--seconds", str(seconds), "--seed", str(seed + 1000 * restarts)]
        command += ["--system"] if system else []
        proc = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=_env(), check=False)
        for line in proc.stdout.splitlines():
            if line.startswith("{"):
                done = json.loads(line)
                result = results[done["target"]]
                result.inputs += done["inputs"]
                result.seconds += done["seconds"]
                result.failures += done["failures"]
                pending.remove(done["target"])
        if proc.returncode != 0 and pending:
            name = pending.pop(0) if restarts >= 20 else pending[0]  # a target that keeps dying is given up
            results[name].failures.append(
                _keep_current(crashes, name, suffixes[name], _death(proc.returncode, proc.stderr))
            )
            restarts += 1
        elif proc.returncode != 0:
            raise RuntimeError(f"the fuzz worker failed: {proc.stderr[-2000:]}")
    return [results[name] for name in names]


_STAT = re.compile(r"stat::number_of_executed_units:\s*(\d+)")


def run_atheris(name: str, crashes: Path, corpus: Path, seconds: float, seed: int = 0, system: bool = False) -> Result:
    """Fuzz ``name`` with atheris for ``seconds``, its corpus kept in ``corpus``; a crash,
    a hang (libFuzzer's ``-timeout``) or memory past the bound (``-rss_limit_mb``) is kept
    in ``crashes`` and the run goes on with what is left."""
    result = Result(name, "atheris")
    end = time.monotonic() + seconds
    corpus.mkdir(parents=True, exist_ok=True)
    crashes.mkdir(parents=True, exist_ok=True)
    while (left := end - time.monotonic()) > 1.0:
        started = time.monotonic()
        command = [sys.executable, "-m", "fuzz.atheris_main", name, "--seed-corpus", str(corpus)]
        command += ["--system"] if system else []
        command += [
            str(corpus),
            f"-max_total_time={int(left)}",
            f"-timeout={int(INPUT_SECONDS)}",
            f"-rss_limit_mb={RSS_BOUND_MB + 1536}",  # the interpreter, numpy, numba and scipy take ~1.5 GiB at most
            f"-seed={seed + 1 + len(result.failures)}",
            "-max_len=1048576",
            "-print_final_stats=1",
            f"-artifact_prefix={crashes}/{name}-",
        ]
        proc = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=_env(), check=False)
        result.seconds += time.monotonic() - started
        result.inputs += sum(int(n) for n in _STAT.findall(proc.stderr))
        if proc.returncode != 0:
            artifact = re.findall(r"Test unit written to (\S+)", proc.stderr)
            said = (proc.stdout + proc.stderr).splitlines()
            reason = next((line for line in said if "PropertyViolation" in line or "undocumented" in line), "")
            reason = reason or _death(proc.returncode, proc.stderr)
            result.failures.append(f"{artifact[-1] if artifact else '(no artifact)'}: {reason[:300]}")
            if not artifact:
                break  # it did not start: say so rather than loop
    return result
