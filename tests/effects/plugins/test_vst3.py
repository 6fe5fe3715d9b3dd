from pathlib import Path

import numpy as np
import pytest

from mixtree.effects.plugins.base import midi_block
from mixtree.effects.plugins.clap import ClapPlugin
from mixtree.effects.plugins.vst3 import Vst3Plugin, _describe, list_vst3
from mixtree.errors import PluginError
from tests.effects.plugins.blocks import noise, run

pytest.importorskip("pedalboard")

RATE = 48000
ZAM = Path("/usr/lib/vst3")


@pytest.fixture
def load(dpf_plugins):
    """Open a test plugin's VST3 build by name; close every one opened at the end."""
    opened = []

    def load(name: str, max_block: int = 1024, active: bool = True, fmt: str = "vst3") -> Vst3Plugin:
        plugin = (Vst3Plugin if fmt == "vst3" else ClapPlugin)(dpf_plugins[f"{name}.{fmt}"])
        opened.append(plugin)
        if active:
            plugin.activate(RATE, max_block)
        return plugin

    yield load
    for plugin in opened:
        plugin.close()


def test_list_vst3_names_each_plugin_with_its_channels_and_kind(dpf_plugins):
    (gain,) = list_vst3(dpf_plugins["mtgain.vst3"])
    assert (gain.format, gain.uri, gain.name, gain.vendor) == ("vst3", "mtgain", "mtgain", "mixtree")
    assert (gain.inputs, gain.outputs, gain.instrument) == (2, 2, False)
    (sine,) = list_vst3(dpf_plugins["mtsine.vst3"])  # 2080 MIDI CC parameters: loads without reading them
    assert (sine.inputs, sine.outputs, sine.instrument) == (0, 2, True)


def test_parameters_take_snake_case_names_with_the_plugin_ranges(load):
    delay = load("mtdelay", active=False)
    # its read-only "Latency" parameter is not listed
    assert [(p.id, p.min, p.max, p.default, p.unit) for p in delay.parameters] == [
        ("delay", 0, 48000, 1234, "samples"),
        ("fault", 0, 4, 0, ""),
    ]
    assert delay.get_parameter("delay") == 1234
    delay.set_parameter("delay", 777)
    assert delay.get_parameter("delay") == 777  # exact, though pedalboard holds 777 / 48000
    with pytest.raises(ValueError, match="no parameter 'volume'"):
        delay.get_parameter("volume")
    with pytest.raises(ValueError, match="within 0..48000"):
        delay.set_parameter("delay", 50000)
    gain = load("mtgain", active=False)
    assert [(p.id, p.min, p.max, p.default, p.unit, p.scale) for p in gain.parameters] == [
        ("gain_db", -60, 24, 0, "dB", "db")
    ]
    for value in (-6.1, 0.05, 23.999):  # pedalboard holds float32 (value + 60) / 84: read back as set
        gain.set_parameter("gain_db", value)
        assert gain.get_parameter("gain_db") == value


@pytest.mark.parametrize("block", [64, 256, 1000])
def test_gain_scales_by_exactly_its_decibels_at_every_block_size(load, block):
    gain = load("mtgain", max_block=block)  # whole blocks, then a shorter last one
    gain.set_parameter("gain_db", -7.5)
    gain.activate(RATE, block)  # a value set while active arrives with the next block
    x = noise(3000)
    np.testing.assert_allclose(run(gain, x, block), x * 10 ** (-7.5 / 20), rtol=1e-6, atol=1e-7)


def test_a_parameter_set_between_blocks_takes_effect_in_the_next_block(load):
    gain = load("mtgain")
    x = noise(512)
    y = np.zeros_like(x)
    gain.set_parameter("gain_db", -6.0)
    gain.process(x[:256], y[:256], 256, None)
    gain.set_parameter("gain_db", 6.0)
    gain.process(x[256:], y[256:], 256, None)
    np.testing.assert_allclose(y[:256], x[:256] * 10 ** (-6 / 20), rtol=1e-6)
    np.testing.assert_allclose(y[256:], x[256:] * 10 ** (6 / 20), rtol=1e-6)


@pytest.mark.parametrize("block", [256, 1000, 2048])
def test_delay_reports_its_latency_and_comes_out_raw_delayed_by_exactly_that(load, block):
    delay = load("mtdelay", max_block=block)
    assert delay.latency == 1234
    x = noise(6000)
    y = run(delay, x, block)
    # pedalboard would drop the first 1234 frames; a raw plugin gives them, silent
    assert not y[:1234].any()
    np.testing.assert_array_equal(y[1234:], x[:-1234])


def test_delay_output_equals_its_clap_build_s_even_as_its_latency_grows(load):
    x = noise(8000)
    out = []
    for fmt in ("vst3", "clap"):
        delay = load("mtdelay", max_block=256, active=False, fmt=fmt)
        delay.set_parameter("delay", 100)
        delay.activate(RATE, 256)
        assert delay.latency == 100
        y = np.zeros_like(x)
        for start in range(0, len(x), 256):
            if start == 1024:  # more latency than pedalboard has seen frames: it drops the next 2600
                delay.set_parameter("delay", 3000)
            n = min(256, len(x) - start)
            delay.process(x[start : start + n], y[start : start + n], n, None)
        out.append(y)
    np.testing.assert_array_equal(out[0], out[1])


def test_latency_follows_a_parameter_at_the_next_block(load):
    delay = load("mtdelay", max_block=256)
    delay.set_parameter("delay", 100)
    assert delay.latency == 1234  # pedalboard's plugin takes parameters as it processes
    run(delay, noise(256), 256)
    assert delay.latency == 100


def test_state_round_trip_restores_parameters_and_latency(load):
    delay = load("mtdelay", max_block=256)
    delay.set_parameter("delay", 777)
    run(delay, noise(256), 256)
    state = delay.save_state()
    again = load("mtdelay", max_block=256, active=False)
    again.load_state(state)
    assert again.get_parameter("delay") == 777
    again.activate(RATE, 256)
    assert again.latency == 777
    x = noise(2000, seed=1)
    y = run(again, x, 256)
    assert not y[:777].any()
    np.testing.assert_array_equal(y[777:], x[:-777])


def test_a_state_that_is_not_this_plugin_s_is_a_plugin_error_naming_it(load, dpf_plugins):
    delay = load("mtdelay")
    for garbage in (b"garbage", delay.save_state()[:-20], load("mtgain").save_state()):
        with pytest.raises(PluginError, match="mtdelay"):
            delay.load_state(garbage)
    assert delay.get_parameter("delay") == 1234


def test_a_missing_or_foreign_file_is_a_plugin_error_naming_it(tmp_path, dpf_plugins):
    with pytest.raises(PluginError, match="no-such.vst3.*no such file"):
        Vst3Plugin(tmp_path / "no-such.vst3")
    fake = tmp_path / "fake.vst3"
    fake.write_text("not a plugin")
    with pytest.raises(PluginError, match="fake.vst3.*not a VST3 plugin"):
        Vst3Plugin(fake)
    with pytest.raises(PluginError, match="not a VST3 plugin"):
        list_vst3(dpf_plugins["mtgain.clap"])
    with pytest.raises(PluginError, match="holds no plugin 'other' \\(it holds mtgain\\)"):
        Vst3Plugin(dpf_plugins["mtgain.vst3"], "other")


@pytest.mark.parametrize(("name", "channels"), [("ZamComp", 1), ("ZamCompX2", 2)])
def test_a_zam_plugin_processes_as_many_channels_as_it_takes(name, channels):
    if not (ZAM / f"{name}.vst3").is_dir():
        pytest.skip("zam-plugins is not installed")
    comp = Vst3Plugin(ZAM / f"{name}.vst3")
    try:
        assert (comp.info.inputs, comp.info.outputs, comp.info.vendor) == (channels, channels, "Damien Zammit")
        assert comp.get_parameter("ratio") == 4.0
        comp.set_parameter("threshold", -30.0)
        comp.set_parameter("ratio", 10.0)
        comp.activate(RATE, 512)
        x = noise(4800, channels) * 1.5
        y = run(comp, x, 512, outputs=channels)
        assert np.isfinite(y).all() and 0 < np.abs(y[2400:]).max() < 0.5 * np.abs(x).max()  # it compresses
    finally:
        comp.close()


def test_an_instrument_plays_midi_on_its_frames_like_its_clap_build(load):
    midi = midi_block()
    midi.frame[:2] = 100, 300
    midi.data[:2] = (0x90, 69, 127), (0x80, 69, 0)
    midi.size[:2] = 3
    midi.count[0] = 2
    silent = np.zeros((512, 0), np.float32)
    out = []
    for fmt in ("vst3", "clap"):
        sine = load("mtsine", max_block=512, fmt=fmt)
        out.append(np.zeros((512, 2), np.float32))
        sine.process(silent, out[-1], 512, midi)
    assert not out[0][:100].any() and out[0][100, 0] != 0 and not out[0][300:].any()
    np.testing.assert_array_equal(out[0], out[1])


def test_a_stepped_parameter_with_named_values_is_offered_as_choices():
    if not (ZAM / "ZamTube.vst3").is_dir():
        pytest.skip("zam-plugins is not installed")
    tube = Vst3Plugin(ZAM / "ZamTube.vst3")
    try:
        ids = [p.id for p in tube.parameters]
        assert "current_program" not in ids and "tube_drive" in ids  # the program selector is not one
        (model,) = [p for p in tube.parameters if p.id == "tone_stack_model"]
        assert len(model.choices) == 25 and model.choices[0] == "1959 Bassman 5F6-A" and model.ramp == 0.0
        tube.set_parameter("tone_stack_model", model.choices[7])
        assert tube.get_parameter("tone_stack_model") == 7
        tube.set_parameter("tube_drive", 5.5)
        assert tube.get_parameter("tube_drive") == 5.5
    finally:
        tube.close()


class _Text:
    """A stand-in for a pedalboard parameter: a continuous one, shown by ``show(raw)``."""

    def __init__(self, show, label="", default_raw=0.5):
        self.name, self.label, self.show, self.default_raw_value = "Knob", label, show, default_raw
        self.num_steps, self.is_discrete, self.is_boolean = 0x7FFFFFFF, False, False

    def get_text_for_raw_value(self, raw):
        return self.show(raw)


def test_a_parameter_s_text_decides_its_range_and_how_values_map():
    log, m = _describe(_Text(lambda r: f"{20 * 1000**r:.6f} Hz", "Hz"), "knob")
    assert (m.kind, log.min, log.max, log.unit, log.scale) == ("log", 20, 20000, "Hz", "log")
    assert log.default == pytest.approx(20 * 1000**0.5) and m.to_value(m.to_raw(1000.0)) == 1000.0
    curve, m = _describe(_Text(lambda r: f"{100 * r * r:.6f}"), "knob")  # neither linear nor log
    assert (m.kind, curve.min, curve.max) == ("table", 0, 100)
    assert m.to_value(m.to_raw(25.0)) == pytest.approx(25.0, abs=0.01)
    named, m = _describe(_Text(lambda r: "wide" if r > 0.5 else "narrow"), "knob")  # no numbers: the raw value
    assert (m.kind, named.min, named.max, named.default) == ("raw", 0, 1, 0.5)
