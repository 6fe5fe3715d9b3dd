"""DAWproject and OTIO export and import, and RPP import, of a generated 128-track, 2000-clip session.

Run: ``python -m bench.exchange [--quick]``. The session: 16 metatracks of 8 audio tracks
(every fourth metatrack at half speed), 2000 clips over 8 two-second sources, a volume
lane of 16 points on every track, a bus fed by every track. The REAPER project is the
same layout written as RPP text (16 folders of 8 tracks, 2000 items, volume envelopes).
Times are the best of three runs; peak memory is tracemalloc's peak (Python
allocations, numpy's included) over one more run of each.
"""

from __future__ import annotations

import argparse
import tempfile
import tracemalloc
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import soundfile as sf

import mixtree as mt
from bench.__main__ import best

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


def rpp_text(folder: Path, tracks: int = 128, clips: int = 2000) -> str:
    """Return a REAPER project of the session's layout, its items on the sources in ``folder``."""
    lines = ['<REAPER_PROJECT 0.1 "7.0" 0', "  TEMPO 120 4 4"]
    per_track = [[] for _ in range(tracks)]
    for k in range(clips):
        per_track[k % tracks].append(k)
    for t in range(tracks):
        isbus = "1 1" if t % 9 == 0 else ("2 -1" if t % 9 == 8 else "0 0")
        lines += [f"  <TRACK {{{t}}}", f"    NAME T{t}", "    VOLPAN 0.5 0 -1 -1 1", f"    ISBUS {isbus}"]
        lines += (
            ["    <VOLENV2", "      ACT 1 -1"]
            + [f"      PT {i * 2} {1 - (i % 6) / 10} 0" for i in range(16)]
            + ["    >"]
        )
        for n, k in enumerate(per_track[t]):
            lines += ["    <ITEM", f"      POSITION {n * 1.5}", "      LENGTH 1", "      SOFFS 0.5"]
            lines += [
                "      FADEIN 1 0.01 0 1 0 0",
                "      <SOURCE WAVE",
                f'        FILE "{folder / f"src{k % 8}.wav"}"',
            ]
            lines += ["      >", "    >"]
        lines.append("  >")
    lines.append(">")
    return "\n".join(lines) + "\n"


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

        timeline = folder / "session.otio"

        def export_otio() -> None:
            p.export_otio(timeline)

        def load_otio() -> None:
            with warnings.catch_warnings():
                warnings.simplefilter("error", mt.ExchangeWarning)
                mt.import_otio(timeline)

        reaper = folder / "session.RPP"
        reaper.write_text(rpp_text(folder, tracks, clips))

        def load_rpp() -> None:
            with warnings.catch_warnings():
                warnings.simplefilter("error", mt.ExchangeWarning)
                mt.import_rpp(reaper)

        results: dict[str, float] = {}
        for name, fn in (
            ("dawproject_export", export),
            ("dawproject_import", load),
            ("otio_export", export_otio),
            ("otio_import", load_otio),
            ("rpp_import", load_rpp),
        ):
            results[f"{name}_s"] = best(fn, repeat)
            results[f"{name}_peak_mb"] = peak(fn) / 2**20
        results["dawproject_mb"] = out.stat().st_size / 2**20
        results["otio_mb"] = timeline.stat().st_size / 2**20
    print(f"Exchange, {tracks} tracks, {clips} clips (DAWproject with media embedded)")
    print(f"{'':>20} {'time':>9} {'peak':>9}")
    for name in ("dawproject_export", "dawproject_import", "otio_export", "otio_import", "rpp_import"):
        print(f"{name.replace('_', ' '):>20} {results[name + '_s']:>7.3f} s {results[name + '_peak_mb']:>6.1f} MB")
    print(f"  files: .dawproject {results['dawproject_mb']:.1f} MB, .otio {results['otio_mb']:.1f} MB")
    return results


if __name__ == "__main__":
    main()
