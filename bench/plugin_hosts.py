"""Cost of one 256-frame block through a third-party plugin: mixtree's CLAP host, mixtree's
VST3 host (on pedalboard) and pedalboard's VST3 host called directly, all running the same
DPF-built stereo gain (mtgain).

Run: ``python -m bench.plugin_hosts``. Needs ``dpf-source`` and ``g++`` to build the
test plugins (cached in ``~/.cache/mixtree-test-plugins``); pedalboard is skipped if
missing. Figures are µs per call, the best of five rounds.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from tests.effects.plugins.conftest import CACHE
from tests.effects.plugins.dpf import build as dpf

from mixtree.effects.plugins.clap import ClapPlugin
from mixtree.effects.plugins.vst3 import Vst3Plugin

RATE = 48000
BLOCK = 256


def per_call(step: Callable[[], object], calls: int = 20000, rounds: int = 5) -> float:
    """Return the best round's mean time of ``step()``, µs."""
    best = float("inf")
    for _ in range(rounds):
        t = time.perf_counter()
        for _ in range(calls):
            step()
        best = min(best, (time.perf_counter() - t) / calls)
    return best * 1e6


def measure(calls: int = 20000) -> dict[str, float]:
    """Return µs per ``BLOCK``-frame call for each host that is available."""
    reason = dpf.missing()
    if reason:
        raise SystemExit(f"cannot build the test plugins: {reason}")
    plugins = dpf.build(CACHE / dpf.source_hash())
    x = np.random.default_rng(0).uniform(-0.5, 0.5, (BLOCK, 2)).astype(np.float32)
    y = np.zeros_like(x)
    results = {}
    clap = ClapPlugin(plugins["mtgain.clap"])
    clap.set_parameter("gain_db", -6.0)
    clap.activate(RATE, BLOCK)
    results["mixtree CLAP (ctypes)"] = per_call(lambda: clap.process(x, y, BLOCK, None), calls)
    clap.close()
    try:
        import pedalboard
    except ImportError:
        return results
    vst3 = pedalboard.load_plugin(str(plugins["mtgain.vst3"]))
    (gain,) = vst3.parameters  # pedalboard names it after name and unit: gain_db_db
    setattr(vst3, gain, -6.0)
    planar = np.ascontiguousarray(x.T)  # pedalboard takes (channels, frames)
    results["pedalboard VST3"] = per_call(lambda: vst3.process(planar, RATE, buffer_size=BLOCK, reset=False), calls)
    hosted = Vst3Plugin(plugins["mtgain.vst3"])
    hosted.set_parameter("gain_db", -6.0)
    hosted.activate(RATE, BLOCK)
    results["mixtree VST3 (pedalboard)"] = per_call(lambda: hosted.process(x, y, BLOCK, None), calls)
    hosted.close()
    return results


def main() -> None:
    """Print the table."""
    print(f"One {BLOCK}-frame stereo block through mtgain at {RATE} Hz, µs per call (best of 5)")
    for host, us in measure().items():
        print(f"{host:<26} {us:>8.2f}")


if __name__ == "__main__":
    main()
