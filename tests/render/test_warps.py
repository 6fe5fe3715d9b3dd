"""Automated metatrack speed: children's time is the integral of the speed, exactly."""

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.optimize import brentq

from mixtree import effects as fx
from mixtree.dsp.synth import NOTE_ON
from mixtree.engine.engine import Engine
from mixtree.render.compile import compile_plan
from tests.conftest import RATE

C = np.sqrt(0.5)  # a mono clip on a stereo track
F0 = 110.0


def tone_track(project, wav, seconds=4.0, name="tone"):
    n = np.arange(int(seconds * RATE))
    data = (0.5 * np.sin(2 * np.pi * F0 * n / RATE)).astype(np.float32)[:, None]
    t = project.add_audio_track(name)
    t.add_clip(project.pool.load(wav(data, name=f"{name}.wav")))
    return t


def tape_stop(u: float) -> float:
    """The speed of `tape_stop_metatrack` at time u (1 until 0.5 s, to 0 at 2.5 s)."""
    return 1.0 if u < 0.5 else max(0.0, 1.0 - (u - 0.5) / 2.0)


def integral(speed, t: float, offset: float = 0.0) -> float:
    return quad(speed, offset, t, points=[0.5, 2.5], limit=200, epsabs=1e-13)[0] if t > offset else 0.0


@pytest.fixture
def tape_stop_metatrack(project, wav):
    t = tone_track(project, wav)
    m = project.create_metatrack([t.id], name="M")
    lane = m.automate("speed")
    lane.add_point(0.5, 1.0, "linear")
    lane.add_point(2.5, 0.0, "hold")
    return m


def test_a_tape_stop_plays_the_source_at_the_integral_of_the_speed(project, tape_stop_metatrack):
    out = project.render(0.0, 3.0)
    times = np.arange(out.shape[0]) / RATE
    child = np.array([integral(tape_stop, u) for u in times])
    reference = C * 0.5 * np.sin(2 * np.pi * F0 * child)
    np.testing.assert_allclose(out[:, 0], reference, atol=2e-4)  # the sinc reader's error, not the time's
    assert np.abs(out[int(2.6 * RATE) :, 0] - out[-1, 0]).max() == 0.0  # stood still: a held value


def test_automated_speed_is_bit_identical_at_every_block_size_and_in_playback(project, tape_stop_metatrack):
    reference = project.render(0.0, 3.0, blocksize=256)
    for blocksize in (32, 4096):
        assert np.array_equal(project.render(0.0, 3.0, blocksize=blocksize), reference)
    eng = Engine(project, driver="null", blocksize=256)
    eng.play()
    live = np.concatenate([eng.process() for _ in range(reference.shape[0] // 256)])
    assert np.array_equal(live, reference[: live.shape[0]])


def test_a_flat_speed_lane_plays_as_the_constant_speed_does(project, wav):
    t = tone_track(project, wav)
    m = project.create_metatrack([t.id])
    m.speed, m.offset = 0.5, 0.25
    constant = project.render(0.0, 2.0)
    m.speed = 1.0
    m.automate("speed").add_point(1.0, 0.5)
    np.testing.assert_allclose(project.render(0.0, 2.0), constant, atol=1e-6)


def test_nested_warps_compose_their_integrals(project, wav):
    t = tone_track(project, wav, seconds=8.0)
    inner = project.create_metatrack([t.id], name="inner")
    inner.automate("speed").set_points([(0.0, 1.0, "s_curve", 0.0), (1.0, 2.0, "hold", 0.0)])
    outer = project.create_metatrack([inner.id], name="outer")
    outer.offset = 0.2
    outer.automate("speed").set_points([(0.0, 1.5, "bend", 0.4), (2.0, 0.5, "hold", 0.0)])
    out = project.render(0.0, 2.5)

    def inner_speed(u):
        return 1.0 + 0.5 * (1 - np.cos(np.pi * u)) if u < 1.0 else 2.0

    lane = outer.lanes["speed"]

    def child(u):
        x = quad(lambda v: lane.value_at(v), 0.2, u, points=[2.0], epsabs=1e-13)[0] if u > 0.2 else u - 0.2
        if u < 0.2:
            x = (u - 0.2) * 1.5  # before the first point the first speed holds
        return quad(inner_speed, 0.0, x, points=[1.0], epsabs=1e-13)[0] if x > 0 else x

    frames = np.arange(0, out.shape[0], 97)
    expected = C * 0.5 * np.sin(2 * np.pi * F0 * np.array([child(n / RATE) for n in frames]))
    starts = frames >= int(0.21 * RATE)  # the clip starts at child time 0
    np.testing.assert_allclose(out[frames[starts], 0], expected[starts], atol=3e-4)


def test_midi_notes_inside_a_warped_metatrack_start_where_the_integral_says(project):
    t = project.add_midi_track("keys")
    clip = t.add_midi_clip(0.0, 4.0)
    for k in range(6):
        clip.add_note(60 + k, start=0.25 * k + 0.1, duration=0.1)
    m = project.create_metatrack([t.id])
    m.automate("speed").set_points([(0.0, 2.0, "linear", 0.0), (2.0, 0.25, "hold", 0.0)])
    plan = compile_plan(project)
    events = plan.midi.groups[0].events
    onsets = events.time[events.kind == NOTE_ON]

    def speed(u):
        return 2.0 - 0.875 * u if u < 2.0 else 0.25

    expected = [round(brentq(lambda u, c=c: integral(speed, u) - c, 0.0, 10.0, xtol=1e-14) * RATE)
                for c in (0.25 * k + 0.1 for k in range(6))]  # fmt: skip
    assert list(onsets) == expected


def test_a_volume_lane_inside_a_warped_metatrack_runs_on_its_track_time(project, ones):
    t = project.add_audio_track("dc")
    t.add_clip(project.pool.load(ones), duration=1.0)
    lane = t.automate("volume_db")
    lane.set_points([(0.0, -6.0, "hold", 0.0), (0.3, -6.0, "linear", 0.0), (0.6, 0.0, "hold", 0.0)])
    m = project.create_metatrack([t.id])
    m.automate("speed").set_points([(0.0, 0.5, "linear", 0.0), (1.0, 1.5, "hold", 0.0)])
    out = project.render(0.0, 1.0)[:, 0]

    def child(u):
        return 0.5 * u + 0.5 * u * u if u < 1.0 else 1.0 + 1.5 * (u - 1.0)

    frames = np.arange(out.shape[0])
    tau = np.array([child(n / RATE) for n in frames])
    gain_db = np.where(tau < 0.3, -6.0, np.where(tau < 0.6, -6.0 + 6.0 * (tau - 0.3) / 0.3, 0.0))
    expected = C * 10 ** (gain_db / 20)
    inside = slice(int(0.05 * RATE), int(0.95 * RATE))  # away from the clip's edges (the sinc rings there)
    np.testing.assert_allclose(out[inside], expected[inside], rtol=1e-4)
    first = int(np.argmax(tau >= 0.6))  # where the hold point lands: the first frame at or past it
    assert out[first - 1] < out[first] and out[first] == out[first + 1]


def test_content_after_a_tape_stop_for_good_ends_where_the_tape_stops(project, tape_stop_metatrack):
    assert project.duration == pytest.approx(2.5)
    assert project.render().shape[0] == int(2.5 * RATE)


def test_an_automated_speed_refuses_pitch_and_preserved_pitch(project, tape_stop_metatrack):
    m = tape_stop_metatrack
    with pytest.raises(ValueError, match="automated speed plays as tape"):
        m.pitch = 3.0
    with pytest.raises(ValueError, match="automated speed plays as tape"):
        m.preserve_pitch = True
    m.lanes["speed"].mode = "off"
    m.pitch = 3.0
    with pytest.raises(ValueError, match="automated speed plays as tape"):
        m.lanes["speed"].mode = "read"
    with pytest.raises(ValueError, match="speed must be within 0..64"):
        m.lanes["speed"].add_point(3.0, -1.0)
    assert m.lanes["speed"].mode == "off" and len(m.lanes["speed"].points) == 2


def test_bouncing_inside_a_warped_metatrack_is_refused_and_the_warped_metatrack_bounces(project, tape_stop_metatrack):
    inner = tape_stop_metatrack.children[0]
    with pytest.raises(ValueError, match="speed of 'M' is automated"):
        project.bounce(inner.id)
    before = project.render()
    project.bounce(tape_stop_metatrack.id)
    assert np.array_equal(project.render(0.0, before.shape[0] / RATE), before)


@pytest.mark.parametrize(("speed", "offset"), [(2.0, 0.3), (0.5, -0.2)])
def test_a_bounced_transformed_metatrack_sounds_where_it_did(project, wav, speed, offset):
    t = tone_track(project, wav, seconds=1.0)
    t.add_effect(fx.Gain(db=-1.0))
    m = project.create_metatrack([t.id])
    m.speed, m.offset = speed, offset
    before = project.render()
    new = project.bounce(m.id)
    assert new.parent_id is None
    np.testing.assert_allclose(project.render(0.0, before.shape[0] / RATE), before, atol=1e-6)
