"""The test plugins' VST3 and LV2 builds work in other hosts (their CLAP builds: test_clap)."""

import os
import resource
import shutil
import signal
import subprocess
import sys

import numpy as np
import pytest

from tests.effects.plugins.dpf import build as dpf

RATE = 48000


def test_vst3_builds_load_in_pedalboard_and_report_latency_after_processing(dpf_plugins):
    pedalboard = pytest.importorskip("pedalboard")
    gain = pedalboard.load_plugin(str(dpf_plugins["mtgain.vst3"]))
    assert gain.is_effect and not gain.is_instrument
    x = np.random.default_rng(0).uniform(-0.5, 0.5, (2, 256)).astype(np.float32)
    np.testing.assert_allclose(gain.process(x, RATE, buffer_size=256), x, rtol=1e-6)
    # mtsine.vst3 loads too (an instrument), but takes pedalboard ~30 s: DPF gives VST3 synths
    # 2080 MIDI CC parameters, each of which pedalboard wraps.
    delay = pedalboard.load_plugin(str(dpf_plugins["mtdelay.vst3"]))
    delay.process(x, RATE, buffer_size=256, reset=False)  # pedalboard reads latency as it processes
    assert delay.reported_latency_samples == 1234


@pytest.mark.skipif(shutil.which("lv2info") is None, reason="lilv-utils (lv2ls, lv2info) not installed")
def test_lv2_builds_are_found_by_lilv_with_their_ports_latency_and_classes(dpf_plugins):
    env = {**os.environ, "LV2_PATH": str(dpf_plugins["mtgain.lv2"].parent)}
    found = subprocess.run(["lv2ls"], env=env, capture_output=True, text=True, check=True).stdout.split()
    assert found == ["urn:mixtree:test:mtdelay", "urn:mixtree:test:mtgain", "urn:mixtree:test:mtsine"]
    delay = subprocess.run(["lv2info", "urn:mixtree:test:mtdelay"], env=env, capture_output=True, text=True).stdout
    assert "Has latency:       yes" in delay
    assert "Symbol:      delay" in delay and "Default:     1234" in delay
    # lilv names classes only with lv2core's bundle installed; the Turtle says them regardless.
    assert "a lv2:DelayPlugin," in (dpf_plugins["mtdelay.lv2"] / "mtdelay.ttl").read_text()
    assert "a lv2:InstrumentPlugin," in (dpf_plugins["mtsine.lv2"] / "mtsine.ttl").read_text()


def test_missing_dpf_or_compiler_is_said_plainly(tmp_path):
    assert "dpf-source" in dpf.missing(tmp_path)


RUN_FAULT = """
import sys, numpy as np
from mixtree.effects.plugins.clap import ClapPlugin
p = ClapPlugin(sys.argv[1])
p.set_parameter("fault", int(sys.argv[2]))
p.activate(48000, 64)
x = np.zeros((64, 2), np.float32)
print("processing", flush=True)
p.process(x, x, 64, None)
print("nan" if np.isnan(x).all() else "ok")
"""


def no_core_dumps():
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


@pytest.mark.parametrize(
    "fault, ends",
    [(0, "ok"), (1, "nan"), (2, -signal.SIGSEGV), (3, -signal.SIGABRT), (4, "timeout")],
)
def test_mtdelay_fault_misbehaves_as_promised(dpf_plugins, fault, ends):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    cmd = [sys.executable, "-c", RUN_FAULT, str(dpf_plugins["mtdelay.clap"]), str(fault)]
    try:
        done = subprocess.run(
            cmd, env=env, capture_output=True, text=True, timeout=4 if fault == 4 else 60, preexec_fn=no_core_dumps
        )
    except subprocess.TimeoutExpired as stuck:  # run() killed it
        out = stuck.stdout.decode() if isinstance(stuck.stdout, bytes) else stuck.stdout or ""
        assert ends == "timeout" and out.split() == ["processing"]  # stuck inside process, not before
        return
    said = done.stdout.split()[1:]
    assert (said[0] if said else done.returncode) == ends, done.stderr
