"""Disk streaming: a file larger than the pool plays with seeks; 32 streamed tracks against memory.

Run: ``python -m bench.streaming [--big-minutes M] [--tracks N] [--track-minutes M]
[--seconds S]``. Defaults are the issue's sizes (a 55-minute 48 kHz stereo float32 WAV,
about 1.2 GB, and the same as FLAC; 32 tracks of 10-minute files); smaller ones run in
less time and disk. The null driver's thread stands for a device's: it asks for
real-time scheduling as a device's stream does (`Engine(realtime=True)`). Parts:

1. the big file (WAV, then FLAC) plays through the engine (null driver, real time) for
   ``--seconds`` with 20 random seeks, under a 64 MiB pool budget: peak RSS of the
   process, underruns after each seek's first look-ahead window (2 s), xruns;
2. 32 tracks at 256 frames, hand-driven: DSP load mean/p99 streamed against the same
   session in memory, the reader thread's CPU share, underruns with a seek every 500 ms
   for 30 s (null driver, real time);
3. offline render of the 32 tracks, streamed against in memory: throughput ratio.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

import mixtree as mt
from mixtree.engine import engine as engine_module
from mixtree.render.compile import CompileOptions, compile_plan
from mixtree.render.streams import LOOKAHEAD

RATE = 48000


def write_noise(path: Path, seconds: float, channels: int = 2, seed: int = 0) -> Path:
    """Write ``seconds`` of quiet noise to ``path`` (float WAV or 24-bit FLAC), a minute at a time."""
    if path.exists():
        return path
    rng = np.random.default_rng(seed)
    subtype = "FLOAT" if path.suffix == ".wav" else "PCM_24"
    with sf.SoundFile(str(path), "w", RATE, channels, subtype=subtype) as f:
        left = int(seconds * RATE)
        while left > 0:
            n = min(left, 60 * RATE)
            f.write((rng.standard_normal((n, channels)) * 0.05).astype(np.float32))
            left -= n
    return path


def peak_rss_mb() -> float:
    """Return the process's peak resident set size so far, MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def big_file(path: Path, seconds: float, seeks: int = 20) -> dict[str, float]:
    """Play ``path`` streamed in real time for ``seconds`` with ``seeks`` random seeks."""
    p = mt.Project(sample_rate=RATE)
    p.pool.budget = 64 << 20
    p.pool.stream_above = 0  # smaller files (by option) stream too
    src = p.pool.load(path)
    assert src.streamed
    p.add_audio_track("big").add_clip(src)
    rng = np.random.default_rng(7)
    late = 0
    eng = mt.Engine(p, driver="null", blocksize=256, autosave=None, realtime=True)
    with eng:
        eng.play()
        gap = seconds / seeks
        for _ in range(seeks):
            eng.seek(float(rng.uniform(0.0, src.duration - gap - 1.0)))
            time.sleep(min(LOOKAHEAD, gap))  # the first look-ahead window after a seek
            before = eng.stats()["underruns"]
            time.sleep(max(0.0, gap - LOOKAHEAD))
            late += int(eng.stats()["underruns"]) - int(before)
            eng.events()
        stats = eng.stats()
    return {
        "rss_mb": peak_rss_mb(),
        "late_underruns": late,
        "underruns": int(stats["underruns"]),
        "xruns": int(stats["xruns"]),
    }


def session(folder: Path, tracks: int, seconds: float, streamed: bool) -> mt.Project:
    """Return ``tracks`` tracks, one whole file each, streamed or held in memory."""
    p = mt.Project(sample_rate=RATE)
    if streamed:
        p.pool.stream_above = 0
    else:
        p.pool.budget = 1 << 40
        p.pool.stream_above = 1 << 40
    for i in range(tracks):
        path = write_noise(folder / f"t{i:02d}.wav", seconds, 1 + i % 2, seed=i)
        t = p.add_audio_track(f"T{i}", volume_db=-(i % 6), pan=((i % 5) - 2) / 2)
        t.add_clip(p.pool.load(path))
    return p


def dsp_load(p: mt.Project, blocksize: int, seconds: float) -> tuple[np.ndarray, float, int]:
    """Return the callback loads of ``seconds`` of hand-driven playback (waiting for the
    reader as a device's pace would), the reader's CPU seconds and the underruns."""
    eng = mt.Engine(p, driver="null", blocksize=blocksize, autosave=None)
    player = eng._player
    player.period = blocksize / RATE
    eng.play()
    out = np.zeros((blocksize, 2), np.float32)
    blocks = int(seconds * RATE / blocksize)
    saved = sys.getswitchinterval()
    sys.setswitchinterval(engine_module.SWITCH_INTERVAL)  # as a running engine has it
    try:
        for b in range(blocks):
            if b % 64 == 0:
                eng.streams_ready()
            player.render(out)
    finally:
        sys.setswitchinterval(saved)
    stats = eng.stats()
    eng.close()
    return player.loads[: min(blocks, len(player.loads))].copy(), float(stats["reader_cpu"]), int(stats["underruns"])


def seek_storm(p: mt.Project, seconds: float, every: float = 0.5) -> dict[str, float]:
    """Play ``p`` in real time for ``seconds``, seeking every ``every`` seconds."""
    rng = np.random.default_rng(3)
    eng = mt.Engine(p, driver="null", blocksize=256, autosave=None, realtime=True)
    with eng:
        eng.play()
        start = time.perf_counter()
        while time.perf_counter() - start < seconds:
            eng.seek(float(rng.uniform(0.0, max(0.0, p.duration - 5.0))))
            time.sleep(every)
            eng.events()
        wall = time.perf_counter() - start
        stats = eng.stats()
    return {
        "underruns": int(stats["underruns"]),
        "xruns": int(stats["xruns"]),
        "reader_share": float(stats["reader_cpu"]) / wall,
    }


def offline(p: mt.Project, seconds: float) -> float:
    """Return the realtime factor of exporting ``seconds`` of ``p`` offline."""
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        p.export(Path(tmp) / "out.wav", start=0.0, duration=seconds)
        return seconds / (time.perf_counter() - t0)


def regions(folder: Path, count: int) -> tuple[int, int, int]:
    """Return (references, groups, window MiB) of ``count`` 3-second regions of one
    10-minute file cut one after another onto 4 tracks (an edited take)."""
    p = mt.Project(sample_rate=RATE)
    p.pool.stream_above = 0
    src = p.pool.load(write_noise(folder / "take.wav", 600.0))
    tracks = [p.add_audio_track(f"take {k}") for k in range(4)]
    for k in range(count):
        tracks[k % 4].add_clip(src, start=3.0 * (k // 4) + 0.1 * (k % 4), offset=(k * 2.9) % 590.0, duration=3.0)
    plan = compile_plan(p, CompileOptions(max_block=256))
    refs = plan.streams.refs
    return len(refs), len({r.group if r.group >= 0 else -1 - r.ref for r in refs}), plan.streams.nbytes >> 20


def main() -> None:
    """Print every part's figures."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--big-minutes", type=float, default=55.0)
    ap.add_argument("--seconds", type=float, default=60.0, help="seconds the big file plays")
    ap.add_argument("--tracks", type=int, default=32)
    ap.add_argument("--track-minutes", type=float, default=10.0)
    ap.add_argument("--load-seconds", type=float, default=20.0, help="seconds of hand-driven playback per load run")
    ap.add_argument("--storm-seconds", type=float, default=30.0)
    ap.add_argument("--regions", type=int, default=200, help="regions of one file in part 4")
    ap.add_argument("--folder", type=Path, default=None, help="where to write the files (default: a temporary folder)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.folder or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        print(f"1. one {args.big_minutes:g}-minute stereo file, {args.seconds:g} s with 20 seeks, 64 MiB budget")
        print(f"{'file':>6} {'MB':>7} {'peak RSS MB':>12} {'late underruns':>15} {'underruns':>10} {'xruns':>6}")
        for ext in (".wav", ".flac"):
            path = write_noise(folder / f"big{ext}", args.big_minutes * 60)
            r = big_file(path, args.seconds)
            size = path.stat().st_size / 1e6
            print(
                f"{ext:>6} {size:>7.0f} {r['rss_mb']:>12.0f} {r['late_underruns']:>15} "
                f"{r['underruns']:>10} {r['xruns']:>6}"
            )
        seconds = args.track_minutes * 60
        print(f"\n2. {args.tracks} tracks × {args.track_minutes:g} min at 256 frames (hand-driven load)")
        print(f"{'session':>9} {'mean':>7} {'p99':>7} {'max':>7} {'reader CPU s':>13} {'underruns':>10}")
        p99 = {}
        for streamed in (False, True):
            p = session(folder, args.tracks, seconds, streamed)
            loads, reader, under = dsp_load(p, 256, args.load_seconds)
            name = "streamed" if streamed else "memory"
            p99[name] = float(np.percentile(loads, 99))
            print(f"{name:>9} {loads.mean():>7.1%} {p99[name]:>7.1%} {loads.max():>7.1%} {reader:>13.2f} {under:>10}")
            del p
        print(f"p99 streamed / in memory: {p99['streamed'] / p99['memory']:.2f}×")
        p = session(folder, args.tracks, seconds, True)
        s = seek_storm(p, args.storm_seconds)
        print(
            f"seek every 500 ms for {args.storm_seconds:g} s (real time): underruns {s['underruns']}, "
            f"xruns {s['xruns']}, reader thread CPU share {s['reader_share']:.1%}"
        )
        print(f"\n3. offline render of the {args.tracks} tracks, {min(seconds, 120):g} s")
        factors = {}
        for streamed in (False, True):
            q = session(folder, args.tracks, seconds, streamed)
            factors[streamed] = offline(q, min(seconds, 120.0))
            print(f"{'streamed' if streamed else 'memory':>9} {factors[streamed]:>8.0f}× real time")
        print(f"throughput streamed / in memory: {factors[True] / factors[False]:.2f}")
        refs, groups, mib = regions(folder, args.regions)
        print(f"\n4. {refs} regions of one file: {groups} groups of buffers, {mib} MiB of windows")


if __name__ == "__main__":
    main()
