"""Render cost of the same 8 tracks flat and nested 10 and 20 metatracks deep.

Run: ``python -m bench.nesting``. Every level carries a transform. In the first table
the transforms compose to unity (speed 2 then 0.5, offsets that cancel), so the leaves
keep the whole-frame path and what is measured is the tree itself (plain groups get no
slot of their own); in the second every level also has a fader, so every level mixes;
in the third they compose to 1.5, against flat clips at speed 1.5, so both resample.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

import mixtree as mt

RATE = 48000
SECONDS = 20.0


def build(folder: Path, levels: int, composed: float, faders: bool = False) -> mt.Project:
    """Return 8 noise tracks inside ``levels`` nested metatracks (0: flat)."""
    p = mt.Project(sample_rate=RATE)
    p.max_nesting = max(levels, 1)
    path = folder / "n.wav"
    if not path.exists():
        data = (np.random.default_rng(0).standard_normal((int(SECONDS * 2 * RATE), 1)) * 0.1).astype(np.float32)
        sf.write(str(path), data, RATE, subtype="FLOAT")
    src = p.pool.load(path)
    tracks = [p.add_audio_track(f"T{i}", pan=(i - 3.5) / 4) for i in range(8)]
    for t in tracks:
        t.add_clip(src, start=0.0, duration=SECONDS, speed=composed if levels == 0 else 1.0)
    ids = [t.id for t in tracks]
    for level in range(levels):
        m = p.create_metatrack(ids, name=f"L{level}")
        ids = [m.id]
        if faders:
            m.volume_db = -0.1
        if composed == 1.0:
            m.speed = 2.0 if level % 2 == 0 else 0.5
            m.offset = 0.01 if level % 2 == 0 else -0.02 if level < levels - 1 else 0.0
        else:
            m.speed = composed if level == 0 else 1.0 + (0.01 if level % 2 else -0.01)
    if composed != 1.0 and levels:
        # make the product exact: fold the rounding into the outermost level
        product = 1.0
        for t in p.tracks:
            if isinstance(t, mt.Metatrack):
                product *= t.speed
        outer = p.tracks[0]
        outer.speed = outer.speed * composed / product
    return p


def seconds(p: mt.Project) -> float:
    """Return the best of three offline renders of the first 10 s, in seconds."""
    p.render(0.0, 0.1)
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        p.render(0.0, 10.0, blocksize=256)
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    """Print the three tables."""
    cases = (
        (1.0, False, "transforms composing to unity, plain groups"),
        (1.0, True, "the same with a -0.1 dB fader on every level (each level mixes)"),
        (1.5, False, "composed rate 1.5 (resampled)"),
    )
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for composed, faders, title in cases:
            print(f"8 tracks, 10 s at {RATE} Hz, 256-frame blocks: {title}")
            flat = seconds(build(folder, 0, composed))
            print(f"{'layout':<14}{'seconds':>10}{'× real time':>14}{'vs flat':>10}")
            for levels in (0, 10, 20):
                s = flat if levels == 0 else seconds(build(folder, levels, composed, faders))
                name = "flat" if levels == 0 else f"{levels} levels"
                print(f"{name:<14}{s:>10.3f}{10.0 / s:>14.0f}{s / flat - 1:>+10.1%}")
            print()


if __name__ == "__main__":
    main()
