"""The benchmark suite: mixtree against its peers, in one process and one run.

Run: ``python -m bench [--quick] [--json FILE]``. Prints one table per part and writes
everything to JSON (default ``bench-results.json``). A peer that is not installed is
reported as missing. ``--quick`` shrinks every part to seconds (the test suite runs it).

Parts: offline render of 32 tracks × (low shelf, high shelf, compressor, gain) against
pedalboard and DawDreamer; plain mixing of 64 tracks against ``sox -m`` and numpy;
real-time DSP load at 128/256/512 frames for 32/64/128 tracks with 4 and 8 effects;
nesting 10 and 20 levels against flat; PolySynth voices; memory per track; allocation
per callback in steady state.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

import mixtree as mt
from mixtree import effects as fx
from mixtree.units import db_to_gain

RATE = 48000


def chain4() -> list[fx.Effect]:
    """The offline comparison's chain: low shelf, high shelf, compressor, gain."""
    return [
        fx.Filter("lowshelf", 200.0, gain_db=3.0),
        fx.Filter("highshelf", 6000.0, gain_db=-3.0),
        fx.Compressor(threshold_db=-18.0, ratio=4.0, attack=0.005, release=0.1),
        fx.Gain(db=-1.0),
    ]


def chain8() -> list[fx.Effect]:
    """An 8-effect channel strip: high-pass, EQ3, compressor, gain, peak, delay, pan, gain."""
    return [
        fx.Filter("highpass", 80.0),
        fx.EQ3(low_db=2.0, high_db=-1.0),
        fx.Compressor(),
        fx.Gain(db=-1.0),
        fx.Filter("peak", 2500.0, 1.0, 2.0),
        fx.Delay(time=0.2, mix=0.1),
        fx.Pan(pan=0.1),
        fx.Gain(db=1.0),
    ]


class Session:
    """Noise sources in a temporary folder, and projects built over them."""

    def __init__(self, seconds: float) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="mixtree-bench-"))
        self.seconds = seconds
        rng = np.random.default_rng(0)
        self.data = (rng.standard_normal((int(seconds * RATE), 2)) * 0.1).astype(np.float32)
        self.paths = []
        for i in range(4):
            path = self.folder / f"n{i}.wav"
            sf.write(str(path), np.roll(self.data, 997 * i, axis=0), RATE, subtype="FLOAT")
            self.paths.append(path)

    def project(self, tracks: int, chain: Callable[[], list[fx.Effect]] | None) -> mt.Project:
        """Return ``tracks`` tracks, one clip each, each with a fresh ``chain``."""
        p = mt.Project(sample_rate=RATE)
        sources = [p.pool.load(path) for path in self.paths]
        for i in range(tracks):
            t = p.add_audio_track(f"T{i}", volume_db=-(i % 6), pan=((i % 5) - 2) / 2)
            t.add_clip(sources[i % 4])
            for e in chain() if chain else []:
                t.add_effect(e)
        return p

    def close(self) -> None:
        """Remove the temporary folder."""
        shutil.rmtree(self.folder, ignore_errors=True)


def best(fn: Callable[[], object], repeat: int) -> float:
    """Return the best wall-clock seconds of ``repeat`` calls of ``fn``."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


# -- parts ------------------------------------------------------------------------------


def offline(s: Session, tracks: int, repeat: int) -> dict[str, Any]:
    """Offline render of ``tracks`` × chain4 against pedalboard and DawDreamer."""
    p = s.project(tracks, chain4)
    p.render(0.0, 0.1)
    out: dict[str, Any] = {"mixtree": best(lambda: p.render(), repeat)}  # (its default block, `OFFLINE_BLOCK`)
    cores = len(os.sched_getaffinity(0))
    if cores > 1:  # every core (`threads`): the same samples
        p.render(0.0, 0.1, threads=cores)
        out[f"mixtree {cores} thr"] = best(lambda: p.render(threads=cores), repeat)
    try:
        import pedalboard as pb

        x = np.ascontiguousarray(s.data.T)

        def pedalboard_mix() -> np.ndarray:
            mix = np.zeros_like(x)
            for _ in range(tracks):
                board = pb.Pedalboard(
                    [
                        pb.LowShelfFilter(200.0, 3.0),
                        pb.HighShelfFilter(6000.0, -3.0),
                        pb.Compressor(-18.0, 4.0, 5.0, 100.0),
                        pb.Gain(-1.0),
                    ]
                )
                mix += board(x, RATE)
            return mix

        out["pedalboard"] = best(pedalboard_mix, repeat)
    except ImportError:
        out["pedalboard"] = "missing (pip install pedalboard)"
    try:
        import dawdreamer as daw

        def dawdreamer_mix() -> None:
            eng = daw.RenderEngine(RATE, 512)
            graph, outs = [], []
            for i in range(tracks):
                graph += [
                    (eng.make_playback_processor(f"p{i}", np.ascontiguousarray(s.data.T)), []),
                    (eng.make_filter_processor(f"l{i}", "low_shelf", 200.0, 0.707, 1.41), [f"p{i}"]),
                    (eng.make_filter_processor(f"h{i}", "high_shelf", 6000.0, 0.707, 0.71), [f"l{i}"]),
                    (eng.make_compressor_processor(f"c{i}", -18.0, 4.0, 5.0, 100.0), [f"h{i}"]),
                ]
                outs.append(f"c{i}")
            graph.append((eng.make_add_processor("mix", [0.89] * tracks), outs))
            eng.load_graph(graph)
            eng.render(s.seconds)

        out["dawdreamer"] = best(dawdreamer_mix, repeat)
    except ImportError:
        out["dawdreamer"] = "missing (pip install dawdreamer)"
    return out


def mixing(s: Session, tracks: int, repeat: int) -> dict[str, Any]:
    """Plain mixing of ``tracks`` tracks (volume and pan) against ``sox -m`` and numpy."""
    p = s.project(tracks, None)
    p.render(0.0, 0.1)
    out: dict[str, Any] = {"mixtree": best(lambda: p.render(), repeat)}  # (its default block, `OFFLINE_BLOCK`)

    def numpy_mix() -> np.ndarray:
        mix = np.zeros((s.data.shape[0], 2), np.float32)
        for t in p.tracks:
            g = db_to_gain(t.volume_db)
            mix += t.clips[0].source.data * np.float32(g)
        return mix

    out["numpy"] = best(numpy_mix, repeat)
    sox = shutil.which("sox")
    if sox:
        files = [str(s.paths[i % 4]) for i in range(tracks)]
        cmd = [sox, "-m", *files, "-b", "32", "-e", "floating-point", str(s.folder / "sox.wav")]
        out["sox -m"] = best(lambda: subprocess.run(cmd, check=True, capture_output=True), repeat)
    else:
        out["sox -m"] = "missing (apt-get install sox)"
    return out


def realtime(s: Session, tracks: int, effects: int, block: int, seconds: float) -> dict[str, float]:
    """DSP load per callback (mean, p99, max, first) of a hand-driven engine."""
    from bench.realtime import dsp_load

    loads = dsp_load(s.project(tracks, chain4 if effects == 4 else chain8), block, seconds)
    return {
        "mean": float(loads.mean()),
        "p99": float(np.percentile(loads, 99)),
        "max": float(loads.max()),
        "first": float(loads[0]),  # the callback that starts playback
    }


def nesting(seconds: float) -> dict[str, float]:
    """Render time of 8 tracks flat and nested 10 and 20 levels (unit-composing transforms)."""
    from bench.nesting import build

    with tempfile.TemporaryDirectory() as tmp:
        out = {}
        for levels in (0, 10, 20):
            p = build(Path(tmp), levels, 1.0)
            p.render(0.0, 0.1)
            out[f"{levels} levels" if levels else "flat"] = best(lambda p=p: p.render(0.0, seconds, 256), 3)
        return out


def memory(count: int) -> dict[str, float]:
    """Bytes per empty track: in the model, and in a compiled plan at 256 frames."""
    from mixtree.render.compile import CompileOptions, compile_plan

    tracemalloc.start()
    p = mt.Project(sample_rate=RATE)
    before = tracemalloc.get_traced_memory()[0]
    for i in range(count):
        p.add_audio_track(f"T{i}")
    model = (tracemalloc.get_traced_memory()[0] - before) / count
    p.forget_history()
    before = tracemalloc.get_traced_memory()[0]
    plan = compile_plan(p, CompileOptions(max_block=256))
    planned = (tracemalloc.get_traced_memory()[0] - before) / count
    tracemalloc.stop()
    audio = plan.track_buf.nbytes / plan.slots
    return {"model": model, "plan": planned, "plan without audio buffers": planned - audio}


def allocation(s: Session, callbacks: int) -> dict[str, float]:
    """Bytes the callback keeps per call in steady state (tracemalloc over many calls)."""
    p = s.project(16, chain8)
    eng = mt.Engine(p, driver="null", blocksize=256, autosave=None)
    eng.set_loop(True, 0.0, min(2.0, s.seconds))
    eng.play()
    out = np.zeros((256, 2), np.float32)
    render = eng._player.render
    drain = eng._player.events.drain  # what the control side does with the events it is posted

    def run(count: int) -> None:
        for i in range(count):
            render(out)
            if i % 16 == 15:
                drain()

    def grown(before: tracemalloc.Snapshot, after: tracemalloc.Snapshot) -> int:
        return sum(d.size_diff for d in after.compare_to(before, "filename") if d.size_diff > 0)

    # After a warm-up, a first window takes what is filled once; then windows of N and 2N
    # callbacks: tracemalloc's own cost is the same in both, what the callback keeps per
    # call doubles.
    tracemalloc.start()
    run(5000)
    snapshots = [tracemalloc.take_snapshot()]
    for count in (callbacks, callbacks, 2 * callbacks):
        run(count)
        snapshots.append(tracemalloc.take_snapshot())
    tracemalloc.stop()
    eng.close()
    once = grown(*snapshots[:2])
    first, second = grown(*snapshots[1:3]), grown(*snapshots[2:])
    kept = (second - first) / callbacks
    return {"callbacks": 4 * callbacks, "bytes per callback": kept, "one-off bytes": once}


# -- report -----------------------------------------------------------------------------


def _ratio_table(title: str, results: dict[str, Any], audio_seconds: float) -> list[str]:
    lines = [title, f"  {'engine':<16}{'seconds':>10}{'× real time':>14}{'peer ÷ mixtree':>16}"]
    ours = results["mixtree"]
    for name, value in results.items():
        if isinstance(value, str):
            lines.append(f"  {name:<16}{value}")
        else:
            lines.append(f"  {name:<16}{value:>10.3f}{audio_seconds / value:>14.0f}{value / ours:>16.2f}")
    return lines


def run(quick: bool) -> tuple[dict[str, Any], list[str]]:
    """Run every part; return the results and the report's lines."""
    seconds = 2.0 if quick else 30.0
    s = Session(seconds)
    results: dict[str, Any] = {"quick": quick, "sample_rate": RATE}
    lines: list[str] = []
    try:
        repeat = 1 if quick else 3
        tracks = 4 if quick else 32
        results["offline"] = offline(s, tracks, repeat)
        lines += _ratio_table(
            f"Offline render, {tracks} tracks × (low shelf, high shelf, compressor, gain), {seconds:g} s",
            results["offline"],
            seconds,
        )
        mix_tracks = 8 if quick else 64
        results["mixing"] = mixing(s, mix_tracks, repeat)
        lines += _ratio_table(f"Plain mixing, {mix_tracks} tracks, {seconds:g} s", results["mixing"], seconds)

        grid = (
            [(8, 4, 256), (8, 8, 128)]
            if quick
            else [(t, e, b) for t in (32, 64, 128) for e in (4, 8) for b in (128, 256, 512)]
        )
        results["realtime"] = {}
        lines += [
            "Real-time DSP load per callback (time in callback ÷ block period), 48 kHz",
            f"  {'tracks':>6}{'effects':>8}{'block':>7}{'mean':>8}{'p99':>8}{'max':>8}{'first':>8}",
        ]
        for t, e, b in grid:
            r = realtime(s, t, e, b, 0.5 if quick else 8.0)
            results["realtime"][f"{t}x{e}@{b}"] = r
            lines.append(f"  {t:>6}{e:>8}{b:>7}{r['mean']:>8.1%}{r['p99']:>8.1%}{r['max']:>8.1%}{r['first']:>8.1%}")

        nest = nesting(0.5 if quick else 10.0)
        results["nesting"] = nest
        lines.append("Nesting: 8 tracks, a transform on every level (composing to unity)")
        for name, value in nest.items():
            lines.append(f"  {name:<12}{value:>10.4f} s{value / nest['flat'] - 1:>+10.1%} vs flat")

        from bench.midi import load

        results["midi"] = {}
        lines.append("PolySynth voices, 256-frame callbacks")
        for voices in (8,) if quick else (8, 32, 64):
            x = load(voices, 0.5 if quick else 10.0)
            results["midi"][voices] = {"mean": float(x.mean()), "p99": float(np.percentile(x, 99))}
            lines.append(f"  {voices:>3} voices  mean {x.mean():.1%}  p99 {np.percentile(x, 99):.1%}")

        results["memory"] = memory(1000 if quick else 10_000)
        lines.append("Memory per empty track (tracemalloc)")
        lines += [f"  {k:<28}{v:>8.0f} bytes" for k, v in results["memory"].items()]

        results["allocation"] = allocation(s, 1000 if quick else 10_000)
        a = results["allocation"]
        lines.append(
            f"Steady-state allocation: {a['bytes per callback']:+.2f} bytes kept per callback over "
            f"{a['callbacks']} callbacks, 16 tracks × 8 effects (slope of two windows; "
            f"{a['one-off bytes']:.0f} bytes once)"
        )
    finally:
        s.close()
    return results, lines


def main(argv: list[str] | None = None) -> None:
    """Run the suite, print the report, write the JSON."""
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="a seconds-long smoke run")
    ap.add_argument("--json", type=Path, default=Path("bench-results.json"), help="where to write the results")
    args = ap.parse_args(argv)
    results, lines = run(args.quick)
    print("\n".join(lines))
    args.json.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"results written to {args.json}")


if __name__ == "__main__":
    main()
