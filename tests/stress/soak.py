"""The offline soak: the 32-track session (tests/stress/session.py) looped for hours of audio
through the engine's own callback, driven by hand faster than real time.

``python -m tests.stress.soak --hours 8`` (or ``--minutes N``) prints, and checks:
no non-finite sample; the RMS of the last 30 minutes (a quarter of a shorter run) within
0.1 dB of the first (the input is stationary and loops exactly); the resident memory's
slope; the event queue and the retired plans not growing; the render time per segment
(an hour, or an eighth of a shorter run) flat. Exits 1 if a check fails.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mixtree.engine.engine import Engine
from tests.stress.session import LOOP, RATE, build, count_tracks

BLOCK = 1024
#: Loudness drift allowed between the first and the last window, dB.
RMS_TOLERANCE_DB = 0.1
#: The longest window the first and last RMS are taken over, seconds of audio.
WINDOW = 30 * 60.0
#: Resident memory the run may add after its first tenth, MiB.
RSS_GROWTH_MB = 64.0
#: How much slower the last segment may render than the first.
SLOWDOWN = 1.5


def rss_mb() -> float:
    """Return this process's resident memory, MiB."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


@dataclass
class SoakResult:
    """What a soak measured: see the module."""

    seconds: float
    tracks: int
    nonfinite: int = 0
    loop_rms_db: list[float] = field(default_factory=list)
    rss: list[tuple[float, float]] = field(default_factory=list)  # (seconds of audio, MiB)
    segment_wall: list[float] = field(default_factory=list)
    retired_max: int = 0
    retired_last: int = 0
    events_dropped: int = 0
    events_per_drain_max: int = 0
    wall: float = 0.0

    def window_loops(self) -> int:
        """Return how many loops the first and last RMS windows span."""
        return max(1, min(int(WINDOW / LOOP), (len(self.loop_rms_db) - 1) // 4))

    def rms_drift_db(self) -> float:
        """Return the last window's RMS less the first's (from the second loop: the first has no tails), dB."""
        w = self.window_loops()
        power = 10 ** (np.array(self.loop_rms_db) / 10)
        first = 10 * np.log10(power[1 : 1 + w].mean())
        last = 10 * np.log10(power[-w:].mean())
        return float(last - first)

    def rss_slope_mb_per_hour(self) -> float:
        """Return the resident memory's slope after the first tenth, MiB per hour of audio."""
        later = [(t, m) for t, m in self.rss if t >= self.seconds / 10]
        if len(later) < 2:
            return 0.0
        t, m = np.array(later).T
        return float(np.polyfit(t / 3600, m, 1)[0])

    def rss_growth_mb(self) -> float:
        """Return what resident memory grew after the first tenth, MiB."""
        later = [m for t, m in self.rss if t >= self.seconds / 10]
        return max(later) - later[0] if later else 0.0

    def slowdown(self) -> float:
        """Return the median render time of the second half's segments over the first half's
        (the first segment, which compiles and warms up, left out)."""
        n = len(self.segment_wall)
        if n < 4:
            return 1.0
        return float(np.median(self.segment_wall[n // 2 :]) / np.median(self.segment_wall[1 : n // 2]))

    def failures(self) -> list[str]:
        """Return the checks that failed, in words."""
        bad = []
        if self.nonfinite:
            bad.append(f"{self.nonfinite} non-finite samples")
        if abs(self.rms_drift_db()) > RMS_TOLERANCE_DB:
            bad.append(f"the RMS drifted {self.rms_drift_db():+.3f} dB (tolerance {RMS_TOLERANCE_DB} dB)")
        if self.rss_growth_mb() > RSS_GROWTH_MB:
            bad.append(f"resident memory grew {self.rss_growth_mb():.1f} MiB after warm-up (bound {RSS_GROWTH_MB})")
        if self.events_dropped:
            bad.append(f"{self.events_dropped} events dropped (the event queue overflowed)")
        if self.retired_last > max(4, self.retired_max // 2 + 1) and self.retired_last >= self.retired_max:
            bad.append(f"retired plans pile up ({self.retired_last} waiting at the end)")
        if self.slowdown() > SLOWDOWN:
            bad.append(f"the second half rendered {self.slowdown():.2f}x slower than the first")
        return bad

    def report(self) -> str:
        """Return the figures as text."""
        speed = self.seconds / self.wall if self.wall else 0.0
        segs = ", ".join(f"{s:.1f}" for s in self.segment_wall)
        w = self.window_loops() * LOOP / 60
        return "\n".join(
            [
                f"soak: {self.tracks} tracks, {self.seconds / 3600:.2f} h of audio in {self.wall:.0f} s "
                f"({speed:.0f}x real time), blocks of {BLOCK}",
                f"  non-finite samples: {self.nonfinite}",
                f"  RMS last {w:.1f} min vs first {w:.1f} min: {self.rms_drift_db():+.4f} dB",
                f"  RSS: {self.rss[0][1]:.0f} -> {self.rss[-1][1]:.0f} MiB, slope after warm-up "
                f"{self.rss_slope_mb_per_hour():+.2f} MiB/h of audio, growth {self.rss_growth_mb():.1f} MiB",
                f"  retired plans waiting: max {self.retired_max}, at the end {self.retired_last}; "
                f"events dropped {self.events_dropped}; most events in one drain {self.events_per_drain_max}",
                f"  render wall time per segment, s: {segs} (second half / first: {self.slowdown():.2f})",
            ]
        )


def soak(seconds: float, folder: Path, echo: bool = False) -> SoakResult:
    """Play the soak session looped for ``seconds`` of audio; return what was measured."""
    project = build(folder)
    engine = Engine(project, driver="null", blocksize=BLOCK, autosave=None)
    engine.set_loop(True, 0.0, LOOP)
    engine.play()
    player = engine._player
    result = SoakResult(seconds, count_tracks(project))
    out = np.zeros((BLOCK, 2), np.float32)
    blocks = int(seconds * RATE) // BLOCK
    per_loop = int(LOOP * RATE) // BLOCK  # 375: blocks of 1024 tile an 8 s loop exactly
    segments = max(1, int(seconds // 3600)) if seconds >= 2 * 3600 else 8
    per_segment = max(1, blocks // segments)
    drain_every = max(1, RATE // BLOCK)  # about once a second of audio, as a UI would
    power = 0.0
    t0 = seg0 = time.perf_counter()
    for k in range(blocks):
        player.render(out)
        if not np.isfinite(out).all():
            result.nonfinite += int((~np.isfinite(out)).sum())
            out[~np.isfinite(out)] = 0.0
        power += float(np.dot(out.ravel(), out.ravel()))
        if (k + 1) % per_loop == 0:
            mean = power / (per_loop * BLOCK * 2)
            result.loop_rms_db.append(10 * np.log10(mean) if mean > 0 else -np.inf)
            power = 0.0
            result.rss.append(((k + 1) * BLOCK / RATE, rss_mb()))
        if (k + 1) % drain_every == 0:
            events = engine.events()
            result.events_per_drain_max = max(result.events_per_drain_max, len(events))
            result.retired_max = max(result.retired_max, len(engine._retired))
        if (k + 1) % per_segment == 0:
            now = time.perf_counter()
            result.segment_wall.append(now - seg0)
            seg0 = now
            if echo:
                done = (k + 1) * BLOCK / RATE
                print(
                    f"  {done / 3600:.2f} h: RSS {rss_mb():.0f} MiB, segment {result.segment_wall[-1]:.1f} s",
                    flush=True,
                )
    result.wall = time.perf_counter() - t0
    engine.events()
    result.retired_last = len(engine._retired)
    result.events_dropped = player.events.dropped
    engine.close()
    return result


def main(argv: list[str] | None = None) -> int:
    """Run the soak for ``--hours`` or ``--minutes`` of audio; print its figures; 1 if a check failed."""
    parser = argparse.ArgumentParser(prog="python -m tests.stress.soak", description=__doc__.split("\n\n")[0])
    length = parser.add_mutually_exclusive_group()
    length.add_argument("--hours", type=float, default=None)
    length.add_argument("--minutes", type=float, default=None)
    args = parser.parse_args(argv)
    seconds = 3600 * args.hours if args.hours is not None else 60 * (args.minutes if args.minutes is not None else 10)
    with tempfile.TemporaryDirectory(prefix="mixtree-soak-") as tmp:
        result = soak(seconds, Path(tmp), echo=True)
    print(result.report())
    bad = result.failures()
    print("FAILED: " + "; ".join(bad) if bad else "passed")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
