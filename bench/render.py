"""Offline render of 32 tracks × 60 s: mixtree against a naive numpy mix and ``sox -m``.

Run: ``python -m bench.render [--tracks N] [--seconds S]``. Prints each peer's realtime
factor (audio seconds per wall-clock second) and mixtree's ratio to each.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

import mixtree as mt
from mixtree.units import db_to_gain, pan_gains

RATE = 48000


def make_session(folder: Path, tracks: int, seconds: float) -> tuple[mt.Project, list[Path]]:
    """Write one noise file per track and place each as one clip with volume and pan."""
    rng = np.random.default_rng(0)
    p = mt.Project(sample_rate=RATE)
    paths = []
    for i in range(tracks):
        path = folder / f"t{i:02d}.wav"
        channels = 1 + i % 2
        data = (rng.standard_normal((int(seconds * RATE), channels)) * 0.05).astype(np.float32)
        sf.write(str(path), data, RATE, subtype="FLOAT")
        paths.append(path)
        t = p.add_audio_track(f"T{i}", volume_db=-(i % 7), pan=((i % 9) - 4) / 4)
        t.add_clip(p.pool.load(path))
    return p, paths


def numpy_mix(p: mt.Project) -> np.ndarray:
    """Mix the session with whole-array numpy: one multiply-add per track."""
    out = np.zeros((int(p.duration * RATE), 2), np.float32)
    for t in p.tracks:
        clip = t.clips[0]
        data = clip.source.data
        left, right = pan_gains(t.pan, mono=data.shape[1] == 1)
        g = db_to_gain(t.volume_db) * np.array([left, right], np.float32)
        out += data * g  # a mono (frames, 1) source broadcasts to both sides
    return out


def timed(fn, repeat: int = 3) -> float:
    """Return the best wall-clock time of ``repeat`` calls."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    """Run the benchmark and print the table."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--tracks", type=int, default=32)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--block", type=int, default=512)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        p, paths = make_session(folder, args.tracks, args.seconds)
        p.render(0.0, 1.0)  # load compiled kernels
        results = {
            "mixtree": timed(lambda: p.render(blocksize=args.block)),
            "numpy whole-array": timed(lambda: numpy_mix(p)),
        }
        sox = shutil.which("sox")
        if sox:
            cmd = [
                sox,
                "-m",
                *(str(x) for x in paths),
                "-b",
                "32",
                "-e",
                "floating-point",
                str(folder / "sox.wav"),
            ]
            results["sox -m"] = timed(lambda: subprocess.run(cmd, check=True, capture_output=True))
        print(f"{args.tracks} tracks × {args.seconds:g} s at {RATE} Hz, block {args.block}")
        print(f"{'peer':<20}{'seconds':>10}{'× real time':>14}{'mixtree ×':>12}")
        for name, secs in results.items():
            ratio = secs / results["mixtree"]
            print(f"{name:<20}{secs:>10.3f}{args.seconds / secs:>14.0f}{ratio:>12.2f}")
        if not sox:
            print("sox -m: missing (install Debian's sox to compare)")


if __name__ == "__main__":
    main()
