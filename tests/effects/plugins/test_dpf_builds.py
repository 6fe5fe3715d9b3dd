"""The test plugins' VST3 and LV2 builds work in other hosts (their CLAP builds: test_clap)."""

import os
import shutil
import subprocess

import numpy as np
import pytest

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
