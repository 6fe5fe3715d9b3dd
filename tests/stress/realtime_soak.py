"""The real-time soak: the 32-track session played through PortAudio into a running JACK
server (its dummy driver on a machine without a sound card), under load from the control side.

``python -m tests.stress.realtime_soak --minutes N`` sends 1000 commands a second (faders,
pans, effect parameters, mutes), publishes a plan every second (an edit that recompiles:
a clip's gain), polls events (meters, positions) at 60 Hz, and prints every xrun with the
callback load around it. An xrun counts against the engine only if a callback around it
ran past its period (load above 1), or if it came within 50 ms after a plan was published
(the control side compiling it may hold the GIL the callback needs); the others are the
system's (the scheduler, JACK). Exits 1 if any xrun was the engine's, 2 if no JACK server runs.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mixtree.engine.engine import Engine
from tests.stress.session import LOOP, build

COMMANDS_PER_SECOND = 1000
POLL_HZ = 60
BLOCK = 256
#: An xrun this soon after a plan was published counts as the publish's, seconds.
PUBLISH_WINDOW = 0.05


def jack_device() -> int | None:
    """Return PortAudio's output device on the JACK host API, or None if JACK is not there."""
    from mixtree.engine.drivers.portaudio import load_sounddevice

    sd = load_sounddevice()
    for api in sd.query_hostapis():
        if "JACK" in api["name"]:
            for d in api["devices"]:
                if sd.query_devices(d)["max_output_channels"] >= 2:
                    return int(d)
    return None


@dataclass
class RealtimeResult:
    """What a real-time soak measured."""

    seconds: float = 0.0
    commands: int = 0
    plans: int = 0
    polls: int = 0
    meters: int = 0
    blocks: int = 0
    load_mean: float = 0.0
    load_p99: float = 0.0
    load_max: float = 0.0
    xruns: list[tuple[float, float, str]] = field(default_factory=list)  # (time, load around it, whose)

    def report(self) -> str:
        """Return the figures and every xrun as text."""
        whose = [w for *_, w in self.xruns]
        span = max(self.seconds, 1e-9)
        lines = [
            f"real-time soak: {self.seconds:.0f} s, {self.blocks} callbacks of {BLOCK} frames",
            f"  commands {self.commands} ({self.commands / span:.0f}/s), plans published {self.plans}, "
            f"event polls {self.polls} ({self.polls / span:.0f}/s), meter events {self.meters}",
            f"  callback load: mean {self.load_mean:.3f}, p99 {self.load_p99:.3f}, max {self.load_max:.3f}",
            f"  xruns: {len(self.xruns)}: a callback past its period {whose.count('overrun')}, "
            f"after a plan was published {whose.count('publish')}, the system's {whose.count('system')}",
        ]
        lines += [f"    at {t:7.1f} s: load around it {load:.2f} ({w})" for t, load, w in self.xruns]
        return "\n".join(lines)


def soak(seconds: float, device: int, folder: Path, seed: int = 0) -> RealtimeResult:
    """Play the session through ``device`` for ``seconds`` under the control-side load."""
    rng = np.random.default_rng(seed)
    project = build(folder)
    faders = [t.id for t in project.tracks]
    effects = [
        (e.id, e) for t in project.tracks for e in getattr(t, "effects", []) if type(e).__name__ in ("EQ3", "Gain")
    ]
    clips = [c for t in project.tracks for c in getattr(t, "clips", [])]
    result = RealtimeResult()
    engine = Engine(project, driver="sounddevice", device=device, blocksize=BLOCK, autosave=None)
    engine.set_loop(True, 0.0, LOOP)
    engine.start()
    engine.play()
    player = engine._player
    t0 = time.monotonic()
    next_plan = t0 + 1.0
    published = -1e9
    seen_blocks = player.blocks
    per_poll = COMMANDS_PER_SECOND / POLL_HZ
    owed = 0.0
    tick = t0
    try:
        while (now := time.monotonic()) - t0 < seconds:
            owed += per_poll
            while owed >= 1.0:
                owed -= 1.0
                kind = result.commands % 4
                track = faders[int(rng.integers(len(faders)))]
                if kind == 0:
                    engine.set_volume(track, float(rng.uniform(-30.0, -12.0)))
                elif kind == 1:
                    engine.set_pan(track, float(rng.uniform(-1.0, 1.0)))
                elif kind == 2 and effects:
                    ident, effect = effects[int(rng.integers(len(effects)))]
                    spec = effect.parameters[0]
                    engine.set_parameter(ident, spec.id, float(rng.uniform(spec.min, min(spec.max, spec.min + 6.0))))
                else:
                    engine.set_mute(track, False)  # through the command queue; the audio stays as it is
                result.commands += 1
            if now >= next_plan and clips:
                clip = clips[result.plans % len(clips)]
                clip.gain_db = float(rng.uniform(-1.0, 0.0))  # an edit that compiles and publishes a plan
                published = time.monotonic()
                result.plans += 1
                next_plan += 1.0
            events = engine.events()
            result.polls += 1
            result.meters += sum(1 for e in events if e.kind == "meters")
            for event in events:
                if event.kind == "xrun":
                    since = max(seen_blocks - 8, 0)
                    load = engine.stats(since)["load_max"]
                    after_publish = 0.0 <= now - published <= PUBLISH_WINDOW + 1.0 / POLL_HZ
                    whose = "overrun" if load > 1.0 else "publish" if after_publish else "system"
                    result.xruns.append((now - t0, load, whose))
            seen_blocks = player.blocks
            tick += 1.0 / POLL_HZ
            time.sleep(max(0.0, tick - time.monotonic()))
    finally:
        stats = engine.stats()
        engine.close()
    result.seconds = time.monotonic() - t0
    result.blocks = int(stats["blocks"])
    result.load_mean, result.load_p99, result.load_max = stats["load_mean"], stats["load_p99"], stats["load_max"]
    return result


def main(argv: list[str] | None = None) -> int:
    """Run the real-time soak for ``--minutes``; print its figures."""
    parser = argparse.ArgumentParser(prog="python -m tests.stress.realtime_soak", description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=5.0)
    args = parser.parse_args(argv)
    device = jack_device()
    if device is None:
        print("no JACK output device: start a JACK server first (jackd -d dummy)")
        return 2
    with tempfile.TemporaryDirectory(prefix="mixtree-rt-soak-") as tmp:
        result = soak(60.0 * args.minutes, device, Path(tmp))
    print(result.report())
    return 1 if any(w != "system" for *_, w in result.xruns) else 0


if __name__ == "__main__":
    sys.exit(main())
