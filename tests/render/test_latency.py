"""Plugin delay compensation: every path into every mixing point arrives together, and
renders are aligned to the timeline."""

import numpy as np
import pytest

from mixtree import effects as fx
from mixtree.engine.engine import Engine
from mixtree.render.latency import compensate
from tests.conftest import RATE

DELAY = 1234  # mtdelay's default, reported as its latency


def test_compensation_delays_every_early_edge_to_the_latest_arrival():
    # master 0; tracks 1 (chain 100) and 2 into group 3 (chain 10); track 4 into the
    # master; 2 also sends to bus 5 (chain 0), which 4 sends to too
    chain = np.array([7, 100, 0, 10, 0, 0])
    parent = np.array([-1, 3, 3, 0, 0, 0])
    c = compensate(chain, parent, [(2, 5), (4, 5)])
    assert c.inputs.tolist() == [110, 0, 0, 100, 0, 0]
    assert c.arrival.tolist() == [117, 100, 0, 110, 0, 0]
    assert c.slot_delay.tolist() == [0, 0, 100, 0, 110, 110]
    assert c.send_delay.tolist() == [0, 0] and c.latency == 117


@pytest.fixture
def noise(project, wav):
    """White noise (mono, 1 s) and its negation as two sources."""
    x = (np.random.default_rng(3).standard_normal((RATE, 1)) * 0.1).astype(np.float32)
    return project.pool.load(wav(x, name="x.wav")), project.pool.load(wav(-x, name="minus.wav"))


def test_a_track_through_a_plugin_with_latency_nulls_against_its_negation(project, noise, dpf_plugins):
    a, b = project.add_audio_track("A"), project.add_audio_track("B")
    a.add_clip(noise[0])
    b.add_clip(noise[1])
    delay = a.add_effect(fx.Plugin(str(dpf_plugins["mtdelay.clap"])))
    assert delay.latency == DELAY and project.latency == DELAY
    assert not project.render(0.0, 1.5).any()  # every frame cancels exactly


def test_a_render_through_a_plugin_with_latency_is_aligned_to_the_timeline(project, noise, dpf_plugins):
    a = project.add_audio_track("A")
    a.add_clip(noise[0], start=0.25)
    plain = project.render(0.0, 1.5)
    a.add_effect(fx.Plugin(str(dpf_plugins["mtdelay.clap"])))
    for blocksize in (64, 512):
        assert np.array_equal(project.render(0.0, 1.5, blocksize=blocksize), plain)
    assert np.array_equal(project.render(0.3, 0.5), plain[int(0.3 * RATE) : int(0.8 * RATE)])


def test_sends_and_groups_are_compensated_too(project, noise, dpf_plugins):
    verb = project.add_bus("Bus")
    m = project.add_metatrack("Group")
    a = project.add_audio_track("A", parent_id=m.id)
    b = project.add_audio_track("B")
    a.add_clip(noise[0])
    b.add_clip(noise[1])
    a.add_send(verb.id, level_db=-6.0)
    b.add_send(verb.id, level_db=-6.0)
    m.add_effect(fx.Plugin(str(dpf_plugins["mtdelay.clap"])))  # the group is late: B and the bus wait
    a.add_effect(fx.Plugin(str(dpf_plugins["mtdelay.clap"]), delay=300))  # and A's send is late to the bus
    assert project.latency == DELAY + 300
    assert np.abs(project.render(0.0, 1.5)).max() < 1e-7  # A's and B's paths cancel everywhere


def test_playback_is_the_render_delayed_by_the_latency(project, noise, dpf_plugins):
    a = project.add_audio_track("A")
    a.add_clip(noise[0])
    a.add_effect(fx.Plugin(str(dpf_plugins["mtdelay.clap"])))
    rendered = project.render(0.0, 1.0)
    eng = Engine(project, driver="null", blocksize=256)
    assert eng.plugin_latency == DELAY / RATE
    eng.play()
    played = np.concatenate([eng.process() for _ in range(200)])
    assert eng.position == pytest.approx((200 * 256 - DELAY) / RATE)
    eng.close()
    assert not played[:DELAY].any()
    assert np.array_equal(played[DELAY:RATE], rendered[: RATE - DELAY])


def test_a_bounce_through_a_plugin_with_latency_is_aligned(project, noise, dpf_plugins):
    a = project.add_audio_track("A")
    a.add_clip(noise[0], start=0.1)
    a.add_effect(fx.Plugin(str(dpf_plugins["mtdelay.clap"])))
    before = project.render(0.0, 1.5)
    project.bounce(a.id)  # the bounce plays instead of A (muted), its plugin's delay rendered in place
    assert np.array_equal(project.render(0.0, 1.5), before)


def test_the_engine_follows_a_latency_that_changes_with_a_parameter(project, noise, dpf_plugins):
    a = project.add_audio_track("A")
    a.add_clip(noise[0])
    delay = a.add_effect(fx.Plugin(str(dpf_plugins["mtdelay.clap"])))
    eng = Engine(project, driver="null", blocksize=256)
    eng.play()
    eng.process()
    eng.set_parameter(delay.id, "delay", 100.0)  # an edit that does not recompile
    for _ in range(3):
        eng.process()
        eng.events()
    assert eng.plugin_latency == 100 / RATE
    eng.close()


def test_a_clap_plugin_that_asks_for_a_restart_is_replaced_in_its_state(project, noise, dpf_plugins):
    # mtdelay starts without latency (so no compensation was planned) and asks the host to
    # re-activate it when its delay changes: the engine plays a new instance in its state,
    # closes the old one once the audio thread is past it, and compensates the new latency.
    a = project.add_audio_track("A")
    a.add_clip(noise[0])
    delay = a.add_effect(fx.Plugin(str(dpf_plugins["mtdelay.clap"]), delay=0.0))
    eng = Engine(project, driver="null", blocksize=256)
    eng.play()
    eng.process()
    assert eng.plugin_latency == 0.0
    old = delay._plugin
    eng.set_parameter(delay.id, "delay", 300.0)
    eng.process()
    assert old.restart_requested
    eng.events()
    new = delay._plugin
    assert new is not old and not new.restart_requested and new.latency == 300
    assert new.get_parameter("delay") == 300.0
    for _ in range(3):
        eng.process()
        eng.events()
    assert old._ptr is None  # closed
    assert eng.plugin_latency == 300 / RATE
    eng.seek(0.5)
    out = np.concatenate([eng.process() for _ in range(40)])
    ref = project.render(0.5, out.shape[0] / RATE)
    settled = 300 + 512  # the plugin's own delay line, then the seek's crossfade
    assert np.array_equal(out[settled:], ref[settled - 300 : -300])
    eng.close()
