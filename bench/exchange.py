"""DAWproject export and import of a generated 128-track, 2000-clip session.

Run: ``python -m bench.exchange [--quick]``. The session: 16 metatracks of 8 audio tracks
(every fourth metatrack at half speed), 2000 clips over 8 two-second sources, a volume
lane of 16 points on every track, a bus fed by every track. Times are the best of three
runs; peak memory is tracemalloc's peak (Python allocations, numpy's included) over
one more run of each.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import tracemalloc
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import soundfile as sf

import mixtree as mt

RATE = 48000


def session(folder: Path, tracks: int = 128, clips: int = 2000) -> mt.Project:
    """Return the generated session, its media written into ``folder``."""
    rng = np.random.default_rng(1)
    p = mt.Project(RATE)
    sources = []
    for k in range(8):
        path = folder / f"src{k}.wav"
        sf.write(path, (rng.standard_normal((2 * RATE, 2)) * 0.1).astype(np.float32), RATE, subtype="PCM_16")
        sources.append(p.pool.load(path))
    bus = p.add_bus("Verb")
    audio = []
    for g in range(max(1, tracks // 8)):
        m = p.add_metatrack(f"Group {g}")
        if g % 4 == 3:
            m.speed = 0.5
        for t in range(8):
            track = p.add_audio_track(f"T{g}.{t}", volume_db=-6.0, parent_id=m.id)
            track.add_send(bus.id, -12.0)
            track.automate("volume_db").set_points([(i * 2.0, -float(i % 6), "linear", 0.0) for i in range(16)])
            audio.append(track)
    for k in range(clips):
        track = audio[k % len(audio)]
        track.add_clip(sources[k % 8], start=(k // len(audio)) * 1.5, duration=1.0, offset=0.5, fade_in=0.01)
    return p


def best(fn: Callable[[], object], repeat: int) -> float:
    """Return the shortest wall time of ``repeat`` calls, s."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def peak(fn: Callable[[], object]) -> int:
    """Return tracemalloc's peak over one call of ``fn``, bytes."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Print the figures and return them."""
    parser = argparse.ArgumentParser(prog="python -m bench.exchange")
    parser.add_argument("--quick", action="store_true", help="16 tracks, 100 clips, one run")
    opts = parser.parse_args(argv)
    tracks, clips, repeat = (16, 100, 1) if opts.quick else (128, 2000, 3)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        p = session(folder, tracks, clips)
        out = folder / "session.dawproject"

        def export() -> None:
            p.export_dawproject(out)

        def load() -> None:
            with warnings.catch_warnings():
                warnings.simplefilter("error", mt.ExchangeWarning)  # nothing may be lost
                mt.import_dawproject(out, media_dir=folder / "imported")

        results = {
            "export_s": best(export, repeat),
            "import_s": best(load, repeat),
            "export_peak_mb": peak(export) / 2**20,
            "import_peak_mb": peak(load) / 2**20,
            "file_mb": out.stat().st_size / 2**20,
        }
    print(f"DAWproject, {tracks} tracks, {clips} clips (media embedded)")
    print(f"  export {results['export_s']:.3f} s, peak {results['export_peak_mb']:.1f} MB")
    print(f"  import {results['import_s']:.3f} s, peak {results['import_peak_mb']:.1f} MB")
    print(f"  file {results['file_mb']:.1f} MB")
    return results


if __name__ == "__main__":
    main()
