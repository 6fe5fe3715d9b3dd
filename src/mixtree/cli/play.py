"""``mixtree play``: a terminal transport over the engine.

Keys: space play/pause, ←/→ seek ∓5 s, Home to the start, l loop on/off, q quit. The
status line shows the position, the master meter and the DSP load; it is plain ANSI, so
it works in any terminal and in tmux.
"""

from __future__ import annotations

import math
import os
import select
import sys
import termios
import time
import tty
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from typing import TextIO

from rich.console import Console

from mixtree.cli.progress import render_progress
from mixtree.engine.engine import Engine

SEEK_STEP = 5.0
#: What ends the transport: ``q``, or the end of its input.
_STOP = frozenset(("quit", "end"))
KEYS = {
    " ": "toggle",
    "q": "quit",
    "Q": "quit",
    "l": "loop",
    "L": "loop",
    "\x1b[D": "back",
    "\x1b[C": "forward",
    "\x1bOD": "back",
    "\x1bOC": "forward",
    "\x1b[H": "home",
    "\x1b[1~": "home",
    "\x1b[7~": "home",
    "\x1bOH": "home",
}


def parse_keys(data: str) -> list[str]:
    """Return the transport actions in ``data`` (raw terminal input), unknown keys dropped."""
    actions = []
    i = 0
    while i < len(data):
        for length in (4, 3, 1):
            chunk = data[i : i + length]
            if chunk in KEYS:
                actions.append(KEYS[chunk])
                i += length
                break
        else:
            i += 1
    return actions


def meter_bar(level: float, width: int = 20) -> str:
    """Return a bar for a linear ``level`` on a -60..0 dBFS scale."""
    db = 20 * math.log10(level) if level > 0 else -math.inf
    filled = 0 if db < -60 else round((db + 60) / 60 * width)
    return "#" * min(filled, width) + "-" * (width - min(filled, width))


def clock(seconds: float) -> str:
    """Return ``mm:ss.mmm``."""
    minutes, secs = divmod(max(0.0, seconds), 60)
    return f"{int(minutes):02d}:{secs:06.3f}"


@contextmanager
def cbreak(stream: TextIO) -> Iterator[None]:
    """Put a terminal ``stream`` in cbreak mode (keys arrive unbuffered) for the body."""
    if not stream.isatty():
        yield
        return
    fd = stream.fileno()
    saved = termios.tcgetattr(fd)
    try:
        tty.setcbreak(fd)
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def run(engine: Engine | Future[Engine], stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> None:
    """Drive ``engine`` from the keyboard until ``q`` (or end of input).

    ``engine`` may still be starting (a future: its kernels load from numba's cache, a
    second or more): the screen shows at once, and keys pressed meanwhile wait for it.
    """
    with cbreak(stdin):
        if isinstance(engine, Future):
            waiting: list[str] = []
            while not engine.done():
                waiting += _keys(stdin, 0.05)
                if _STOP.intersection(waiting):
                    break
                stdout.write(f"\r\x1b[Kstarting (loading the compiled kernels){'.' * int(time.monotonic() * 4 % 4)}")
                stdout.flush()
            started = engine.result()  # what the start raised, if it failed
            if _STOP.intersection(waiting):
                started.close()
            else:
                with started:
                    stdout.write(
                        f"\r\x1b[Kplaying through {started.driver_name} (latency {started.latency * 1000:.1f} ms)\n"
                    )
                    _transport(started, stdin, stdout, waiting)
        else:
            _transport(engine, stdin, stdout, [])
    stdout.write("\n")


def _keys(stdin: TextIO, timeout: float) -> list[str]:
    # the actions typed within ``timeout`` seconds; "end" when the input has ended
    fd = stdin.fileno()
    ready, _, _ = select.select([fd], [], [], timeout)
    if not ready:
        return []
    data = os.read(fd, 64).decode(errors="ignore")
    return parse_keys(data) if data else ["end"]


def _transport(engine: Engine, stdin: TextIO, stdout: TextIO, actions: list[str]) -> None:
    # the transport's loop: ``actions`` are those typed before it started
    duration = engine.project.duration
    loop = False
    peak = (0.0, 0.0)
    master = engine.project.master.id
    while True:
        if _STOP.intersection(actions):
            return
        for action in actions:
            if action == "toggle":
                engine.pause() if engine.playing else engine.play()
            elif action in ("back", "forward"):
                step = -SEEK_STEP if action == "back" else SEEK_STEP
                engine.seek(min(max(0.0, engine.position + step), max(duration, 0.0)))
            elif action == "home":
                engine.seek(0.0)
            elif action == "loop":
                loop = not loop and duration > 0
                engine.set_loop(loop, 0.0, duration if duration > 0 else None)
        for ev in engine.events():
            if ev.kind == "meters":
                peak = ev.peak.get(master, peak)
            elif ev.kind == "error":
                stdout.write(f"\r\x1b[Kaudio error: {ev.message}\n")
        s = engine.stats()
        state = "playing" if engine.playing else "paused "
        stdout.write(
            f"\r\x1b[K{state} {clock(engine.position)} / {clock(duration)}  "
            f"L {meter_bar(peak[0])} R {meter_bar(peak[1])}  "
            f"DSP {s['load_mean']:4.0%} (p99 {s['load_p99']:4.0%})  "
            f"loop {'on ' if loop else 'off'}  xruns {s['xruns']}"
        )
        stdout.flush()
        time.sleep(0.02)
        actions = _keys(stdin, 0.05)


def play_through(engine: Engine, console: Console) -> None:
    """Play the project once from the start and return at its end (no keyboard)."""
    duration = engine.project.duration
    engine.seek(0.0)
    engine.play()
    with render_progress("playing", console) as progress:
        while engine.position < duration:
            engine.events()
            progress(int(engine.position * 1000), int(duration * 1000))
            time.sleep(0.05)
    engine.pause()
    s = engine.stats()
    console.print(
        f"played {clock(duration)}: DSP load mean {s['load_mean']:.1%}, p99 {s['load_p99']:.1%}, xruns {s['xruns']}"
    )
