"""Sandboxed plugins: the same sound as in-process, and a crash or hang that costs a track,
never the caller."""

import os
import re
import signal
import time
import tracemalloc

import numpy as np
import pytest

import mixtree as mt
from mixtree import effects as fx
from mixtree.effects.plugins.base import midi_block
from mixtree.effects.plugins.clap import ClapPlugin
from mixtree.effects.plugins.sandbox import SandboxedPlugin
from mixtree.engine.engine import Engine
from mixtree.errors import PluginError
from tests.conftest import RATE
from tests.effects.plugins.blocks import noise, run

DEADLINE = 0.5
SLACK = 0.5  # a loaded machine's scheduling, on top of the deadline


@pytest.fixture
def sandboxed(dpf_plugins):
    """Open a test plugin's CLAP build in a worker by name; close every one opened at the end."""
    opened = []

    def sandboxed(name: str, max_block: int = 1024) -> SandboxedPlugin:
        plugin = SandboxedPlugin(str(dpf_plugins[f"{name}.clap"]), deadline=DEADLINE, max_block=max_block)
        opened.append(plugin)
        return plugin

    yield sandboxed
    for plugin in opened:
        plugin.close()


@pytest.fixture(scope="module")
def gain(dpf_plugins):
    """A sandboxed mtgain shared by the tests that activate it as they need (workers take a
    second or two to start)."""
    plugin = SandboxedPlugin(str(dpf_plugins["mtgain.clap"]), deadline=DEADLINE, max_block=1024)
    yield plugin
    plugin.close()


def test_a_sandboxed_plugin_sounds_exactly_like_the_same_plugin_in_process(gain, dpf_plugins):
    boxed = gain
    local = ClapPlugin(dpf_plugins["mtgain.clap"])
    try:
        assert boxed.info == local.info and boxed.parameters == local.parameters
        x = noise(20000)
        for block, gain_db in [(64, -7.5), (256, 3.0), (1000, -60.0)]:
            for plugin in (boxed, local):
                plugin.activate(RATE, block)
                plugin.set_parameter("gain_db", gain_db)
            expected = run(local, x, block)
            assert np.array_equal(run(boxed, x, block), expected)
            assert np.abs(expected).max() > 0
            boxed.deactivate()
            local.deactivate()
    finally:
        local.close()


def test_a_parameter_set_between_blocks_takes_effect_in_the_next_block(gain):
    gain.activate(RATE, 256)
    gain.set_parameter("gain_db", 0.0)
    x = noise(512)
    y = np.zeros_like(x)
    gain.process(x, y, 256, None)
    gain.set_parameter("gain_db", 12.0)
    assert gain.get_parameter("gain_db") == 0.0  # queued for the next block, not yet delivered
    gain.process(x[256:], y[256:], 256, None)
    np.testing.assert_array_equal(y[:256], x[:256])
    np.testing.assert_allclose(y[256:], x[256:] * 10 ** (12 / 20), rtol=1e-6)
    assert gain.get_parameter("gain_db") == 12.0
    with pytest.raises(ValueError, match="within -60..24"):
        gain.set_parameter("gain_db", 30.0)
    with pytest.raises(ValueError, match="no parameter 'volume'"):
        gain.set_parameter("volume", 0.0)


def test_notes_reach_a_sandboxed_instrument_on_their_frames(sandboxed, dpf_plugins):
    boxed = sandboxed("mtsine", max_block=512)
    local = ClapPlugin(dpf_plugins["mtsine.clap"])
    midi = midi_block()
    midi.frame[:3] = 100, 300, 301
    midi.data[:3] = (0x90, 69, 127), (0x80, 69, 0), (0x90, 72, 90)
    midi.size[:3] = 3
    midi.count[0] = 3
    silent = np.zeros((512, 0), np.float32)
    try:
        out = []
        for plugin in (boxed, local):
            plugin.activate(RATE, 512)
            y = np.zeros((1024, 2), np.float32)
            plugin.process(silent, y[:512], 512, midi)
            plugin.process(silent, y[512:], 512, None)  # the last note sounds on
            out.append(y)
    finally:
        local.close()
    assert np.array_equal(out[0], out[1])
    assert not out[0][:100].any() and out[0][100].any() and out[0][-1].any()


def test_state_round_trips_between_a_worker_and_an_in_process_plugin(sandboxed, dpf_plugins):
    boxed = sandboxed("mtdelay")
    local = ClapPlugin(dpf_plugins["mtdelay.clap"])
    try:
        boxed.set_parameter("delay", 321)
        local.load_state(boxed.save_state())
        assert local.get_parameter("delay") == 321
        local.set_parameter("delay", 99)
        boxed.load_state(local.save_state())
        assert boxed.get_parameter("delay") == 99 and boxed.latency == 99
    finally:
        local.close()
    with pytest.raises(PluginError, match="not a saved state of this plugin"):
        boxed.load_state(b"nonsense")


@pytest.mark.parametrize(
    ("fault", "what"),
    [(2, "crashed (SIGSEGV)"), (3, "crashed (SIGABRT)"), (4, f"did not answer within {DEADLINE:g} s")],
)
def test_a_crash_or_hang_raises_naming_the_plugin_and_recover_restores_it(sandboxed, fault, what):
    delay = sandboxed("mtdelay", max_block=256)
    delay.set_parameter("delay", 100)
    state = delay.save_state()
    delay.set_parameter("delay", 200)  # set after the state saved: given back too
    delay.activate(RATE, 256)
    x = noise(1024)
    y = run(delay, x, 256)
    assert delay.latency == 200 and not y[:200].any()  # the plugin's own latency: the sandbox adds none
    np.testing.assert_array_equal(y[200:], x[:-200])
    pid = delay.pid
    delay.set_parameter("fault", fault)
    out = np.ones((256, 2), np.float32)
    started = time.monotonic()
    with pytest.raises(PluginError, match=re.escape(f"plugin 'mtdelay': {what}")):
        delay.process(x, out, 256, None)
    assert time.monotonic() - started < DEADLINE + SLACK
    assert not out.any()
    assert delay.failed == f"plugin 'mtdelay': {what}" + (" (killed)" if fault == 4 else "")
    with pytest.raises(PluginError, match="mtdelay"):  # it stays failed, and silent
        delay.process(x, out, 256, None)
    with pytest.raises(PluginError, match="recover"):
        delay.get_parameter("delay")
    assert delay.save_state() == state  # the last state kept: a project can still be saved
    delay.recover()
    assert delay.failed is None and delay.pid != pid
    assert delay.get_parameter("fault") == fault  # the values set are given back as they were
    delay.set_parameter("fault", 0)
    assert delay.get_parameter("delay") == 200 and delay.latency == 200
    y = run(delay, x, 256)
    np.testing.assert_array_equal(y[200:], x[:-200])
    delay.load_state(state)
    assert delay.get_parameter("delay") == 100


def test_a_plugin_that_does_not_load_is_a_plugin_error_naming_it(tmp_path):
    with pytest.raises(PluginError, match="nothing.clap"):
        SandboxedPlugin(str(tmp_path / "nothing.clap"))


def test_steady_state_processing_allocates_nothing_on_the_caller_side(gain):
    gain.activate(RATE, 256)
    x, y = noise(256), np.zeros((256, 2), np.float32)
    tracemalloc.start()
    mine = [tracemalloc.Filter(False, tracemalloc.__file__)]
    for k in range(500):  # warm-up
        gain.set_parameter("gain_db", -float(k % 7))
        gain.process(x, y, 256, None)
    growth = []
    before = tracemalloc.take_snapshot().filter_traces(mine)
    for _ in range(4):
        for k in range(1000):
            gain.set_parameter("gain_db", -float(k % 7))
            gain.process(x, y, 256, None)
        after = tracemalloc.take_snapshot().filter_traces(mine)
        growth.append(sum(s.size_diff for s in after.compare_to(before, "filename")))
        before = after
    tracemalloc.stop()
    assert min(growth) < 2048, f"{growth} bytes more held after each window of 1000 blocks"


def test_a_round_trip_costs_well_under_a_block_period(gain, dpf_plugins):
    boxed = gain
    local = ClapPlugin(dpf_plugins["mtgain.clap"])
    x, y = noise(256), np.zeros((256, 2), np.float32)
    timings = {}
    try:
        for name, plugin in (("sandboxed", boxed), ("in-process", local)):
            plugin.activate(RATE, 256)
            for _ in range(200):
                plugin.process(x, y, 256, None)
            best = []
            for _ in range(5):
                t0 = time.perf_counter()
                for _ in range(400):
                    plugin.process(x, y, 256, None)
                best.append((time.perf_counter() - t0) / 400)
            timings[name] = min(best) * 1e6
    finally:
        local.close()
    boxed_us, local_us = timings["sandboxed"], timings["in-process"]
    print(f"\nper block of 256 frames: {boxed_us:.1f} µs sandboxed, {local_us:.1f} µs in-process")
    assert boxed_us < 256 / RATE * 1e6 / 4  # a quarter of the block period


def test_a_killed_worker_silences_only_its_track_and_the_engine_reports_it(project, ones, wav, dpf_plugins):
    steady = project.add_audio_track("Steady")
    steady.add_clip(project.pool.load(ones))
    boxed = project.add_audio_track("Boxed")
    boxed.add_clip(project.pool.load(wav(noise(2 * RATE, 1), name="noise.wav")))
    plugin = boxed.add_effect(fx.Plugin(str(dpf_plugins["mtdelay.clap"]), sandbox=True, delay=0))
    eng = Engine(project, driver="null", blocksize=256)
    try:
        eng.play()
        assert not np.allclose(eng.process(), np.sqrt(0.5))  # both tracks play
        assert not [e for e in eng.events() if e.kind == "error"]
        os.kill(plugin._plugin.pid, signal.SIGKILL)
        out = eng.process()
        np.testing.assert_allclose(out, np.sqrt(0.5), rtol=1e-6)  # the steady track alone
        assert eng._player.plan.failed[eng._player.plan.slot_of(boxed.id)]
        (error,) = [e for e in eng.events() if e.kind == "error"]
        assert error.track == boxed.id and "plugin 'mtdelay': was killed (SIGKILL)" in error.message
        for _ in range(3):  # still silenced, and reported once, not at every call
            np.testing.assert_allclose(eng.process(), np.sqrt(0.5), rtol=1e-6)
            assert not [e for e in eng.events() if e.kind == "error"]
        assert plugin.get_state()["sandbox"] is True  # the project can still be saved
        plugin.recover()
        eng.events()
        assert not np.allclose(eng.process(), np.sqrt(0.5))  # it plays again
        assert not [e for e in eng.events() if e.kind == "error"]
    finally:
        eng.close()
        plugin.close()


def test_a_sandboxed_plugin_reopens_sandboxed_from_a_project_file(project, tmp_path, dpf_plugins):
    t = project.add_audio_track("T")
    t.add_effect(fx.Plugin(str(dpf_plugins["mtdelay.clap"]), sandbox=True, delay=77))
    t.add_effect(fx.Plugin(str(dpf_plugins["mtgain.clap"]), gain_db=-3.0))
    path = tmp_path / "song.json"
    project.save(path)
    for effect in t.effects:
        effect.close()
    loaded = mt.Project.load(path)
    boxed, local = loaded.track(t.id).effects
    try:
        assert boxed.sandbox and boxed.get_state()["sandbox"] is True and boxed.delay == 77
        assert isinstance(boxed._plugin, SandboxedPlugin)
        assert not local.sandbox and "sandbox" not in local.get_state()
        with pytest.raises(ValueError, match="only Plugin\\(..., sandbox=True\\) can be recovered"):
            local.recover()
    finally:
        boxed.close()
        local.close()
