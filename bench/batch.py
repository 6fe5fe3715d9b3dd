"""Batch rendering at scale: 1000 short renders of an 8-track session with effects.

Run: ``python -m bench.batch [--jobs N] [--seconds S] [--no-ray] [--json FILE]``.

Each job is 4 s of an 8-track session (noise and tones through filters and compressors,
sends into a reverb bus and a delay bus) with three parameters changed, written as a
16-bit WAV. The same jobs run on one local worker, on every core, and on Ray (a local Ray
instance over every core); then the way DawDreamer users write such a sweep by hand (one
engine in one process, a loop that changes parameters and renders), with mixtree's own
in-process loop beside it. Reports jobs per second, scaling efficiency against one worker
and the worker's resident memory after 10 jobs and after the last (a leak shows as growth).
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

import mixtree as mt
from mixtree import effects as fx
from mixtree.batch import grid, render, set_parameter
from mixtree.batch.local import default_workers
from mixtree.batch.runner import rss_mb

RATE = 48000
TRACKS = 8


def make_session(folder: Path, seconds: float) -> Path:
    """Write the media and the 8-track session into ``folder``; return the project file."""
    rng = np.random.default_rng(7)
    n = int(seconds * RATE)
    t = np.arange(n) / RATE
    p = mt.Project(sample_rate=RATE)
    verb = p.add_bus("Verb")
    verb.add_effect(fx.Reverb(mix=1.0, room_size=0.6))
    echo = p.add_bus("Echo")
    echo.add_effect(fx.Delay(time=0.25, feedback=0.4, mix=1.0))
    for i in range(TRACKS):
        path = folder / f"t{i}.wav"
        if i % 2:
            data = (0.2 * np.sin(2 * np.pi * 110 * (i + 1) * t))[:, None]
        else:
            data = rng.standard_normal((n, 2)) * 0.1
        sf.write(str(path), data.astype(np.float32), RATE, subtype="FLOAT")
        track = p.add_audio_track(f"T{i}", volume_db=-float(i % 4), pan=(i % 5 - 2) / 2)
        track.add_clip(p.pool.load(path))
        track.add_effect(fx.Filter("lowpass", 4000.0 + 500 * i))
        track.add_effect(fx.Compressor(threshold_db=-18.0, ratio=3.0))
        track.add_send(verb.id if i % 2 else echo.id, level_db=-9.0)
    return p.save(folder / "session.json")


def sweep(count: int) -> list[dict[str, float]]:
    """Return ``count`` parameter sets: a fader, a filter and the reverb's mix."""
    rng = np.random.default_rng(1)
    return [
        {
            "T0.volume_db": round(float(rng.uniform(-24, 0)), 2),
            "T3.Filter.freq": round(float(rng.uniform(200, 8000)), 1),
            "Verb.mix": round(float(rng.uniform(0, 1)), 3),
        }
        for _ in range(count)
    ]


def run(label: str, session: Path, params: list[dict[str, float]], out: Path, **how: Any) -> dict[str, Any]:
    """Render the sweep with `mixtree.batch.render` into ``out``; return its figures."""
    shutil.rmtree(out, ignore_errors=True)
    jobs = grid(session, params, out=str(out / "{index:05d}.wav"), subtype="16")
    report = render(jobs, resume=False, progress=True, **how)
    shutil.rmtree(out, ignore_errors=True)  # 1000 renders are most of a gigabyte
    if report.failures:
        raise RuntimeError(f"{label}: {len(report.failures)} jobs failed: {report.failures[0]['error']}")
    workers = sorted({r["worker"] for r in report.rows})
    first = [r for r in report.rows if r["worker"] == workers[0]]
    figures = {
        "jobs": len(jobs),
        "seconds": round(report.elapsed, 2),
        "jobs_per_s": round(report.jobs_per_second, 2),
        "workers": len(workers),
        "render_ms": round(1000 * float(np.median([r["render_time"] for r in report.rows])), 1),
        "rss_mb_after_10": first[min(9, len(first) - 1)]["rss_mb"],
        "rss_mb_after_last": first[-1]["rss_mb"],
        "jobs_of_that_worker": len(first),
    }
    print(f"{label:>28}: {_line(figures)}", flush=True)
    return figures


def _line(f: dict[str, Any]) -> str:
    return (
        f"{f['jobs']} jobs in {f['seconds']:.1f} s = {f['jobs_per_s']:.2f} jobs/s on {f['workers']} worker(s); "
        f"median job {f['render_ms']:.0f} ms; RSS {f['rss_mb_after_10']:.0f} MiB after 10 jobs, "
        f"{f['rss_mb_after_last']:.0f} MiB after {f['jobs_of_that_worker']}"
    )


def mixtree_loop(session: Path, params: list[dict[str, float]], out: Path) -> dict[str, Any]:
    """The hand-written loop: one project in this process, set, render, write, repeat."""
    out.mkdir(parents=True, exist_ok=True)
    p = mt.Project.load(session)
    p.render(0.0, 0.1)  # kernels compiled before the clock starts, as a pool's warm worker has them
    rss = []
    t0 = time.perf_counter()
    for k, values in enumerate(params):
        for address, value in values.items():
            set_parameter(p, address, value)
        p.export(out / f"{k:05d}.wav", subtype="16")
        rss.append(rss_mb())
    elapsed = time.perf_counter() - t0
    shutil.rmtree(out, ignore_errors=True)
    figures = _loop_figures(len(params), elapsed, rss)
    print(f"{'mixtree, one-process loop':>28}: {_line(figures)}", flush=True)
    return figures


def _loop_figures(count: int, elapsed: float, rss: list[float]) -> dict[str, Any]:
    return {
        "jobs": count,
        "seconds": round(elapsed, 2),
        "jobs_per_s": round(count / elapsed, 2),
        "workers": 1,
        "render_ms": round(1000 * elapsed / count, 1),
        "rss_mb_after_10": round(rss[min(9, len(rss) - 1)], 1),
        "rss_mb_after_last": round(rss[-1], 1),
        "jobs_of_that_worker": count,
    }


def dawdreamer_loop(session: Path, params: list[dict[str, float]], out: Path, seconds: float) -> dict[str, Any] | str:
    """The same sweep the DawDreamer way: one engine, a graph like the session, a loop."""
    try:
        import dawdreamer as daw
    except ImportError:
        return "missing (pip install dawdreamer)"
    out.mkdir(parents=True, exist_ok=True)
    eng = daw.RenderEngine(RATE, 512)
    graph: list[Any] = []
    filters = []
    verb_in, echo_in, dry = [], [], []
    for i in range(TRACKS):
        data, _ = sf.read(str(session.parent / f"t{i}.wav"), dtype="float32", always_2d=True)
        data = np.ascontiguousarray(np.repeat(data, 2, axis=1)[:, :2].T)
        filters.append(eng.make_filter_processor(f"f{i}", "low", 4000.0 + 500 * i, 0.707, 1.0))
        graph += [
            (eng.make_playback_processor(f"p{i}", data), []),
            (filters[-1], [f"p{i}"]),
            (eng.make_compressor_processor(f"c{i}", -18.0, 3.0, 5.0, 100.0), [f"f{i}"]),
        ]
        dry.append(f"c{i}")
        (verb_in if i % 2 else echo_in).append(f"c{i}")
    verb = eng.make_reverb_processor("verb", 0.6, 0.5, 1.0, 0.0, 1.0)
    gains = [float(10 ** (-(i % 4) / 20)) for i in range(TRACKS)] + [1.0, 1.0]
    mix = eng.make_add_processor("mix", gains)
    graph += [
        (eng.make_add_processor("to_verb", [0.35] * len(verb_in)), verb_in),
        (verb, ["to_verb"]),
        (eng.make_add_processor("to_echo", [0.35] * len(echo_in)), echo_in),
        (eng.make_delay_processor("echo", "linear", 250.0, 1.0), ["to_echo"]),
        (mix, [*dry, "verb", "echo"]),
    ]
    eng.load_graph(graph)
    rss = []
    t0 = time.perf_counter()
    for k, values in enumerate(params):
        # the same three changes: T0's level in the mix, T3's filter, the reverb's wet level
        mix.gain_levels = [float(10 ** (values["T0.volume_db"] / 20)), *gains[1:]]
        filters[3].frequency = values["T3.Filter.freq"]
        verb.wet_level = values["Verb.mix"]
        eng.render(seconds)
        audio = eng.get_audio()
        sf.write(str(out / f"{k:05d}.wav"), audio.T, RATE, subtype="PCM_16")
        rss.append(rss_mb())
    elapsed = time.perf_counter() - t0
    shutil.rmtree(out, ignore_errors=True)
    figures = _loop_figures(len(params), elapsed, rss)
    print(f"{'DawDreamer, one-engine loop':>28}: {_line(figures)}", flush=True)
    return figures


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1000, help="renders per run (default 1000)")
    parser.add_argument("--seconds", type=float, default=4.0, help="length of each render (default 4 s)")
    parser.add_argument("--no-ray", action="store_true", help="leave Ray out")
    parser.add_argument("--json", type=Path, default=Path("bench-batch.json"), help="where the figures go")
    args = parser.parse_args(argv)
    cores = default_workers()
    folder = Path(tempfile.mkdtemp(prefix="mixtree-bench-batch-"))
    results: dict[str, Any] = {"cores": cores, "jobs": args.jobs, "seconds_per_job": args.seconds}
    try:
        session = make_session(folder, args.seconds)
        params = sweep(args.jobs)
        print(f"{args.jobs} renders of {args.seconds:g} s, {TRACKS} tracks with effects, on {cores} cores", flush=True)
        results["1 worker"] = run("mixtree.batch, 1 worker", session, params, folder / "one", workers=1)
        results["all cores"] = run(f"mixtree.batch, {cores} workers", session, params, folder / "all", workers=cores)
        if not args.no_ray:
            try:
                import ray

                ray.init(num_cpus=cores, include_dashboard=False, log_to_driver=False)
                try:
                    results["ray"] = run("mixtree.batch, Ray", session, params, folder / "ray", cluster="ray")
                finally:
                    ray.shutdown()
            except ImportError:
                results["ray"] = "missing (pip install 'mixtree[ray]')"
        one, every = results["1 worker"]["jobs_per_s"], results["all cores"]["jobs_per_s"]
        results["scaling_efficiency"] = round(every / one / cores, 3)
        print(f"{'scaling efficiency':>28}: {every:.2f} / ({one:.2f} × {cores}) = {results['scaling_efficiency']:.0%}")
        results["mixtree loop"] = mixtree_loop(session, params, folder / "loop")
        results["dawdreamer loop"] = dawdreamer_loop(session, params, folder / "dd", args.seconds)
        if isinstance(results["dawdreamer loop"], str):
            print(f"{'DawDreamer, one-engine loop':>28}: {results['dawdreamer loop']}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    args.json.write_text(json.dumps(results, indent=2))
    print(f"figures in {args.json}")
    return results


if __name__ == "__main__":
    main()
