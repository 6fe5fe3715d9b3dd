"""Hosted plugins in a project: parameters, automation, saved state, a missing plugin."""

import json
import warnings

import numpy as np
import pytest

import mixtree as mt
from mixtree import effects as fx
from mixtree.effects.offline import EffectWarning, OfflineEffect
from mixtree.errors import PluginError
from tests.conftest import RATE

AMP = "http://lv2plug.in/plugins/eg-amp"  # mono in, mono out; gain in dB
DPL = "http://gareus.org/oss/lv2/dpl#stereo"

try:
    fx.Plugin(AMP).close()
except PluginError as e:  # pragma: no cover - the test set-up installs lv2-examples
    pytest.skip(f"no eg-amp here ({e}): apt-get install liblilv-0-0 lv2-examples", allow_module_level=True)


@pytest.fixture
def dc(project, ones):
    """One track playing constant 1.0 (mono, at the centre)."""
    t = project.add_audio_track("DC")
    t.add_clip(project.pool.load(ones))
    return t


C = np.float32(np.sqrt(0.5))


def test_a_plugin_plays_in_a_chain_with_its_own_parameters(project, dc):
    amp = dc.add_effect(fx.Plugin(AMP, gain=-6.0))
    assert [p.id for p in amp.parameters] == ["gain"] and amp.parameters[0].unit == "dB"
    assert amp.info.format == "lv2" and amp.info.uri == AMP
    out = project.render(0.0, 0.5)
    np.testing.assert_allclose(out, C * 10 ** (-6 / 20), rtol=1e-6)
    amp.gain = -12.0  # an attribute, an undoable edit
    np.testing.assert_allclose(project.render(0.0, 0.5), C * 10 ** (-12 / 20), rtol=1e-6)
    project.undo()
    assert amp.gain == -6.0
    with pytest.raises(ValueError, match="gain must be within -90..24"):
        amp.gain = 40.0


@pytest.mark.parametrize("blocksize", [32, 100, 4096])
def test_a_plugin_parameter_lane_reaches_the_audio_every_16_frames(project, dc, blocksize):
    amp = dc.add_effect(fx.Plugin(AMP))
    amp.automate("gain").set_points([(0.0, 0.0, "linear", 0.0), (1.0, -60.0, "hold", 0.0)])
    out = project.render(0.0, 1.5, blocksize=blocksize)[:, 0].astype(np.float64)
    knots = np.arange(int(1.5 * RATE)) // 16 * 16
    expected = C * 10 ** (np.clip(-60.0 * knots / RATE, -60.0, 0.0) / 20)
    np.testing.assert_allclose(out, expected, rtol=2e-6)
    assert amp.gain == 0.0  # its own value is untouched


def test_a_plugin_s_state_survives_save_and_load(project, dc, tmp_path):
    amp = dc.add_effect(fx.Plugin(AMP, gain=-9.0))
    before = project.render(0.0, 0.5)
    project.save(tmp_path / "song.json")
    saved = json.loads((tmp_path / "song.json").read_text())
    state = saved["tracks"][0]["effects"][0]
    assert state["type"] == "plugin" and state["uri"] == AMP and state["format"] == "lv2" and state["state"]
    again = mt.Project.load(tmp_path / "song.json")
    loaded = again.effect(amp.id)
    assert isinstance(loaded, fx.Plugin) and loaded.gain == -9.0
    assert np.array_equal(again.render(0.0, 0.5), before)


def test_a_plugin_missing_here_opens_offline_keeps_its_state_and_saves_it_back(project, dc, tmp_path):
    dc.add_effect(fx.Plugin(AMP, gain=-9.0))
    project.save(tmp_path / "song.json")
    doc = json.loads((tmp_path / "song.json").read_text())
    effect = doc["tracks"][0]["effects"][0]
    effect["uri"] = "http://example.org/plugins/not-here"
    (tmp_path / "moved.json").write_text(json.dumps(doc))
    with pytest.warns(EffectWarning, match="not-here"):
        again = mt.Project.load(tmp_path / "moved.json")
    placeholder = again.track(dc.id).effects[0]
    assert isinstance(placeholder, OfflineEffect) and "not-here" in placeholder.offline
    np.testing.assert_allclose(again.render(0.0, 0.5), C)  # passes the audio through
    again.save(tmp_path / "moved.json")
    kept = json.loads((tmp_path / "moved.json").read_text())["tracks"][0]["effects"][0]
    assert kept == effect


def test_a_plugin_that_cannot_be_found_is_a_plugin_error_naming_it():
    with pytest.raises(PluginError, match="no-such-plugin"):
        fx.Plugin("no-such-plugin")
    with pytest.raises(PluginError, match="Thing.vst3.*no such file"):
        fx.Plugin("/usr/lib/vst3/Thing.vst3")


def test_a_corrupt_saved_state_is_an_error_naming_the_place(project, dc, tmp_path):
    dc.add_effect(fx.Plugin(AMP))
    project.save(tmp_path / "song.json")
    doc = json.loads((tmp_path / "song.json").read_text())
    doc["tracks"][0]["effects"][0]["state"] = "not base64!"
    (tmp_path / "bad.json").write_text(json.dumps(doc))
    with warnings.catch_warnings(), pytest.raises(mt.ProjectFileError, match=r"tracks\[0\]\.effects\[0\].*base64"):
        mt.Project.load(tmp_path / "bad.json")


def test_a_plugin_reports_its_latency(project, dc):
    try:
        dpl = fx.Plugin(DPL)
    except PluginError:
        pytest.skip("x42-plugins is not installed")
    dc.add_effect(dpl)
    assert dpl.latency == 64


def test_a_clap_plugin_plays_and_reopens_from_its_saved_state(project, dc, tmp_path):
    path = "/usr/lib/clap/ZamComp.clap"
    try:
        comp = fx.Plugin(path, threshold=-30.0, ratio=4.0)
    except PluginError:
        pytest.skip("zam-plugins is not installed")
    dc.add_effect(comp)
    assert comp.info.format == "clap" and comp.info.uri == "com.zamaudio.ZamComp"
    before = project.render(0.0, 0.5)
    assert np.isfinite(before).all() and not np.allclose(before, C)  # it compresses
    project.save(tmp_path / "song.json")
    again = mt.Project.load(tmp_path / "song.json")
    loaded = again.effect(comp.id)
    assert loaded.info.format == "clap" and loaded.threshold == -30.0 and loaded.ratio == 4.0
    assert np.array_equal(again.render(0.0, 0.5), before)


@pytest.fixture
def sine_synth(project, dpf_plugins):
    """A MIDI track playing mixtree's test synth (CLAP): a sine per note, no envelope."""
    keys = project.add_midi_track("Keys", instrument=fx.Plugin(str(dpf_plugins["mtsine.clap"])))
    return keys


def test_a_plugin_instrument_starts_a_note_on_its_exact_frame(project, sine_synth):
    clip = sine_synth.add_midi_clip(0.0, 1.0)
    clip.add_note(69, 127, 1000 / RATE, 0.25)
    for blocksize in (64, 256, 4096):
        out = project.render(0.0, 0.5, blocksize=blocksize)[:, 0]
        assert not out[:1000].any() and out[1000] != 0.0, blocksize  # the synth's first sample is non-zero
        off = 1000 + round(0.25 * RATE)
        assert out[off - 1] != 0.0 and not out[off:].any()  # the note-off silences it (no envelope)


def test_a_plugin_instrument_chases_notes_held_across_the_start(project, sine_synth):
    sine_synth.add_midi_clip(0.0, 1.0).add_note(60, 100, 0.0, 0.8)
    out = project.render(0.5, 0.1)[:, 0]
    assert np.abs(out[:64]).max() > 0.01  # sounding from the first frame


def test_a_plugin_instrument_in_the_engine_stops_its_notes_on_stop(project, sine_synth):
    from mixtree.engine.engine import Engine

    sine_synth.add_midi_clip(0.0, 4.0).add_note(60, 100, 0.0, 4.0)
    eng = Engine(project, driver="null", blocksize=256)
    eng.play()
    assert np.abs(eng.process()).max() > 0.01
    eng.stop()
    for _ in range(4):
        eng.process()
    assert not eng.process().any()  # after the fade-out, silence: the note was ended
    eng.close()


def test_an_lv2_synth_plays_midi(project):
    try:
        jx10 = fx.Plugin("http://drobilla.net/plugins/mda/JX10")
    except PluginError:
        pytest.skip("mda-lv2 is not installed")
    keys = project.add_midi_track("JX10", instrument=jx10)
    keys.add_midi_clip(0.0, 1.0).add_note(60, 100, 0.2, 0.5)
    out = project.render(0.0, 1.0)
    assert np.isfinite(out).all()
    assert np.abs(out[: int(0.2 * RATE)]).max() == 0.0 and np.abs(out[int(0.3 * RATE) : int(0.6 * RATE)]).max() > 1e-3


def test_a_plugin_instrument_s_lane_is_heard_the_same_at_every_block_size(project):
    try:
        jx10 = fx.Plugin("http://drobilla.net/plugins/mda/JX10")
    except PluginError:
        pytest.skip("mda-lv2 is not installed")
    keys = project.add_midi_track("JX10", instrument=jx10)
    keys.add_midi_clip(0.0, 1.0).add_note(48, 100, 0.0, 0.9)
    plain = project.render(0.0, 1.0)
    jx10.automate("vcf_freq").set_points([(0.0, 0.1, "linear", 0.0), (1.0, 0.9, "hold", 0.0)])
    swept = {b: project.render(0.0, 1.0, blocksize=b) for b in (64, 256, 4096)}
    assert not np.allclose(swept[256], plain, atol=1e-3)  # the sweep is heard
    assert np.array_equal(swept[64], swept[256]) and np.array_equal(swept[4096], swept[256])


@pytest.fixture
def mtgain_vst3(dpf_plugins):
    """mixtree's test gain plugin, built as VST3 (see tests/effects/plugins/dpf)."""
    return str(dpf_plugins["mtgain.vst3"])


def test_a_vst3_plugin_plays_and_reopens_from_its_saved_state(project, dc, tmp_path, mtgain_vst3):
    gain = dc.add_effect(fx.Plugin(mtgain_vst3, gain_db=-6.0))
    assert gain.info.format == "vst3" and gain.info.uri == "mtgain" and gain.latency == 0
    before = project.render(0.0, 0.5)
    np.testing.assert_allclose(before, C * 10 ** (-6 / 20), rtol=1e-6)
    gain.gain_db = -12.0
    np.testing.assert_allclose(project.render(0.0, 0.5), C * 10 ** (-12 / 20), rtol=1e-6)
    project.undo()
    project.save(tmp_path / "song.json")
    saved = json.loads((tmp_path / "song.json").read_text())["tracks"][0]["effects"][0]
    assert (saved["format"], saved["uri"], saved["path"]) == ("vst3", "mtgain", mtgain_vst3) and saved["state"]
    again = mt.Project.load(tmp_path / "song.json")
    loaded = again.effect(gain.id)
    assert loaded.info.format == "vst3" and loaded.gain_db == -6.0
    assert np.array_equal(again.render(0.0, 0.5), before)


def test_a_mono_vst3_plugin_takes_the_mid_and_plays_it_on_both_sides(project, dc):
    path = "/usr/lib/vst3/ZamComp.vst3"
    try:
        comp = fx.Plugin(path, threshold=-30.0, ratio=4.0)
    except PluginError:
        pytest.skip("zam-plugins is not installed")
    dc.add_effect(comp)
    assert (comp.info.inputs, comp.info.outputs) == (1, 1)
    out = project.render(0.0, 0.5)
    assert np.isfinite(out).all() and np.array_equal(out[:, 0], out[:, 1]) and out[-1, 0] < C  # it compresses


def test_loading_plugins_built_with_fast_math_leaves_python_s_arithmetic_alone(dpf_plugins):
    tiny = np.float64(1e-310)  # subnormal: flushed to zero if a library switched FTZ/DAZ on
    for source in [str(dpf_plugins["mtgain.clap"]), str(dpf_plugins["mtgain.vst3"]), AMP]:
        plugin = fx.Plugin(source)
        plugin.process(np.zeros((64, 2), np.float32), RATE)
        assert tiny * 1.0 != 0.0, source
        plugin.close()


def test_an_impulse_measures_the_latency_a_plugin_reports(dpf_plugins):
    delay = fx.Plugin(str(dpf_plugins["mtdelay.clap"]), delay=777)
    delay.prepare(RATE)
    assert delay.latency == 777 and delay.measure_latency(RATE) == 777
    synth = fx.Plugin(str(dpf_plugins["mtsine.clap"]))
    assert synth.measure_latency(RATE, seconds=0.1) is None  # nothing comes out of a synth without notes


@pytest.mark.parametrize("sandbox", [False, True])
def test_idle_replaces_a_plugin_that_asked_for_a_restart_by_one_in_its_state(dpf_plugins, sandbox):
    delay = fx.Plugin(str(dpf_plugins["mtdelay.clap"]), sandbox=sandbox, delay=100)
    delay.prepare(RATE)
    x = (np.random.default_rng(2).standard_normal((256, 2)) * 0.1).astype(np.float32)
    delay.process_block(x.copy(), RATE)
    assert delay.idle() == []  # nothing asked
    old = delay._plugin
    delay.delay = 40
    delay.process_block(x.copy(), RATE)  # the plugin takes the value here, and asks
    assert old.restart_requested
    assert delay.idle() == [old]
    assert delay._plugin is not old and not delay._plugin.restart_requested
    assert delay.latency == 40 and delay._plugin.get_parameter("delay") == 40
    y = x.copy()
    delay.process_block(y, RATE)  # the new instance, from rest
    assert not y[:40].any() and np.array_equal(y[40:], x[:-40])
    old.close()
    delay.close()


def test_a_plugin_plays_in_an_alias_instance_on_an_instance_of_its_own(project, wav, dpf_plugins):
    x = (np.random.default_rng(5).standard_normal((RATE, 1)) * 0.1).astype(np.float32)
    m = project.add_metatrack("M")
    inner = project.add_audio_track("In", parent_id=m.id)
    inner.add_clip(project.pool.load(wav(x, name="x.wav")))
    gain = inner.add_effect(fx.Plugin(str(dpf_plugins["mtgain.clap"]), gain_db=-6.0))
    project.add_audio_track("Host").add_alias(m.id, start=2.0, duration=1.0)
    out = project.render(0.0, 3.0)
    np.testing.assert_array_equal(out[2 * RATE :], out[:RATE])  # the alias plays the plugin too
    gain.gain_db = -12.0  # an edit reaches the instance's copy
    out = project.render(0.0, 3.0)
    np.testing.assert_allclose(out[2 * RATE :], x.repeat(2, axis=1) * C * 10 ** (-12 / 20), rtol=1e-5, atol=1e-7)


def test_the_package_loads_plugins_and_scans_for_them():
    amp = mt.load_plugin(AMP, gain=-3.0)
    assert isinstance(amp, mt.Plugin) and amp.gain == -3.0
    assert callable(mt.scan_plugins) and issubclass(mt.PluginError, OSError)
    amp.close()
