"""Hosting third-party plugins: the cost of a block through each host against calling the
plugin directly, in-process and sandboxed; the DSP load of 32 tracks × 2 plugins at 256
frames; and each plugin's latency, reported against measured with an impulse.

Run: ``python -m bench.plugins``. Needs the test plugins (``dpf-source`` and ``g++``,
cached in ``~/.cache/mixtree-test-plugins``) and Debian's lv2-examples, x42-plugins and
zam-plugins; what is missing is skipped. Costs are µs per 256-frame stereo call, best of
five rounds; the load is the share of the block period, mean and 99th percentile.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import soundfile as sf
from tests.conftest import PLUGIN_CACHE
from tests.effects.plugins.dpf import build as dpf

import mixtree as mt
from bench.realtime import dsp_load
from mixtree import effects as fx
from mixtree.effects.plugins.clap import ClapPlugin
from mixtree.effects.plugins.lv2 import Lv2Plugin
from mixtree.effects.plugins.sandbox import SandboxedPlugin
from mixtree.effects.plugins.vst3 import Vst3Plugin
from mixtree.errors import PluginError

RATE = 48000
BLOCK = 256
AMP = "http://lv2plug.in/plugins/eg-amp"


def per_call(step: Callable[[], object], calls: int, rounds: int = 5) -> float:
    """Return the best round's mean time of ``step()``, µs."""
    best = float("inf")
    for _ in range(rounds):
        t = time.perf_counter()
        for _ in range(calls):
            step()
        best = min(best, (time.perf_counter() - t) / calls)
    return best * 1e6


def costs(plugins: dict[str, Path], calls: int) -> dict[str, float]:
    """Return µs per block for each host, and for the peers called directly."""
    x = np.random.default_rng(0).uniform(-0.5, 0.5, (BLOCK, 2)).astype(np.float32)
    y = np.zeros_like(x)
    out: dict[str, float] = {}
    for name, make in [
        ("mixtree CLAP (mtgain)", lambda: ClapPlugin(plugins["mtgain.clap"])),
        ("mixtree VST3 (mtgain, on pedalboard)", lambda: Vst3Plugin(plugins["mtgain.vst3"])),
        ("mixtree sandboxed CLAP (mtgain)", lambda: SandboxedPlugin(str(plugins["mtgain.clap"]))),
    ]:
        host = make()
        host.activate(RATE, BLOCK)
        out[name] = per_call(lambda host=host: host.process(x, y, BLOCK, None), calls)
        host.close()
    import pedalboard

    direct = pedalboard.load_plugin(str(plugins["mtgain.vst3"]))
    planar = np.ascontiguousarray(x.T)
    out["pedalboard VST3 directly (mtgain)"] = per_call(
        lambda: direct.process(planar, RATE, buffer_size=BLOCK, reset=False), calls
    )
    try:
        amp = Lv2Plugin(AMP)
    except PluginError:
        return out
    amp.activate(RATE, BLOCK)
    mono_in, mono_out = x[:, :1].copy(), y[:, :1].copy()
    out["mixtree LV2 (eg-amp, mono)"] = per_call(lambda: amp.process(mono_in, mono_out, BLOCK, None), calls)
    run, handle = amp._run, amp._handle  # the plugin's own run(), as lilv_instance_run calls it
    out["eg-amp's run() directly"] = per_call(lambda: run(handle, BLOCK), calls)
    amp.close()
    return out


def load(plugins: dict[str, Path], seconds: float) -> tuple[float, float]:
    """Return the mean and p99 DSP load of 32 tracks × (mtgain CLAP, eg-amp LV2) at 256 frames."""
    with tempfile.TemporaryDirectory() as folder:
        wav = Path(folder) / "noise.wav"
        sf.write(wav, np.random.default_rng(1).uniform(-0.3, 0.3, (RATE * 4, 2)).astype(np.float32), RATE)
        p = mt.Project(RATE)
        src = p.pool.load(wav)
        for i in range(32):
            t = p.add_audio_track(f"T{i}")
            t.add_clip(src)
            t.add_effect(fx.Plugin(str(plugins["mtgain.clap"]), gain_db=-3.0))
            t.add_effect(fx.Plugin(AMP, gain=-3.0))
        loads = dsp_load(p, BLOCK, seconds)[1:]
    return float(loads.mean()), float(np.percentile(loads, 99))


def latencies(plugins: dict[str, Path]) -> list[tuple[str, int, int | None]]:
    """Return (plugin, reported, measured) for every plugin the tests use that is here."""
    sources = [str(plugins[f"{n}.{f}"]) for n in ("mtdelay", "mtgain") for f in ("clap", "lv2", "vst3")]
    sources += [AMP, "http://gareus.org/oss/lv2/dpl#stereo", "/usr/lib/clap/ZamComp.clap",
                "/usr/lib/clap/ZaMaximX2.clap", "/usr/lib/vst3/ZamComp.vst3"]  # fmt: skip
    rows = []
    for source in sources:
        if "dpl" not in source and "://" not in source and not Path(source).exists():
            continue
        try:
            plugin = fx.Plugin(source)
        except PluginError:
            continue
        plugin.prepare(RATE)
        rows.append((f"{plugin.info.format} {plugin.info.name}", plugin.latency, plugin.measure_latency(RATE)))
        plugin.close()
    return rows


def main(quick: bool = False) -> None:
    """Print the three tables."""
    reason = dpf.missing()
    if reason:
        raise SystemExit(f"cannot build the test plugins: {reason}")
    plugins = dpf.build(PLUGIN_CACHE / dpf.source_hash())
    print(f"One {BLOCK}-frame stereo block at {RATE} Hz, µs per call (best of 5)")
    for host, us in costs(plugins, 2000 if quick else 20000).items():
        print(f"  {host:<40} {us:>8.2f}")
    mean, p99 = load(plugins, 2.0 if quick else 15.0)
    print(f"32 tracks × (CLAP mtgain, LV2 eg-amp) at {BLOCK} frames: DSP load mean {mean:.1%}, p99 {p99:.1%}")
    print("Latency, frames: reported by the plugin / measured with an impulse")
    for name, reported, measured in latencies(plugins):
        print(f"  {name:<40} {reported:>6} {'-' if measured is None else measured:>8}")


if __name__ == "__main__":
    main()
