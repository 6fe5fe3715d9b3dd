"""Effect cost per track per block, and the same chain against pedalboard, in one run.

Run: ``python -m bench.effects [--tracks N]``. Part 1 renders 256-frame blocks of a
session whose every track carries one effect (then an 8-effect chain) and reports the
cost per track per block, minus the same session without effects, and the DSP load the
chain would take at 128 tracks. Part 2 runs gain → filter → compressor → delay → reverb
on every track with mixtree's plan and with pedalboard (one Pedalboard per track, the
same 256-frame blocks, and once on whole buffers) and prints the ratios.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import mixtree as mt
from mixtree import effects as fx
from mixtree.render.compile import CompileOptions, compile_plan

RATE = 48000
BLOCK = 256
SECONDS = 5.0


def session(tracks: int, chain: list[type[fx.Effect]] | None) -> mt.Project:
    """Return ``tracks`` noise tracks, each with a fresh instance of every effect in ``chain``."""
    import tempfile
    from pathlib import Path

    import soundfile as sf

    folder = Path(tempfile.mkdtemp())
    rng = np.random.default_rng(0)
    data = (rng.standard_normal((int(SECONDS * RATE), 2)) * 0.1).astype(np.float32)
    sf.write(str(folder / "n.wav"), data, RATE, subtype="FLOAT")
    p = mt.Project(sample_rate=RATE)
    src = p.pool.load(folder / "n.wav")
    for i in range(tracks):
        t = p.add_audio_track(f"T{i}")
        t.add_clip(src)
        for kind in chain or ():
            t.add_effect(kind())
    return p


def block_seconds(p: mt.Project) -> float:
    """Return the median wall-clock time of one 256-frame block of ``p``'s live plan."""
    plan = compile_plan(p, CompileOptions(max_block=BLOCK))
    out = np.zeros((BLOCK, 2), np.float32)
    blocks = int(SECONDS * RATE) // BLOCK
    times = np.empty(blocks)
    for b in range(blocks):
        t0 = time.perf_counter()
        plan.process(out, b * BLOCK)
        times[b] = time.perf_counter() - t0
    return float(np.median(times))


def pedalboard_seconds(tracks: int, data: np.ndarray) -> tuple[float, float]:
    """Return pedalboard's time for all tracks per 256-frame block, and per whole buffer."""
    import pedalboard as pb

    boards = [
        pb.Pedalboard(
            [
                pb.Gain(gain_db=-1.0),
                pb.LowpassFilter(cutoff_frequency_hz=8000.0),
                pb.Compressor(threshold_db=-18.0, ratio=4.0),
                pb.Delay(delay_seconds=0.25, mix=0.3),
                pb.Reverb(room_size=0.5, wet_level=0.25),
            ]
        )
        for _ in range(tracks)
    ]
    x = np.ascontiguousarray(data.T)  # pedalboard wants (channels, frames)
    blocks = x.shape[1] // BLOCK
    t0 = time.perf_counter()
    for b in range(blocks):
        chunk = x[:, b * BLOCK : (b + 1) * BLOCK]
        for board in boards:
            board.process(chunk, RATE, reset=False)
    streamed = (time.perf_counter() - t0) / blocks
    t0 = time.perf_counter()
    for board in boards:
        board.process(x, RATE)
    whole = (time.perf_counter() - t0) / blocks
    return streamed, whole


def main() -> None:
    """Print both tables."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--tracks", type=int, default=64)
    args = ap.parse_args()
    n = args.tracks
    period = BLOCK / RATE
    base = block_seconds(session(n, None))
    print(f"cost per track per {BLOCK}-frame block at {RATE} Hz ({n} tracks, one call per stage)")
    print(f"{'effect':<28}{'µs/track':>10}{'load @128 tracks':>18}")
    kinds = [fx.Gain, fx.Pan, fx.Filter, fx.EQ3, fx.Compressor, fx.Delay, fx.Reverb]
    for kind in kinds:
        cost = (block_seconds(session(n, [kind])) - base) / n
        print(f"{kind.__name__:<28}{cost * 1e6:>10.2f}{128 * cost / period:>18.1%}")
    chain8 = [fx.EQ3, fx.Compressor, fx.Filter, fx.Gain, fx.Delay, fx.Reverb, fx.Pan, fx.Gain]
    cost = (block_seconds(session(n, chain8)) - base) / n
    name = "8-effect chain"
    print(f"{name:<28}{cost * 1e6:>10.2f}{128 * cost / period:>18.1%}")

    print(f"\ngain → filter → compressor → delay → reverb on {n} tracks, per {BLOCK}-frame block")
    p = session(n, [fx.Gain, fx.Filter, fx.Compressor, fx.Delay, fx.Reverb])
    ours = block_seconds(p)
    data = p.pool.get(next(iter(p.pool)).id).data
    streamed, whole = pedalboard_seconds(n, data)
    print(f"{'engine':<34}{'ms/block':>10}{'load':>8}{'pedalboard ÷ mixtree':>22}")
    print(f"{'mixtree (all tracks, batched)':<34}{ours * 1e3:>10.3f}{ours / period:>8.1%}{1.0:>22.2f}")
    print(
        f"{'pedalboard, 256-frame blocks':<34}{streamed * 1e3:>10.3f}{streamed / period:>8.1%}{streamed / ours:>22.2f}"
    )
    print(f"{'pedalboard, whole buffers':<34}{whole * 1e3:>10.3f}{whole / period:>8.1%}{whole / ours:>22.2f}")


if __name__ == "__main__":
    main()
