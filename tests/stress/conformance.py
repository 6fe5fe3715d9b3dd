"""The effect conformance grid (pluginval's idea): every built-in effect and a few hosted
plugins at 44.1/48/88.2/96 kHz x blocks 1, 7, 32, 64, 256, 441, 1024, 4096 x mono/stereo.

``python -m tests.stress.conformance`` prints, for each effect, a grid of cells (rate and
channels by block size) that say ``ok`` or the letters of the checks that failed, then the
failures in words; it exits 1 if any cell failed. ``--quick`` runs the subset the default
test run holds (tests/stress/test_conformance.py). The checks of a cell:

S  silence in gives finite output, and exactly 0 or more than 1e-30 (no denormal): after a
   burst, through the tail bound (`TAIL_SECONDS`, run at the largest block only)
B  bounded input (noise and a full-scale square, |x| <= 1) gives finite output within
   `BOUND` (+36 dB)
F  seeded parameter fuzz: random values and jumps every block, extremes included; finite and bounded
T  parameter changes from another thread while processing: finite, nothing raised
Y  bypass toggled every block: finite and bounded; bypassed for good, the input comes back
Z  reset mid-stream: finite; a built-in then gives exactly 0 for silence
R  state round trip: an effect restored from `get_state` gives the same output (once per effect and rate)
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mixtree import effects as fx
from mixtree.effects.base import BYPASS_RAMP, Effect
from mixtree.errors import PluginError

RATES = (44100, 48000, 88200, 96000)
BLOCKS = (1, 7, 32, 64, 256, 441, 1024, 4096)
CHANNELS = (1, 2)
#: Output bound for input within ±1: +36 dB (a built-in's gains add up to at most +24 dB here).
BOUND = 64.0
#: The smallest magnitude a non-zero output sample may have (below: a denormal on its way).
TINY = 1e-30
#: How long silence runs after a burst for the denormal check, seconds of audio.
TAIL_SECONDS = 40.0
#: How many process calls a check makes at most (block 1 costs a call a frame).
MAX_CALLS = 600

CHECKS = "SBFTYZR"


def builtins() -> dict[str, Callable[[], Effect]]:
    """Return a maker of each built-in effect, at settings that make it work (a long tail)."""
    return {
        "Gain": lambda: fx.Gain(db=6.0),
        "Pan": lambda: fx.Pan(pan=0.3),
        "Filter": lambda: fx.Filter(kind="peak", freq=1000.0, q=4.0, gain_db=12.0),
        "EQ3": lambda: fx.EQ3(low_db=6.0, mid_db=-3.0, high_db=6.0),
        "Compressor": lambda: fx.Compressor(threshold_db=-30.0, ratio=8.0, makeup_db=12.0),
        "Delay": lambda: fx.Delay(time=0.05, feedback=0.9, mix=0.5),
        "Reverb": lambda: fx.Reverb(room_size=0.95, damping=0.1, mix=1.0),
    }


#: Hosted plugins from Debian's packages the tests already use (lv2-examples, x42-plugins,
#: zam-plugins): by name, their source.
PLUGINS = {
    "eg-amp (LV2)": "http://lv2plug.in/plugins/eg-amp",
    "x42 dpl (LV2)": "http://gareus.org/oss/lv2/dpl#stereo",
    "ZamComp (CLAP)": "/usr/lib/clap/ZamComp.clap",
    "ZamEQ2 (CLAP)": "/usr/lib/clap/ZamEQ2.clap",
}


def plugins() -> dict[str, Callable[[], Effect]]:
    """Return a maker of each hosted plugin that loads here."""
    found: dict[str, Callable[[], Effect]] = {}
    for name, source in PLUGINS.items():
        try:
            fx.Plugin(source).close()
        except PluginError:
            continue
        found[name] = lambda source=source: fx.Plugin(source)
    return found


@dataclass
class Cell:
    """One effect at one rate, block size and channel count: the checks that failed and why."""

    failed: dict[str, str] = field(default_factory=dict)

    def fail(self, check: str, why: str) -> None:
        """Record that ``check`` failed (the first reason is kept)."""
        self.failed.setdefault(check, why)

    @property
    def label(self) -> str:
        """Return ``ok`` or the letters of the failed checks."""
        return "".join(c for c in CHECKS if c in self.failed) or "ok"


def _blocks(audio: np.ndarray, block: int) -> Iterator[np.ndarray]:
    for at in range(0, audio.shape[0], block):
        yield audio[at : at + block]


def _run(
    effect: Effect, audio: np.ndarray, rate: int, block: int, each: Callable[[int], None] | None = None
) -> np.ndarray:
    out = np.empty_like(audio)
    for k, (at, piece) in enumerate(zip(range(0, audio.shape[0], block), _blocks(audio, block), strict=True)):
        if each is not None:
            each(k)
        work = piece.copy()
        effect.process(work, rate)
        out[at : at + piece.shape[0]] = work
    return out


def _frames(block: int, seconds: float, rate: int) -> int:
    return min(int(seconds * rate), block * MAX_CALLS)


def _input(frames: int, channels: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    noise = rng.uniform(-1.0, 1.0, (frames, channels))
    square = np.sign(np.sin(np.arange(frames) * 2 * np.pi * 110.0 / 48000.0))[:, None] * np.ones(channels)
    half = frames // 2
    return np.concatenate([noise[:half], square[half:]]).astype(np.float32)


def _problems(out: np.ndarray, bound: float = BOUND) -> str:
    if not np.isfinite(out).all():
        return f"{int((~np.isfinite(out)).sum())} non-finite samples"
    peak = float(np.abs(out).max(initial=0.0))
    if peak > bound:
        return f"peak {peak:.3g} above the bound {bound:g}"
    return ""


def _tiny(out: np.ndarray) -> str:
    small = (out != 0.0) & (np.abs(out) < TINY)
    return (
        f"{int(small.sum())} samples between 0 and {TINY:g} (smallest {np.abs(out[small]).min():.3g})"
        if small.any()
        else ""
    )


def _random_values(effect: Effect, rng: np.random.Generator) -> dict[str, float | str]:
    values: dict[str, float | str] = {}
    for p in effect.parameters:
        if p.choices:
            values[p.id] = p.choices[int(rng.integers(len(p.choices)))]
            continue
        pick = rng.random()
        values[p.id] = p.min if pick < 0.2 else p.max if pick < 0.4 else float(rng.uniform(p.min, p.max))
    return values


def _set(effect: Effect, values: dict[str, float | str]) -> None:
    for key, value in values.items():
        effect.set_parameter(key, value)


def _close(effect: Effect) -> None:
    close = getattr(effect, "close", None)  # a hosted plugin's instance
    if close is not None:
        close()


def check_cell(
    make: Callable[[], Effect],
    rate: int,
    block: int,
    channels: int,
    builtin: bool,
    seed: int = 0,
    tail_seconds: float = TAIL_SECONDS,
) -> Cell:
    """Run the checks of one cell on fresh effects made by ``make``; return what failed."""
    cell = Cell()
    frames = _frames(block, 0.25, rate)
    signal = _input(frames, channels, seed)
    rng = np.random.default_rng(seed)

    # S: silence, and a burst's tail (long only at the largest block: block 1 would take minutes)
    effect = make()
    try:
        silent = _run(effect, np.zeros((frames, channels), np.float32), rate, block)
        if (why := _problems(silent) or _tiny(silent)) or (builtin and np.any(silent)):
            cell.fail("S", why or "silence in at rest gave non-zero output")
        tail = tail_seconds if block == max(BLOCKS) else 0.25
        burst = np.concatenate([signal[: min(frames, rate // 10)], np.zeros((int(tail * rate), channels), np.float32)])
        out = _run(effect, burst, rate, block) if block * MAX_CALLS >= burst.shape[0] or block >= 256 else None
        if out is not None and (why := _problems(out) or _tiny(out)):
            cell.fail("S", f"after a burst: {why}")

        # B: bounded in, bounded out
        effect.reset()
        if why := _problems(_run(effect, signal, rate, block)):
            cell.fail("B", why)

        # F: parameters fuzzed every block, extremes included
        fuzzed = _run(effect, signal, rate, block, lambda k: _set(effect, _random_values(effect, rng)))
        if why := _problems(fuzzed, BOUND * 4):
            cell.fail("F", why)

        # T: another thread changes parameters while this one processes
        effect.reset()
        stop = threading.Event()
        errors: list[BaseException] = []

        def twiddle() -> None:
            spin = np.random.default_rng(seed + 1)
            try:
                while not stop.is_set():
                    _set(effect, _random_values(effect, spin))
                    time.sleep(0)
            except BaseException as exc:  # noqa: BLE001 - reported as the cell's failure
                errors.append(exc)

        worker = threading.Thread(target=twiddle, daemon=True)
        worker.start()
        try:
            threaded = _run(effect, signal, rate, block)
        finally:
            stop.set()
            worker.join()
        if errors or (why := _problems(threaded, BOUND * 4)):
            cell.fail("T", f"{type(errors[0]).__name__}: {errors[0]}" if errors else why)

        # Y: bypass toggled every block, then on for good (the input must come back)
        effect.reset()
        _set(effect, _random_values(effect, np.random.default_rng(seed + 2)) if not builtin else {})
        toggled = _run(effect, signal, rate, block, lambda k: setattr(effect, "bypass", k % 2 == 1))
        if why := _problems(toggled, BOUND * 4):
            cell.fail("Y", why)
        effect.bypass = True
        through = np.resize(signal, (frames // 2 + int(2 * BYPASS_RAMP * rate) + 1, channels))  # past the ramp
        settle = _run(effect, through, rate, block)
        if builtin and not np.allclose(settle[-frames // 2 :], through[-frames // 2 :], atol=1e-6):
            cell.fail("Y", "bypassed for good, the output is not the input")
        effect.bypass = False

        # Z: reset mid-stream, at the settings the effect was made with (F and T left it anywhere)
        _close(effect)
        effect = make()
        half = _run(effect, signal[: frames // 2], rate, block)
        effect.reset()
        after = _run(effect, np.zeros((frames // 2, channels), np.float32), rate, block)
        if why := _problems(np.concatenate([half, after])):
            cell.fail("Z", why)
        elif builtin and np.any(after):
            cell.fail("Z", f"silence after a reset gave output up to {np.abs(after).max():.3g}")
    except Exception as exc:  # noqa: BLE001 - any exception is the cell's failure, reported
        cell.fail("S" if not cell.failed else next(iter(cell.failed)), f"raised {type(exc).__name__}: {exc}")
    finally:
        _close(effect)
    return cell


def check_round_trip(make: Callable[[], Effect], rate: int, seed: int = 0) -> str:
    """Return why an effect restored from its saved state plays differently, or ``""``."""
    rng = np.random.default_rng(seed)
    first = make()
    _set(first, _random_values(first, rng))
    second = Effect.from_state(first.get_state())
    try:
        signal = _input(rate // 4, 2, seed)
        a = _run(first, signal, rate, 256)
        b = _run(second, signal, rate, 256)
        if not np.allclose(a, b, atol=1e-5, equal_nan=True):
            return f"restored, the output differs by up to {np.abs(a - b).max():.3g}"
        return ""
    finally:
        _close(first)
        _close(second)


@dataclass
class Grid:
    """The cells of one effect by (rate, channels, block), and its round trips by rate."""

    name: str
    cells: dict[tuple[int, int, int], Cell] = field(default_factory=dict)
    round_trips: dict[int, str] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """Return True if every cell and round trip passed."""
        return not any(c.failed for c in self.cells.values()) and not any(self.round_trips.values())

    def render(self) -> str:
        """Return the grid as text: a row per rate and channel count, a column per block size."""
        blocks = sorted({b for _, _, b in self.cells})
        lines = [f"{self.name}", f"  {'rate/ch':<10}" + "".join(f"{b:>6}" for b in blocks) + "   R"]
        for rate, channels in sorted({(r, c) for r, c, _ in self.cells}):
            row = "".join(f"{self.cells[(rate, channels, b)].label:>6}" for b in blocks)
            trip = "" if channels != 1 else ("ok" if not self.round_trips.get(rate) else "R")
            lines.append(f"  {f'{rate / 1000:g}k/{channels}':<10}{row}   {trip}")
        for (rate, channels, block), cell in sorted(self.cells.items()):
            for check, why in cell.failed.items():
                lines.append(f"    {check} at {rate} Hz, {channels} ch, block {block}: {why}")
        lines += [f"    R at {rate} Hz: {why}" for rate, why in sorted(self.round_trips.items()) if why]
        return "\n".join(lines)


def run(
    makers: dict[str, Callable[[], Effect]],
    rates: tuple[int, ...] = RATES,
    blocks: tuple[int, ...] = BLOCKS,
    channels: tuple[int, ...] = CHANNELS,
    builtin_names: set[str] | None = None,
    echo: Callable[[str], None] | None = None,
    tail_seconds: float = TAIL_SECONDS,
) -> list[Grid]:
    """Check every effect of ``makers`` at every cell; return their grids (and print each with ``echo``)."""
    grids = []
    for name, make in makers.items():
        grid = Grid(name)
        builtin = name in (builtin_names if builtin_names is not None else builtins())
        for rate in rates:
            grid.round_trips[rate] = check_round_trip(make, rate)
            for ch in channels:
                for block in blocks:
                    grid.cells[(rate, ch, block)] = check_cell(make, rate, block, ch, builtin, 0, tail_seconds)
        grids.append(grid)
        if echo is not None:
            echo(grid.render())
    return grids


#: The subset the default test run holds.
QUICK: dict[str, Any] = {"rates": (48000,), "blocks": (1, 441, 4096), "channels": (1, 2), "tail_seconds": 5.0}


def main(argv: list[str] | None = None) -> int:
    """Print the grid of every effect; return 1 if any cell failed."""
    parser = argparse.ArgumentParser(prog="python -m tests.stress.conformance", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="48 kHz, blocks 1, 441 and 4096, a 5 s tail, built-ins only"
    )
    parser.add_argument("--effects", default=None, help="comma-separated names (default: all)")
    args = parser.parse_args(argv)
    makers = builtins() if args.quick else {**builtins(), **plugins()}
    if args.effects:
        makers = {n: m for n, m in makers.items() if n in args.effects.split(",")}
    t0 = time.perf_counter()
    grids = run(makers, **(QUICK if args.quick else {}), echo=lambda text: print(text, flush=True))
    cells = sum(len(g.cells) for g in grids)
    bad = sum(1 for g in grids for c in g.cells.values() if c.failed)
    print(f"{len(grids)} effects, {cells} cells, {bad} failed, in {time.perf_counter() - t0:.0f} s")
    return 0 if all(g.passed for g in grids) else 1


if __name__ == "__main__":
    sys.exit(main())
