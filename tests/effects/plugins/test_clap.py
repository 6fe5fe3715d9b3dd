import ctypes
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from mixtree.effects.plugins import clap_abi as abi
from mixtree.effects.plugins.base import midi_block
from mixtree.effects.plugins.clap import ClapPlugin, list_clap
from mixtree.errors import PluginError
from tests.effects.plugins.blocks import noise, run

RATE = 48000
ZAM = Path("/usr/lib/clap/ZamCompX2.clap")


@pytest.fixture
def load(dpf_plugins):
    """Open a test plugin's CLAP build by name; close every one opened at the end."""
    opened = []

    def load(name: str, max_block: int = 1024, active: bool = True) -> ClapPlugin:
        plugin = ClapPlugin(dpf_plugins[f"{name}.clap"])
        opened.append(plugin)
        if active:
            plugin.activate(RATE, max_block)
        return plugin

    yield load
    for plugin in opened:
        plugin.close()


def test_list_clap_names_each_plugin_with_its_channels_and_kind(dpf_plugins):
    (gain,) = list_clap(dpf_plugins["mtgain.clap"])
    assert (gain.format, gain.uri, gain.name, gain.vendor) == ("clap", "org.mixtree.test.mtgain", "mtgain", "mixtree")
    assert (gain.inputs, gain.outputs, gain.instrument) == (2, 2, False)
    (sine,) = list_clap(dpf_plugins["mtsine.clap"])
    assert (sine.inputs, sine.outputs, sine.instrument) == (0, 2, True)


def test_parameters_take_snake_case_names_with_the_plugin_ranges(load):
    delay = load("mtdelay", active=False)
    assert [(p.id, p.min, p.max, p.default) for p in delay.parameters] == [
        ("delay", 0, 48000, 1234),
        ("fault", 0, 4, 0),
    ]
    assert delay.native_ids == {"delay": 0, "fault": 1}
    assert delay.get_parameter("delay") == 1234
    with pytest.raises(ValueError, match="no parameter 'volume'"):
        delay.get_parameter("volume")
    with pytest.raises(ValueError, match="within 0..48000"):
        delay.set_parameter("delay", 50000)


@pytest.mark.parametrize("block", [1, 64, 256, 1000])
def test_gain_scales_by_exactly_its_decibels_at_every_block_size(load, block):
    gain = load("mtgain", max_block=block)  # whole blocks, then a shorter last one
    gain.set_parameter("gain_db", -7.5)
    x = noise(3000)
    np.testing.assert_allclose(run(gain, x, block), x * 10 ** (-7.5 / 20), rtol=1e-6, atol=1e-7)


def test_a_parameter_set_between_blocks_takes_effect_in_the_next_block(load):
    gain = load("mtgain")
    x = noise(512)
    y = np.zeros_like(x)
    gain.process(x, y, 256, None)
    gain.set_parameter("gain_db", 12.0)
    assert gain.get_parameter("gain_db") == 0.0  # queued for the next block, not yet delivered
    gain.process(x[256:], y[256:], 256, None)
    np.testing.assert_array_equal(y[:256], x[:256])
    np.testing.assert_allclose(y[256:], x[256:] * 10 ** (12 / 20), rtol=1e-6)
    assert gain.get_parameter("gain_db") == 12.0


def test_a_parameter_set_while_inactive_arrives_at_once(load):
    gain = load("mtgain", active=False)
    gain.set_parameter("gain_db", -20.0)
    assert gain.get_parameter("gain_db") == -20.0


def test_delay_reports_its_latency_and_delays_by_exactly_that(load):
    delay = load("mtdelay", max_block=512)
    assert delay.latency == 1234
    x = noise(6000)
    y = run(delay, x, 512)
    assert not y[:1234].any()
    np.testing.assert_array_equal(y[1234:], x[:-1234])


def test_a_new_delay_changes_the_latency_after_one_process_call(load):
    delay = load("mtdelay", max_block=256)
    run(delay, noise(1024), 256)
    delay.set_parameter("delay", 100)
    delay.process(noise(256), np.zeros((256, 2), np.float32), 256, None)
    assert delay.latency == 100
    assert delay.restart_requested  # CLAP's way to say the host should re-activate it
    delay.activate(RATE, 256)
    assert not delay.restart_requested and delay.latency == 100


def test_idle_runs_the_main_thread_callback_a_plugin_asked_for(load):
    delay = load("mtdelay", active=False)
    host = delay._host.struct
    host.request_callback(ctypes.byref(host))  # as the plugin would, from any thread
    assert delay._host.callback_requested
    delay.idle()
    assert not delay._host.callback_requested


def test_sine_sounds_from_the_exact_frame_of_its_note_on_until_its_note_off(load):
    sine = load("mtsine", max_block=512)
    midi = midi_block()
    midi.frame[:2] = 100, 300
    midi.data[:2] = (0x90, 69, 127), (0x80, 69, 0)
    midi.size[:2] = 3
    midi.count[0] = 2
    y = np.zeros((512, 2), np.float32)
    sine.process(np.zeros((512, 0), np.float32), y, 512, midi)
    assert not y[:100].any()
    assert (y[100:300] != 0).all(axis=0).any() and y[100, 0] != 0
    assert np.abs(y[100:300]).max() == pytest.approx(0.25, abs=1e-3)
    assert not y[300:].any()


def test_notes_reach_a_plugin_the_same_as_clap_note_events(load):
    midi = midi_block()
    midi.frame[:3] = 7, 50, 90
    midi.data[:3] = (0x90, 60, 100), (0x91, 64, 90), (0x90, 60, 0)  # the last: note-on at velocity 0 = off
    midi.size[:3] = 3
    midi.count[0] = 3
    silent, out = np.zeros((128, 0), np.float32), []
    for dialect in (abi.CLAP_NOTE_DIALECT_MIDI, abi.CLAP_NOTE_DIALECT_CLAP):
        sine = load("mtsine", max_block=128)
        sine._note_dialect = dialect  # DPF accepts both; force the translation to CLAP notes
        out.append(np.zeros((128, 2), np.float32))
        sine.process(silent, out[-1], 128, midi)
    np.testing.assert_array_equal(out[0], out[1])
    assert not out[1][:7].any() and out[1][7].any()


def test_velocity_scales_the_sine(load):
    sine = load("mtsine", max_block=4800)
    midi = midi_block()
    midi.frame[0], midi.data[0], midi.size[0], midi.count[0] = 0, (0x90, 60, 64), 3, 1
    y = np.zeros((4800, 2), np.float32)
    sine.process(np.zeros((4800, 0), np.float32), y, 4800, midi)
    assert np.abs(y).max() == pytest.approx(64 / 127 * 0.25, rel=1e-3)


@pytest.mark.skipif(not ZAM.is_file(), reason="zam-plugins' CLAP builds are not installed")
def test_a_plugin_without_the_state_extension_saves_its_parameter_values():
    a, b = ClapPlugin(ZAM), ClapPlugin(ZAM)
    try:
        a.set_parameter("ratio", 8.0)
        a.set_parameter("threshold", -30.0)
        b.load_state(a.save_state())
        assert [b.get_parameter(p.id) for p in b.parameters] == [a.get_parameter(p.id) for p in a.parameters]
        assert b.get_parameter("ratio") == 8.0
    finally:
        a.close()
        b.close()


@pytest.mark.skipif(not ZAM.is_file(), reason="zam-plugins' CLAP builds are not installed")
def test_a_zam_plugin_loads_lists_parameters_and_processes_stereo():
    plugin = ClapPlugin(ZAM)
    try:
        assert plugin.info.uri == "com.zamaudio.ZamCompX2" and plugin.info.inputs == plugin.info.outputs == 2
        ids = [p.id for p in plugin.parameters]
        assert {"attack", "release", "ratio", "threshold"} <= set(ids)
        plugin.activate(RATE, 256)
        plugin.set_parameter("threshold", plugin.parameters[ids.index("threshold")].min)
        y = run(plugin, noise(4096), 256)
        assert np.isfinite(y).all() and y.any() and plugin.errors == 0
    finally:
        plugin.close()


def test_state_round_trips_to_a_new_instance_with_the_same_values_and_output(load):
    a = load("mtdelay", max_block=256)
    a.set_parameter("delay", 321)
    run(a, noise(512), 256)
    state = a.save_state()
    b = load("mtdelay", max_block=256, active=False)
    b.load_state(state)
    assert b.get_parameter("delay") == 321 and b.latency == 321
    b.activate(RATE, 256)
    c = load("mtdelay", max_block=256)  # compare fresh starts: a's delay line holds the past
    c.load_state(state)
    x = noise(2048, seed=3)
    np.testing.assert_array_equal(run(b, x, 256), run(c, x, 256))
    np.testing.assert_array_equal(run(b, x, 256)[321:], x[:-321])


@pytest.mark.parametrize(
    "garbage",
    [
        b"",
        b"garbage",
        b"mixtree-clap-state\x00org.mixtree.test.mtgain\x00s__dpf_parameters_begin__",
        b"mixtree-clap-state\x00org.mixtree.test.mtdelay\x00x",
        b"mixtree-clap-state\x00org.mixtree.test.mtdelay\x00p[1, 2]",
        b'mixtree-clap-state\x00org.mixtree.test.mtdelay\x00p{"delay": 1e9}',
    ],
)
def test_a_state_not_saved_from_this_plugin_is_refused(load, garbage):
    delay = load("mtdelay", active=False)
    with pytest.raises(PluginError, match="org.mixtree.test.mtdelay") as caught:
        delay.load_state(garbage)
    assert caught.value.plugin == "org.mixtree.test.mtdelay"


def test_a_missing_file_is_an_error_naming_it(tmp_path):
    with pytest.raises(PluginError, match="nothing.clap.*no such file") as caught:
        ClapPlugin(tmp_path / "nothing.clap")
    assert caught.value.plugin.endswith("nothing.clap")


def test_a_file_that_is_not_a_plugin_is_an_error_naming_it(tmp_path, dpf_plugins):
    text = tmp_path / "text.clap"
    text.write_text("not a plugin")
    with pytest.raises(PluginError, match="text.clap.*cannot be loaded"):
        ClapPlugin(text)
    lv2_binary = next(dpf_plugins["mtgain.lv2"].glob("*.so"))  # a library, but no clap_entry
    with pytest.raises(PluginError, match="mtgain.so.*not a CLAP plugin"):
        list_clap(lv2_binary)


def test_an_unknown_plugin_id_is_an_error_naming_the_ones_there(dpf_plugins):
    with pytest.raises(PluginError, match="no plugin 'org.other'.*org.mixtree.test.mtgain"):
        ClapPlugin(dpf_plugins["mtgain.clap"], "org.other")


def test_steady_state_processing_allocates_nothing(load):
    gain = load("mtgain", max_block=256)
    sine = load("mtsine", max_block=256)
    x, y = noise(256), np.zeros((256, 2), np.float32)
    silent = np.zeros((256, 0), np.float32)
    midi = midi_block()
    midi.frame[:2], midi.data[:2], midi.size[:2], midi.count[0] = (10, 200), ((0x90, 60, 100), (0x80, 60, 0)), 3, 2
    tracemalloc.start()
    mine = [tracemalloc.Filter(False, tracemalloc.__file__)]
    snapshots = []
    for _ in range(3):  # warm-up, a window to discard, the window measured
        snapshots.append(tracemalloc.take_snapshot().filter_traces(mine))
        for k in range(1000):
            gain.set_parameter("gain_db", -(k % 10))
            gain.process(x, y, 256, None)
            sine.process(silent, y, 256, midi)
    after = tracemalloc.take_snapshot().filter_traces(mine)
    tracemalloc.stop()
    grown = sum(s.size_diff for s in after.compare_to(snapshots[-1], "filename") if s.size_diff > 0)
    assert grown < 4096, f"{grown} bytes allocated over 1000 blocks"
