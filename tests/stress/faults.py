"""Saves under injected faults: a child process killed (SIGKILL) at a random point of a run
of saves of a large project, a disk that fills (RLIMIT_FSIZE in a child).

``python -m tests.stress.faults --kills N`` kills N children, each at a random moment of its
saves (within ``--seconds``, 6 by default: about 17 saves a kill here, so ``--kills 60``
makes about 1000), and checks after each that the project file,
or its ``.bak``, loads and holds one whole state: the last save finished or the one under
way, never a mix. It prints the figures; exits 1 on any violation.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import mixtree as mt

ROOT = Path(__file__).resolve().parents[2]

#: The child: load the project, then save it again and again, every track renamed to the
#: save's number first; after each save, print the number.
SAVER = """
import sys, warnings
warnings.simplefilter("ignore")
import mixtree as mt
path, first = sys.argv[1], int(sys.argv[2])
p = mt.Project.load(path)
tracks = p.tracks
print("ready", flush=True)
for n in range(first, first + 10**6):
    for t in tracks:
        t.name = f"v{n}"
    p.save(path)
    print(n, flush=True)
"""

#: The child of the disk-full case: a file size limit, then one save.
FILLER = """
import resource, signal, sys, warnings
warnings.simplefilter("ignore")
import mixtree as mt
path, limit = sys.argv[1], int(sys.argv[2])
p = mt.Project.load(path)
for t in p.tracks:
    t.name = "changed"
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG), as on a full disk
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
try:
    p.save(path)
except mt.SaveError as exc:
    print("SaveError", exc)
else:
    print("saved")
"""


def large_project(folder: Path, tracks: int = 200, clips: int = 20) -> Path:
    """Save a project of ``tracks`` tracks of ``clips`` clips each and an automation lane
    (a few MB of JSON) in ``folder``, every track named ``v0``; return its file."""
    import numpy as np
    import soundfile as sf

    folder.mkdir(parents=True, exist_ok=True)
    sf.write(str(folder / "tone.wav"), np.zeros((4800, 1), np.float32), 48000)
    p = mt.Project(sample_rate=48000)
    src = p.pool.load(folder / "tone.wav")
    for _ in range(tracks):
        t = p.add_audio_track("v0")
        for c in range(clips):
            t.add_clip(src, start=c * 0.2, duration=0.1)
        lane = t.automate("volume_db")
        for c in range(clips):
            lane.add_point(c * 0.2, -float(c % 12))
    return p.save(folder / "song.json")


def state_of(path: Path) -> int | None:
    """Return the save number the project file ``path`` holds, None if it does not load,
    and raise ``AssertionError`` if its tracks disagree (a mix of two states)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            p = mt.Project.load(path)
    except mt.ProjectFileError:
        return None
    names = {t.name for t in p.tracks}
    assert len(names) == 1, f"'{path}' holds a mix of states: {sorted(names)[:5]}"
    return int(next(iter(names))[1:])


@dataclass
class KillResult:
    """One killed child: saves it finished, the state found, where it was found."""

    finished: int
    found: int
    source: str


def kill_during_saves(path: Path, first: int, rng: random.Random, most_seconds: float = 3.0) -> KillResult:
    """Start a saving child, kill it at a random moment, and check the file (or its backup)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    child = subprocess.Popen(
        [sys.executable, "-c", SAVER, str(path), str(first)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "ready"
    time.sleep(rng.uniform(0.0, most_seconds))
    child.send_signal(signal.SIGKILL)
    child.wait()
    done = [int(line) for line in child.stdout.read().split()]
    finished = done[-1] if done else first - 1
    for source in (path, path.with_name(path.name + ".bak")):
        found = state_of(source)
        if found is not None:
            # the file: the last finished save or the one under way; the backup: one before
            allowed = (finished, finished + 1) if source == path else (finished - 1, finished, finished + 1)
            assert found in allowed, f"'{source}' holds save {found}, the child finished {finished}"
            return KillResult(finished, found, source.name)
    raise AssertionError(f"neither '{path}' nor its backup loads after a kill at save {finished + 1}")


def disk_full(path: Path, limit: int) -> str:
    """Save ``path`` again in a child whose files may not grow past ``limit`` bytes; return what it said."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    done = subprocess.run(
        [sys.executable, "-c", FILLER, str(path), str(limit)], capture_output=True, text=True, env=env, check=False
    )
    return done.stdout.strip() or done.stderr.strip()[-500:]


def main(argv: list[str] | None = None) -> int:
    """Kill ``--kills`` saving children; print what each left; 1 on a violation."""
    parser = argparse.ArgumentParser(prog="python -m tests.stress.faults", description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--seconds", type=float, default=6.0, help="the latest a child is killed")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="mixtree-faults-") as tmp:
        path = large_project(Path(tmp))
        print(f"project: {path.stat().st_size / 2**20:.1f} MiB of JSON")
        saves = 0
        first = 1
        from_backup = 0
        try:
            for k in range(args.kills):
                result = kill_during_saves(path, first, rng, args.seconds)
                saves += result.finished - first + 1
                from_backup += result.source.endswith(".bak")
                print(
                    f"kill {k + 1}: saves {first}..{result.finished} finished, save {result.found} found in "
                    f"{result.source}",
                    flush=True,
                )
                first = max(result.finished, result.found) + 1
        except AssertionError as exc:
            print(f"FAILED: {exc}")
            return 1
    print(
        f"{args.kills} kills over {saves} finished saves: the file (or, {from_backup} times, its backup) always "
        f"held one whole state"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
