"""The LV2 host, over real plugins (Debian: liblilv-0-0 lv2-examples zam-plugins x42-plugins mda-lv2)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tracemalloc

import numpy as np
import pytest
import soundfile as sf

from mixtree.effects.plugins import lilv
from mixtree.effects.plugins.base import midi_block
from mixtree.errors import PluginError

try:
    lilv.load()
except OSError as e:  # pragma: no cover - depends on the machine
    pytest.skip(f"liblilv is not installed ({e}): apt-get install liblilv-0-0", allow_module_level=True)

from mixtree.effects.plugins.lv2 import Lv2Plugin, list_lv2  # noqa: E402

AMP = "http://lv2plug.in/plugins/eg-amp"
DPL = "http://gareus.org/oss/lv2/dpl#stereo"
JX10 = "http://drobilla.net/plugins/mda/JX10"
SAMPLER = "http://lv2plug.in/plugins/eg-sampler"
ZAMCOMP = "urn:zamaudio:ZamCompX2"
RATE = 48000


@pytest.fixture(scope="module")
def installed() -> set[str]:
    return {info.uri for info in list_lv2()}


@pytest.fixture
def load(installed):
    """Return a loader that skips when the plugin's package is missing and closes what it made."""
    made = []

    def make(uri: str, max_block: int = 1024) -> Lv2Plugin:
        if uri not in installed:
            pytest.skip(f"{uri} is not installed")
        plugin = Lv2Plugin(uri, RATE, max_block)
        made.append(plugin)
        plugin.activate(RATE, max_block)
        return plugin

    yield make
    for plugin in made:
        plugin.close()


def noise(frames: int, channels: int, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal((frames, channels)) * 0.25).astype(np.float32)


def run(plugin: Lv2Plugin, signal: np.ndarray, block: int, max_block: int = 1024) -> np.ndarray:
    """Process ``signal`` through ``plugin`` in blocks of ``block`` frames."""
    inp = np.zeros((max_block, plugin.info.inputs), np.float32)
    out = np.zeros((max_block, plugin.info.outputs), np.float32)
    result = np.zeros((len(signal), plugin.info.outputs), np.float32)
    for start in range(0, len(signal), block):
        n = min(block, len(signal) - start)
        inp[:n] = signal[start : start + n]
        plugin.process(inp, out, n, None)
        result[start : start + n] = out[:n]
    return result


def test_list_names_the_installed_plugins_with_their_channels(installed):
    infos = {info.uri: info for info in list_lv2()}
    if AMP not in infos:
        pytest.skip("lv2-examples is not installed")
    amp = infos[AMP]
    assert (amp.format, amp.name, amp.inputs, amp.outputs, amp.instrument) == ("lv2", "Simple Amplifier", 1, 1, False)
    assert os.path.isdir(amp.path)
    if JX10 in infos:
        assert infos[JX10].instrument and infos[JX10].inputs == 0 and infos[JX10].outputs == 2
        assert infos[JX10].vendor and infos[JX10].version


@pytest.mark.parametrize("block", [1, 64, 256, 1000])
@pytest.mark.parametrize("gain_db", [-12.0, 0.0, 6.0])
def test_eg_amp_multiplies_by_its_gain_in_db(load, block, gain_db):
    amp = load(AMP)
    gain = amp.parameters[0]
    assert (gain.id, gain.unit, gain.min, gain.max) == ("gain", "dB", -90.0, 24.0)
    amp.set_parameter("gain", gain_db)
    assert amp.get_parameter("gain") == gain_db
    signal = noise(3000, 1)
    np.testing.assert_allclose(run(amp, signal, block), signal * 10 ** (gain_db / 20), atol=1e-6, rtol=1e-6)


def test_a_bundle_path_with_one_plugin_loads_it(installed):
    if AMP not in installed:
        pytest.skip("lv2-examples is not installed")
    path = next(info.path for info in list_lv2() if info.uri == AMP)
    amp = Lv2Plugin(path)
    try:
        assert amp.info.uri == AMP
    finally:
        amp.close()


def test_a_bundle_path_with_many_plugins_is_refused(installed):
    if JX10 not in installed:
        pytest.skip("mda-lv2 is not installed")
    path = next(info.path for info in list_lv2() if info.uri == JX10)
    with pytest.raises(PluginError, match="holds .* LV2 plugins, not one"):
        Lv2Plugin(path)


def test_an_enumeration_is_a_choice_whose_index_picks_the_ports_value(load):
    tone = load("http://drobilla.net/plugins/mda/TestTone")
    mode = next(p for p in tone.parameters if p.id == "mode")
    assert mode.choices[:5] == ("MIDI #", "Impulse", "White", "Pink", "Sine")
    assert (mode.min, mode.max, mode.ramp) == (0, len(mode.choices) - 1, 0)
    tone.set_parameter("mode", "Sine")
    assert tone.get_parameter("mode") == 4.0
    saved = re.search(rb'"mode" ;\s*pset:value ([-0-9.e]+)', tone.save_state())
    assert saved and float(saved[1]) == pytest.approx(0.57)  # the plugin's own value for "Sine"
    with pytest.raises(ValueError, match="one of"):
        tone.set_parameter("mode", "Square")


def test_a_zam_compressor_lists_ranged_parameters_and_processes_stereo(load):
    comp = load(ZAMCOMP, 256)
    assert (comp.info.inputs, comp.info.outputs) == (2, 2)  # the side-chain input is not a main channel
    params = {p.id: p for p in comp.parameters}
    assert params["thr"].min == -80 and params["thr"].max == 0 and params["thr"].unit == "dB"
    assert params["att"].unit == "ms" and params["rat"].scale == "log"
    assert all(p.min <= p.default <= p.max for p in comp.parameters)
    assert "gr" in comp.readouts and "gr" not in params
    comp.set_parameter("thr", -30.0)
    out = run(comp, noise(RATE // 2, 2) * 4, 256, 256)
    assert np.isfinite(out).all() and np.abs(out).max() > 0.01
    assert comp.get_parameter("gr") > 0  # the meter reads the gain it took off


def test_dpl_reports_its_lookahead_as_latency_and_delays_by_it(load):
    dpl = load(DPL, 512)
    assert dpl.latency == 64  # 1.33 ms at 48 kHz: known before the first block
    impulse = np.zeros((2048, 2), np.float32)
    impulse[10] = 0.5  # below the threshold: passes untouched
    out = run(dpl, impulse, 512, 512)
    assert np.argmax(np.abs(out[:, 0])) == 10 + 64 and dpl.latency == 64
    np.testing.assert_allclose(out[74], [0.5, 0.5], atol=1e-6)
    assert "latency" in dpl.readouts and "latency" not in {p.id for p in dpl.parameters}


def test_a_plugin_without_latency_port_reports_none(load):
    assert load(AMP).latency == 0


def test_jx10_is_an_instrument_that_sounds_from_the_note_on_frame(load):
    synth = load(JX10, 512)
    assert synth.info.instrument and synth.info.inputs == 0
    synth.set_parameter("env_rel", 0.0)
    midi, silence = midi_block(), np.zeros((512, 0), np.float32)
    out = np.zeros((512, 2), np.float32)
    midi.frame[0], midi.data[0], midi.size[0], midi.count[0] = 100, (0x90, 60, 100), 3, 1
    synth.process(silence, out, 512, midi)
    assert not out[:100].any()
    assert np.abs(out[100:]).max() > 0.01
    midi.count[0] = 0
    synth.process(silence, out, 512, midi)
    assert np.abs(out).max() > 0.01  # the note holds
    midi.frame[0], midi.data[0], midi.count[0] = 0, (0x80, 60, 0), 1
    synth.process(silence, out, 512, midi)
    midi.count[0] = 0
    for _ in range(RATE // 512):  # a second
        synth.process(silence, out, 512, midi)
    assert np.abs(out).max() < 1e-4


def test_eg_sampler_loads_its_default_sample_through_the_worker_and_plays_it(load):
    sampler = load(SAMPLER, 512)  # requires worker:schedule and state:loadDefaultState
    midi, out = midi_block(), np.zeros((512, 1), np.float32)
    midi.frame[0], midi.data[0], midi.size[0], midi.count[0] = 100, (0x90, 60, 100), 3, 1
    sampler.process(np.zeros((512, 0), np.float32), out, 512, midi)
    assert not out[:100].any() and np.abs(out[100:]).max() > 0.1
    assert b"click.wav" in sampler.save_state()


def test_a_state_restored_while_active_loads_its_sample_through_the_worker(load, tmp_path):
    sampler = load(SAMPLER, 512)
    ramp = np.linspace(0, 0.5, 4800, endpoint=False, dtype=np.float32)
    sf.write(tmp_path / "ramp.wav", ramp, RATE, subtype="FLOAT")
    state = sampler.save_state()
    default = next(word for word in state.split() if word.endswith(b"click.wav>"))
    sampler.load_state(state.replace(default, f"<{(tmp_path / 'ramp.wav').as_uri()}>".encode()))  # work scheduled
    midi, out, nothing = midi_block(), np.zeros((512, 1), np.float32), np.zeros((512, 0), np.float32)
    sampler.process(nothing, out, 512, midi)  # the worker's response (the new sample) reaches the plugin
    midi.frame[0], midi.data[0], midi.size[0], midi.count[0] = 100, (0x90, 60, 127), 3, 1
    sampler.process(nothing, out, 512, midi)
    np.testing.assert_array_equal(out[100:, 0], ramp[:412])


def test_state_round_trip_restores_parameters_and_sound(load):
    first = load(ZAMCOMP, 256)
    for ident, value in (("thr", -24.0), ("rat", 8.0), ("mak", 6.0), ("stereodet", 1.0)):
        first.set_parameter(ident, value)
    state = first.save_state()
    assert isinstance(state, bytes)
    second = load(ZAMCOMP, 256)
    second.load_state(state)
    for p in first.parameters:
        assert second.get_parameter(p.id) == first.get_parameter(p.id), p.id
    signal = noise(8192, 2) * 4
    np.testing.assert_array_equal(run(second, signal, 256, 256), run(first, signal, 256, 256))


def test_state_survives_a_new_sample_rate(installed):
    if AMP not in installed:
        pytest.skip("lv2-examples is not installed")
    amp = Lv2Plugin(AMP, 48000, 256)
    try:
        amp.set_parameter("gain", -6.0)
        amp.activate(44100, 1024)  # instantiates again
        assert amp.get_parameter("gain") == -6.0
        signal = noise(2048, 1)
        np.testing.assert_allclose(run(amp, signal, 1000), signal * 10 ** (-6 / 20), atol=1e-6)
    finally:
        amp.close()


@pytest.mark.parametrize("garbage", [b"", b"not turtle at all {{", b"\xff\xfe", None])
def test_garbage_state_is_refused_naming_the_plugin(load, garbage):
    amp = load(AMP)
    with pytest.raises(PluginError, match="eg-amp"):
        amp.load_state(garbage)


def test_another_plugins_state_is_refused(load):
    state = load(DPL).save_state()
    with pytest.raises(PluginError, match="belongs to"):
        load(AMP).load_state(state)


def test_unknown_uri_raises_plugin_error_naming_it():
    with pytest.raises(PluginError, match="urn:nowhere:nothing") as caught:
        Lv2Plugin("urn:nowhere:nothing")
    assert caught.value.plugin == "urn:nowhere:nothing"


def test_out_of_range_or_unknown_parameters_are_value_errors(load):
    amp = load(AMP)
    with pytest.raises(ValueError, match="-90..24"):
        amp.set_parameter("gain", 30.0)
    with pytest.raises(ValueError, match="gain"):
        amp.set_parameter("volume", 0.0)
    assert amp.get_parameter("gain") == 0.0


def test_steady_state_processing_allocates_nothing(load):
    synth, amp, sampler = load(JX10, 256), load(AMP, 256), load(SAMPLER, 256)
    midi = midi_block()
    silence, mono = np.zeros((256, 0), np.float32), np.zeros((256, 1), np.float32)
    out2, out1 = np.zeros((256, 2), np.float32), np.zeros((256, 1), np.float32)
    tracemalloc.start()
    mine = [tracemalloc.Filter(False, tracemalloc.__file__)]
    snapshots = []
    for _ in range(3):  # warm-up, a window to discard, the window measured
        snapshots.append(tracemalloc.take_snapshot().filter_traces(mine))
        for k in range(2000):
            midi.count[0] = 1 if k % 50 == 0 else 0
            midi.frame[0], midi.data[0], midi.size[0] = k % 256, (0x90 if k % 100 == 0 else 0x80, 60, 90), 3
            synth.process(silence, out2, 256, midi)
            sampler.process(silence, out1, 256, midi)
            amp.process(mono, out1, 1 + k % 256, None)
    after = tracemalloc.take_snapshot().filter_traces(mine)
    tracemalloc.stop()
    grown = sum(s.size_diff for s in after.compare_to(snapshots[-1], "filename") if s.size_diff > 0)
    assert grown < 2048, f"{grown} bytes allocated over 2000 blocks"


def test_repeated_create_and_close_is_clean(installed):
    if AMP not in installed:
        pytest.skip("lv2-examples is not installed")
    block = np.zeros((64, 1), np.float32)
    for _ in range(200):
        amp = Lv2Plugin(AMP, RATE, 64)
        amp.activate(RATE, 64)
        amp.process(block, block, 64, None)
        amp.close()
        amp.close()  # twice is harmless
    with pytest.raises(PluginError, match="closed"):
        amp.save_state()


def test_the_world_reads_lv2_path_when_first_used(installed, tmp_path):
    if AMP not in installed:
        pytest.skip("lv2-examples is not installed")
    bundle = next(info.path for info in list_lv2() if info.uri == AMP)
    (tmp_path / "eg-amp.lv2").symlink_to(bundle)
    code = "from mixtree.effects.plugins.lv2 import list_lv2; print(*[i.uri for i in list_lv2()])"
    env = {**os.environ, "LV2_PATH": str(tmp_path), "PYTHONPATH": os.pathsep.join(sys.path)}
    found = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert found.stdout.split() == [AMP]


def test_the_urid_map_gives_one_id_per_uri_across_threads():
    from concurrent.futures import ThreadPoolExecutor

    from mixtree.effects.plugins.lv2 import _world

    uris = [f"urn:mixtree:test-urid:{i}" for i in range(500)]
    with ThreadPoolExecutor(8) as pool:
        rounds = list(pool.map(lambda _: [_world().map(u) for u in uris], range(8)))
    assert all(r == rounds[0] for r in rounds) and len(set(rounds[0])) == len(uris) and 0 not in rounds[0]
