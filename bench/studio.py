"""The studio under load: does the page cost the audio anything, how fast does it open.

Run: ``python -m bench.studio [--quick] [--seconds S] [--minutes M] [--rounds N]``. Parts:

1. 64 tracks (a filter and a compressor each) play at 256 frames through the null driver
   for ``--seconds`` (120; 20 with ``--quick``), with the engine alone, inside the studio
   with no page open, then with the page open in headless Chromium (meters streaming at
   30 Hz, the playhead moving): xruns and DSP load mean/p99 of each run; and the CPU the
   browser took (its processes' user+system time ÷ the run's length, in cores);
2. a 64-track session over a ``--minutes``-long file (60; 5 with ``--quick``): the peak
   overview's build speed (× real time, cold and from the cache), then the time from
   opening the page to every track's waveform drawn.

Needs chromium and chromedriver (scripts/setup.sh --test) for the page; without them the
page runs are skipped and said so.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

import mixtree as mt
from mixtree import effects as fx
from mixtree.studio import peaks

RATE = 48000
TRACKS = 64


def session_of(folder: Path, seconds: float) -> mt.Project:
    """Return 64 tracks playing 8 different 20-second files back to back for ``seconds``."""
    rng = np.random.default_rng(4)
    files = []
    for k in range(8):
        t = np.arange(20 * RATE) / RATE
        tone = 0.2 * np.sin(2 * np.pi * (110 * (k + 1)) * t) + 0.05 * rng.standard_normal(t.size)
        path = folder / f"loop{k}.wav"
        sf.write(str(path), np.stack([tone, tone], axis=1).astype(np.float32), RATE, subtype="PCM_16")
        files.append(path)
    p = mt.Project(sample_rate=RATE)
    sources = [p.pool.load(f) for f in files]
    for i in range(TRACKS):
        track = p.add_audio_track(f"T{i + 1}", volume_db=-18.0)
        track.add_effect(fx.Filter("highpass", 80.0))
        track.add_effect(fx.Compressor())
        at = 0.0
        while at < seconds + 1.0:
            track.add_clip(sources[i % 8], start=at, duration=20.0)
            at += 20.0
    p.forget_history()
    return p


def browser() -> Any:
    """Return a headless Chromium under Selenium, or None if it is not installed."""
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if chromium is None or driver is None:
        return None
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(arg)
    options.add_argument("--window-size=1600,1000")
    return webdriver.Chrome(service=Service(driver), options=options)


def browser_cpu() -> float:
    """Return the CPU seconds Chromium's processes have used so far (Linux /proc)."""
    total = 0.0
    for pid in Path("/proc").iterdir():
        try:
            if pid.name.isdigit() and "chrom" in (pid / "comm").read_text():
                fields = (pid / "stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except OSError:
            continue
    return total


def _play(engine: Any, seconds: float) -> dict[str, float]:
    engine.seek(0.0)
    engine.play()
    time.sleep(1.0)  # past the start's warm-up
    since = engine.stats()["blocks"]
    xruns = engine.stats()["xruns"]
    time.sleep(seconds)
    s = engine.stats(since)
    engine.pause()
    return {"xruns": s["xruns"] - xruns, "load_mean": s["load_mean"], "load_p99": s["load_p99"]}


def realtime(folder: Path, seconds: float, rounds: int = 1) -> dict[str, dict[str, float]]:
    """Play the 64 tracks alone, in the studio without a page, then with it open; ``rounds``
    times over, alternating (on a busy machine one round is not enough to compare)."""
    project = session_of(folder, seconds)
    out = {}
    for k in range(rounds):
        suffix = f" #{k + 1}" if rounds > 1 else ""
        out.update({name + suffix: r for name, r in _round(project, seconds).items()})
    return out


def _round(project: mt.Project, seconds: float) -> dict[str, dict[str, float]]:
    out = {}
    with mt.Engine(project, driver="null", blocksize=256, autosave=None) as engine:
        out["engine alone"] = _play(engine, seconds)
    studio = mt.studio(project, driver="null", blocksize=256, open_browser=False)
    try:
        out["studio, no page"] = _play(studio.engine, seconds)
    finally:
        studio.close()
    driver = browser()
    if driver is None:
        print("chromium/chromedriver not found: the run with the page open is skipped")
        return out
    studio = mt.studio(project, driver="null", blocksize=256, open_browser=False)
    try:
        driver.get(studio.url)
        _wait(lambda: driver.execute_script("return !!(window.studio && window.studio.state)"), 30)
        cpu = browser_cpu()
        out["studio, page open"] = _play(studio.engine, seconds)
        out["studio, page open"]["browser cores"] = (browser_cpu() - cpu) / (seconds + 1.0)
        frames = driver.execute_script("return window.studio.transport.position")
        out["studio, page open"]["page saw position"] = float(frames)
    finally:
        studio.close()
        driver.quit()
    return out


def long_session(folder: Path, minutes: float) -> dict[str, float]:
    """Build the overview of a ``minutes``-long file, then open a 64-track page over it."""
    path = folder / "long.wav"
    rng = np.random.default_rng(9)
    with sf.SoundFile(str(path), "w", RATE, 2, subtype="PCM_16") as f:
        for _ in range(int(minutes)):
            f.write((rng.standard_normal((60 * RATE, 2)) * 0.1).astype(np.float32))
    seconds = int(minutes) * 60.0
    out: dict[str, float] = {"file minutes": float(int(minutes))}
    cache = folder / "peaks"
    t = time.perf_counter()
    peaks.load_or_compute(path, cache)
    out["peaks cold (x real time)"] = seconds / (time.perf_counter() - t)
    t = time.perf_counter()
    _, reused = peaks.load_or_compute(path, cache)
    out["peaks from cache (x real time)"] = seconds / (time.perf_counter() - t)
    assert reused
    p = mt.Project(sample_rate=RATE)
    p.pool.stream_above = 0  # an hour of audio is not decoded into memory
    source = p.pool.load(path)
    for i in range(TRACKS):
        p.add_audio_track(f"T{i + 1}").add_clip(source, start=0.0, offset=i * 0.5, duration=seconds - 40.0)
    p.save(folder / "long.json")
    driver = browser()
    if driver is None:
        return out
    studio = mt.studio(p, driver="null", open_browser=False)
    try:
        studio.session.peaks.wait(600)
        t = time.perf_counter()
        driver.get(studio.url)
        _wait(
            lambda: driver.execute_script(
                "const s = window.studio; if (!s || !s.state) return false;"
                "const m = s.timeline.peaks.get(String(arguments[0]));"
                "return !!m && [...m.values()].some(v => v !== 'loading');",
                source.id,
            ),
            60,
        )
        driver.execute_script("return 1")  # one more round trip: the frame with the waveforms is drawn
        out["page load, 64 tracks (s)"] = time.perf_counter() - t
        out["tracks on the page"] = float(driver.execute_script("return window.studio.state.tracks.length"))
    finally:
        studio.close()
        driver.quit()
    return out


def _wait(check: Any, timeout: float) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if check():
            return
        time.sleep(0.02)
    raise TimeoutError("the page did not get there in time")


def main(argv: list[str] | None = None) -> None:
    """Run both parts and print their figures."""
    parser = argparse.ArgumentParser(prog="python -m bench.studio", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 s runs and a 5-minute file")
    parser.add_argument("--seconds", type=float, default=None, help="length of each playing run")
    parser.add_argument("--minutes", type=float, default=None, help="length of the long file")
    parser.add_argument("--rounds", type=int, default=1, help="play runs alternated this many times")
    args = parser.parse_args(argv)
    seconds = args.seconds or (20.0 if args.quick else 120.0)
    minutes = args.minutes or (5.0 if args.quick else 60.0)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        print(f"64 tracks (high-pass + compressor each) at 256 frames, {seconds:g} s per run, null driver")
        for name, r in realtime(folder, seconds, args.rounds).items():
            figures = ", ".join(f"{k} {v:.3g}" for k, v in r.items())
            print(f"  {name:20s} {figures}")
        print(f"a 64-track session over one {minutes:g}-minute stereo 16-bit WAV")
        for k, v in long_session(folder, minutes).items():
            print(f"  {k:32s} {v:.3g}")


if __name__ == "__main__":
    main()
