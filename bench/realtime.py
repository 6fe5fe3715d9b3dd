"""Real-time DSP load, and what control-side work does to xruns.

Run: ``python -m bench.realtime``. Part 1 drives the engine's callback by hand and
reports time in callback ÷ block period (mean, p99, max) for 32 and 64 tracks at 128,
256 and 512 frames. Part 2 plays through a device (the JACK server if one runs, else
the null driver) while another thread recompiles plans or decodes audio in a loop, with
CPython's default GIL switch interval and with the engine's lowered one, and counts xruns.
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import soundfile as sf

import mixtree as mt
from mixtree.engine import engine as engine_module
from mixtree.io import audio_file

RATE = 48000


def session(folder: Path, tracks: int, seconds: float = 20.0) -> mt.Project:
    """Return ``tracks`` tracks of noise, four overlapping faded clips each."""
    rng = np.random.default_rng(1)
    p = mt.Project(sample_rate=RATE)
    for i in range(tracks):
        path = folder / f"s{i}.wav"
        if not path.exists():
            data = (rng.standard_normal((int(seconds * RATE), 1 + i % 2)) * 0.02).astype(np.float32)
            sf.write(str(path), data, RATE, subtype="FLOAT")
        t = p.add_audio_track(f"T{i}", volume_db=-(i % 6), pan=((i % 5) - 2) / 2)
        src = p.pool.load(path)
        for k in range(4):
            t.add_clip(src, start=k * 4.5, duration=5.0, offset=k * 0.5, fade_in=0.05, fade_out=0.05)
    return p


def dsp_load(p: mt.Project, blocksize: int, seconds: float = 15.0) -> np.ndarray:
    """Return the load of each callback, the first included, over ``seconds`` (at least ten
    callbacks) of playback driven by hand through the null driver."""
    eng = mt.Engine(p, driver="null", blocksize=blocksize, autosave=None)
    player = eng._player
    player.period = blocksize / RATE
    eng.play()
    out = np.zeros((blocksize, 2), np.float32)
    blocks = max(10, int(seconds * RATE / blocksize))
    for _ in range(blocks):
        player.render(out)
    eng.close()
    return player.loads[: min(blocks, len(player.loads))].copy()


def jack_device() -> int | None:
    """Return the JACK output device if a JACK server runs, else None."""
    try:
        import jack

        jack.Client("mixtree-bench-probe", no_start_server=True).close()
        import sounddevice as sd
    except Exception:
        return None
    for api in sd.query_hostapis():
        if "JACK" in api["name"] and api["devices"]:
            return api["devices"][0]
    return None


def gil_trial(p: mt.Project, work: str, lowered: bool, seconds: float, wav: Path) -> dict:
    """Play ``p`` for ``seconds`` while a thread does ``work``; return the engine's stats."""
    device = jack_device()
    driver = "sounddevice" if device is not None else "null"
    saved = engine_module.SWITCH_INTERVAL
    engine_module.SWITCH_INTERVAL = saved if lowered else sys.getswitchinterval()
    stop = threading.Event()
    eng = mt.Engine(p, driver=driver, device=device, blocksize=256)

    def control_work() -> None:
        while not stop.is_set():
            if work == "recompile":
                eng.publish()
            elif work == "decode":
                audio_file.read(wav)
            else:
                time.sleep(0.01)

    try:
        with eng:
            eng.set_loop(True, 0.0, p.duration)
            eng.play()
            t = threading.Thread(target=control_work)
            t.start()
            time.sleep(seconds)
            stop.set()
            t.join()
            stats = eng.stats()
    finally:
        engine_module.SWITCH_INTERVAL = saved
    stats["driver"] = driver
    return stats


def main() -> None:
    """Print both tables."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        print("DSP load per callback (time in callback / block period), 48 kHz, hand-driven")
        print(f"{'tracks':>6} {'block':>6} {'mean':>8} {'p99':>8} {'max':>8}")
        for tracks in (32, 64):
            p = session(folder, tracks)
            for block in (128, 256, 512):
                loads = dsp_load(p, block)
                print(
                    f"{tracks:>6} {block:>6} {loads.mean():>8.1%} {np.percentile(loads, 99):>8.1%} {loads.max():>8.1%}"
                )
        p = session(folder, 32)
        big = folder / "decode-me.flac"
        sf.write(str(big), np.random.default_rng(2).standard_normal((60 * 44100, 2)) * 0.1, 44100)
        print("\nxruns while the control side works (32 tracks, 256 frames, 8 s each)")
        print(f"{'work':>10} {'GIL interval':>14} {'driver':>12} {'xruns':>6} {'p99':>8} {'max':>8}")
        for work in ("none", "recompile", "decode"):
            for lowered in (False, True):
                s = gil_trial(p, work, lowered, 8.0, big)
                interval = "0.5 ms" if lowered else "5 ms (default)"
                print(
                    f"{work:>10} {interval:>14} {s['driver']:>12} {s['xruns']:>6} "
                    f"{s['load_p99']:>8.1%} {s['load_max']:>8.1%}"
                )


if __name__ == "__main__":
    main()
