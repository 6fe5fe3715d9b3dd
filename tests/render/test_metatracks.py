"""Metatracks in the render: transforms, premix, solo, sends, aliases, freeze, bounce."""

import numpy as np
import pytest

import mixtree as mt
from mixtree import effects as fx
from mixtree.engine.engine import Engine
from mixtree.render.tap import render_track
from tests.conftest import RATE, sine
from tests.quality.measure import CLICK_THRESHOLD, clicks, thd_n

C = np.float32(np.sqrt(0.5))


def peak_hz(x: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    k = int(np.argmax(spectrum))
    # parabolic interpolation of the peak bin
    a, b, c = np.log(spectrum[k - 1 : k + 2] + 1e-30)
    return (k + 0.5 * (a - c) / (a - 2 * b + c)) * RATE / len(x)


@pytest.fixture
def noise_track(project, wav):
    data = (np.random.default_rng(2).standard_normal((2 * RATE, 1)) * 0.2).astype(np.float32)
    t = project.add_audio_track("noise")
    t.add_clip(project.pool.load(wav(data, name="noise.wav")), start=0.5, duration=1.0, fade_in=0.01)
    return t


def test_offset_shifts_children_by_exactly_offset_times_rate_samples(project, noise_track):
    before = project.render(0.0, 3.0)
    m = project.create_metatrack([noise_track.id])
    m.offset = 0.25
    after = project.render(0.0, 3.0)
    shift = int(0.25 * RATE)
    assert np.array_equal(after[shift:], before[:-shift])
    assert not after[:shift].any()


def test_half_speed_inside_double_speed_renders_like_no_metatrack(project, wav):
    # the roadmap's nested test; the tolerance is the sinc resampler's (-100 dB side lobes)
    t = project.add_audio_track("tone")
    t.add_clip(project.pool.load(wav(sine(1000, 2.0))), start=0.25, duration=1.5)
    plain = project.render(0.0, 2.0)
    inner = project.create_metatrack([t.id], name="inner")
    inner.speed = 0.5
    outer = project.create_metatrack([inner.id], name="outer")
    outer.speed = 2.0
    nested = project.render(0.0, 2.0)
    assert np.array_equal(nested, plain)  # speeds compose to exactly 1: the whole-frame path


def test_speeds_that_compose_to_a_non_unit_rate_resample_once(project, wav):
    t = project.add_audio_track("tone")
    t.add_clip(project.pool.load(wav(sine(1000, 4.0))))
    m = t
    for speed in (0.5, 1.25, 2.0, 1.2):  # composes to 1.5
        m = project.create_metatrack([m.id])
        m.speed = speed
    out = project.render(0.25, 1.0)[:, 0]
    assert peak_hz(out) == pytest.approx(1500, rel=1e-4)
    assert project.duration == pytest.approx(4.0 / 1.5)


def test_speed_two_halves_durations_and_doubles_the_pitch(project, wav):
    t = project.add_audio_track("tone")
    t.add_clip(project.pool.load(wav(sine(440, 2.0))), start=1.0)
    m = project.create_metatrack([t.id])
    m.speed = 2.0
    out = project.render(0.0, 2.0)[:, 0]
    sounding = np.flatnonzero(np.abs(out) > 1e-3)
    assert sounding[0] == pytest.approx(RATE // 2, abs=2) and sounding[-1] == pytest.approx(RATE * 3 // 2, abs=40)
    assert peak_hz(out[int(0.6 * RATE) : int(1.4 * RATE)]) == pytest.approx(880, rel=1e-3)


def test_preserve_pitch_keeps_the_frequency_within_one_percent(project, wav):
    t = project.add_audio_track("tone")
    t.add_clip(project.pool.load(wav(sine(440, 2.0))))
    m = project.create_metatrack([t.id])
    m.speed = 2.0
    m.preserve_pitch = True
    out = project.render()[:, 0]
    assert len(out) == RATE
    assert peak_hz(out[RATE // 10 : RATE * 9 // 10]) == pytest.approx(440, rel=0.01)
    m.pitch = 7.0
    assert peak_hz(project.render()[RATE // 10 : RATE * 9 // 10, 0]) == pytest.approx(440 * 2 ** (7 / 12), rel=0.01)


@pytest.mark.parametrize("speed", [0.75, 1.5])
def test_thd_n_of_a_resampled_1k_tone_is_below_001_percent(project, wav, speed):
    t = project.add_audio_track("tone")
    t.add_clip(project.pool.load(wav(sine(1000 / speed, 4.0))))
    m = project.create_metatrack([t.id])
    m.speed = speed
    out = project.render(0.5, 1.0)
    assert thd_n(out[:, 0], 1000, RATE) < 1e-4


def test_a_metatrack_premixes_its_children_then_its_chain_and_fader(project, ones):
    src = project.pool.load(ones)
    a = project.add_audio_track("a", pan=-1.0)
    b = project.add_audio_track("b", pan=1.0)
    for t in (a, b):
        t.add_clip(src, duration=0.1)
    m = project.create_metatrack([a.id, b.id])
    m.add_effect(fx.Gain(db=-6.0))
    m.volume_db = -6.0
    m.pan = 0.5  # a stereo submix: balance
    g = 10 ** (-12 / 20)
    assert project.render(0, 0.1)[10].tolist() == pytest.approx([0.5 * g, g], rel=1e-5)


def test_solo_in_a_tree(project, ones):
    src = project.pool.load(ones)
    a, b, c = (project.add_audio_track(n) for n in "abc")
    for t in (a, b, c):
        t.add_clip(src, duration=0.1)
    m = project.create_metatrack([a.id, b.id])
    b.solo = True  # keeps m open, silences a and c
    assert project.render(0, 0.1)[10, 0] == pytest.approx(C)
    b.solo = False
    m.solo = True  # soloes the subtree
    assert project.render(0, 0.1)[10, 0] == pytest.approx(2 * C)


def test_sends_feed_buses_pre_or_post_fader_and_follow_solo(project, ones):
    src = project.pool.load(ones)
    t = project.add_audio_track("dry", volume_db=-6.0)
    t.add_clip(src, duration=0.1)
    other = project.add_audio_track("other")
    other.add_clip(src, duration=0.1)
    bus = project.add_bus("verb")
    bus.add_effect(fx.Gain(db=-6.0))
    send = t.add_send(bus.id, level_db=-6.0)
    g6 = 10 ** (-6 / 20)
    dry = C * g6
    post = C * g6 * g6 * g6
    assert project.render(0, 0.1)[10, 0] == pytest.approx(dry + post + C, rel=1e-5)
    send.pre_fader = True
    pre = g6 * g6  # before the fader is before the pan law too: the mono signal at unity
    assert project.render(0, 0.1)[10, 0] == pytest.approx(dry + pre + C, rel=1e-5)
    t.solo = True  # the bus it feeds stays open; "other" goes quiet
    assert project.render(0, 0.1)[10, 0] == pytest.approx(dry + pre, rel=1e-5)
    t.solo = False
    t.mute = True  # a muted track's sends go quiet too
    assert project.render(0, 0.1)[10, 0] == pytest.approx(C, rel=1e-5)


def test_an_alias_plays_the_metatracks_content_again_elsewhere(project, wav):
    t = project.add_audio_track("src")
    ramp = (np.arange(RATE, dtype=np.float32) / RATE)[:, None]
    t.add_clip(project.pool.load(wav(ramp)), start=0.0, duration=0.5)
    m = project.create_metatrack([t.id], name="Riff")
    m.offset = 0.1
    host = project.add_audio_track("host")
    host.add_alias(m.id, start=2.0, duration=0.3, offset=0.2)
    out = project.render(0.0, 3.0)[:, 0] / C
    # at 2.0 s the alias plays the riff's own timeline at 0.2 s, which is the clip at 0.1 s
    assert out[2 * RATE] == pytest.approx(out[int(0.2 * RATE)], abs=1e-6)
    assert out[2 * RATE] == pytest.approx(0.1, abs=1e-4)
    assert out[int(2.299 * RATE)] > 0 and out[int(2.301 * RATE)] == 0


def riff(project, wav):
    """A metatrack of a noise track through a compressor and an echo at -6 dB, and keys."""
    noise = (np.random.default_rng(5).standard_normal((RATE, 2)) * 0.3).astype(np.float32)
    t = project.add_audio_track("Noise", volume_db=-6.0, pan=0.3)
    t.add_clip(project.pool.load(wav(noise, name="riff.wav")), start=0.0, duration=1.0)
    t.add_effect(fx.Compressor(threshold_db=-24.0, ratio=6.0))
    t.add_effect(fx.Delay(time=0.25, feedback=0.4, mix=0.5))
    keys = project.add_midi_track("Keys", instrument=mt.PolySynth(waveform="sine", release=0.0))
    keys.add_midi_clip(0.0, 1.0).add_note(69, 100, 0.25, 0.25)
    return project.create_metatrack([t.id, keys.id], name="Riff"), t


def test_an_alias_sounds_like_its_metatrack_inner_effects_faders_and_midi_included(project, wav):
    m, _ = riff(project, wav)
    before = project.render(0.0, 3.6)
    host = project.add_audio_track("Host")
    host.add_clip(project.pool.load(wav(sine(100, 0.5), name="mono.wav")), start=4.0)  # a mono clip, later
    host.add_alias(m.id, start=2.0, duration=1.0)
    added = project.render(0.0, 3.6) - before
    assert not added[: 2 * RATE].any()
    # the riff again, echoes ringing on past the alias's end as they do after the original
    assert np.allclose(added[2 * RATE :], before[: int(1.6 * RATE)], atol=1e-6)
    assert np.abs(added[int(3.2 * RATE) :]).max() > 1e-3
    keys = np.abs(np.fft.rfft(added[int(2.3 * RATE) : int(2.45 * RATE), 0]))
    assert keys.argmax() * RATE / (0.15 * RATE) == pytest.approx(440, abs=10)


def test_an_alias_starting_midway_takes_the_controllers_set_before_it(project):
    keys = project.add_midi_track("Keys", instrument=mt.PolySynth(waveform="sine", release=0.0))
    clip = keys.add_midi_clip(0.0, 1.0)
    clip.add_event(0.0, "cc", 30, number=7)  # quiet from the start
    clip.add_note(69, 100, 0.3, 0.1)
    clip.add_event(0.5, "cc", 127, number=7)  # loud again from 0.5 s
    clip.add_note(69, 100, 0.6, 0.1)
    m = project.create_metatrack([keys.id], name="Riff")
    host = project.add_audio_track("Host")
    host.add_alias(m.id, start=2.0, duration=0.2, offset=0.25)  # carries the quiet setting in
    host.add_alias(m.id, start=3.0, duration=0.5, offset=0.5)  # starts where it turns loud
    out = np.abs(project.render(0.0, 4.0)[:, 0])

    def peak(at: float) -> float:
        return float(out[int(at * RATE) : int((at + 0.1) * RATE)].max())

    assert peak(2.05) == pytest.approx(peak(0.3), rel=1e-3) and peak(0.3) < 0.1
    assert peak(3.1) == pytest.approx(peak(0.6), rel=1e-3) and peak(0.6) > 5 * peak(0.3)


def test_an_alias_lifts_the_sustain_pedal_at_its_end(project):
    keys = project.add_midi_track("Keys", instrument=mt.PolySynth(waveform="sine", release=0.0))
    clip = keys.add_midi_clip(0.0, 1.0)
    clip.add_event(0.0, "cc", 127, number=64)
    clip.add_note(69, 100, 0.1, 0.1)  # held by the pedal until 0.9 s
    clip.add_event(0.9, "cc", 0, number=64)
    m = project.create_metatrack([keys.id], name="Pad")
    project.add_audio_track("Host").add_alias(m.id, start=2.0, duration=0.3, offset=0.05)
    out = project.render(0.0, 3.0)[:, 0]
    assert np.abs(out[int(2.1 * RATE) : int(2.3 * RATE)]).max() > 0.1
    assert not out[int(2.31 * RATE) :].any()  # not held for ever by a pedal-up outside the span


def test_an_alias_sends_where_its_tracks_send(project, wav):
    m, t = riff(project, wav)
    verb = project.add_bus("Verb")
    verb.add_effect(fx.Reverb(room_size=0.8, mix=1.0))
    send = t.add_send(verb.id, level_db=-3.0)
    before = project.render(0.0, 4.0)
    project.add_audio_track("Host").add_alias(m.id, start=2.0, duration=1.0)
    added = project.render(0.0, 4.0) - before
    assert np.allclose(added[2 * RATE :], before[: 2 * RATE], atol=1e-5)  # the reverb's share included
    eng = Engine(project, driver="null", blocksize=256)
    eng.seek(2.0)
    eng.play()
    send.level_db = -60.0  # a send level move reaches the instance's send too, without a recompile
    serial = eng._player.plan.serial
    [eng.process() for _ in range(10)]
    sends = eng._player.plan.sends
    assert eng._player.plan.serial == serial and np.all(sends.rows.target < 0.01) and len(sends.ids) == 2
    eng.close()


def test_a_send_to_a_bus_inside_the_aliased_metatrack_goes_to_that_bus_s_instance(project, wav):
    from mixtree.render.compile import compile_plan

    m, t = riff(project, wav)
    inner = project.add_bus("Inner verb")
    project.move_track(inner.id, m.id)
    t.add_send(inner.id)
    project.add_audio_track("Host").add_alias(m.id, start=2.0, duration=1.0)
    plan = compile_plan(project)
    routes = {
        (int(plan.ids[s]) < 0, int(plan.ids[d]) < 0)
        for s, d in zip(plan.sends.rows.src, plan.sends.rows.dst, strict=True)
    }
    assert routes == {(False, False), (True, True)}  # original to original, instance to instance


def test_a_nested_alias_sends_to_the_copy_of_the_bus_its_outer_alias_plays(project, wav):
    from mixtree.render.compile import compile_plan, instance_id

    m, t = riff(project, wav)  # t sends to a bus outside m, inside the metatrack around it
    bus = project.add_bus("Verb")
    t.add_send(bus.id)
    host = project.add_audio_track("Host")
    inner = host.add_alias(m.id, start=2.0, duration=1.0)
    around = project.create_metatrack([bus.id, host.id], name="Around")
    top = project.add_audio_track("Top").add_alias(around.id, start=5.0, duration=3.0)
    plan = compile_plan(project)

    def bus_of(instance: tuple[int, ...]) -> int:
        k = plan.sends.index_by_id[instance_id(instance, t.sends[0].id)]
        return int(plan.ids[plan.sends.rows.dst[k]])

    assert bus_of((inner.id,)) == bus.id
    assert bus_of((top.id, inner.id)) == instance_id((top.id,), bus.id)


def test_an_alias_of_a_frozen_metatrack_plays_its_frozen_render(project, wav):
    m, _ = riff(project, wav)
    host = project.add_audio_track("Host")
    host.add_alias(m.id, start=2.0, duration=1.0)  # from the start: live copies begin at rest too
    live = project.render(0.0, 3.6)
    project.freeze(m.id)
    from mixtree.render.compile import compile_plan

    plan = compile_plan(project)
    assert not plan.instance_keys  # no instances: the host reads the frozen render
    frozen = project.render(0.0, 3.6)
    # like any clip of audio it ends with its span: the live instances' echoes rang on
    assert np.array_equal(frozen[: 3 * RATE], live[: 3 * RATE])
    assert np.abs(live[3 * RATE :]).max() > 100 * np.abs(frozen[3 * RATE :]).max()


def test_freeze_keeps_the_tails_the_live_tracks_had(project, wav):
    m, _ = riff(project, wav)  # its clip ends at 1 s, its echoes later
    live = project.render(0.0, 3.0)
    assert np.abs(live[int(1.2 * RATE) :]).max() > 1e-3
    project.freeze(m.id)
    assert np.array_equal(project.render(0.0, 3.0), live)


def test_an_alias_of_a_transposed_metatrack_plays_it_transposed(project, wav):
    t = project.add_audio_track("Tone")
    t.add_clip(project.pool.load(wav(sine(440, 1.0))))
    m = project.create_metatrack([t.id])
    m.pitch = 7.0  # Rubber Band
    project.add_audio_track("Host").add_alias(m.id, start=2.0, duration=1.0)
    out = project.render(0.0, 3.0)[:, 0]
    fifth = 440 * 2 ** (7 / 12)
    assert peak_hz(out[RATE // 10 : RATE * 9 // 10]) == pytest.approx(fifth, rel=0.01)
    assert peak_hz(out[int(2.1 * RATE) : int(2.9 * RATE)]) == pytest.approx(fifth, rel=0.01)


def test_alias_instances_keep_their_own_effect_memory(project, wav):
    m, _ = riff(project, wav)
    alone = project.render(0.0, 2.0)
    project.add_audio_track("Host").add_alias(m.id, start=0.5, duration=1.0)
    # the compressor and echo are not linear: shared memory would not add up like this
    shift = RATE // 2
    expected = alone.copy()
    expected[shift:] += alone[:-shift]
    rendered = project.render(0.0, 2.0)
    assert np.allclose(rendered, expected, atol=1e-5)
    eng = Engine(project, driver="null", blocksize=256)  # live memory: the effects' own and each instance's
    eng.play()
    played = np.concatenate([eng.process() for _ in range(2 * RATE // 256)])
    eng.close()
    assert np.array_equal(played, rendered[: len(played)])


def test_an_alias_of_a_metatrack_holding_an_alias_plays_both(project, wav):
    m, _ = riff(project, wav)
    riff_only = project.render(0.0, 5.0)
    inner_host = project.add_audio_track("Inner host")
    inner_host.add_alias(m.id, start=1.0, duration=0.5)
    outer = project.create_metatrack([inner_host.id], name="Outer")
    before = project.render(0.0, 5.0)
    project.add_audio_track("Host").add_alias(outer.id, start=3.0, duration=2.0)
    added = project.render(0.0, 5.0) - before
    # the outer alias replays the inner one: what it added at 1.0 s comes again at 4.0 s
    assert not added[: 4 * RATE].any()
    inner = before - riff_only
    assert np.abs(inner[RATE : 2 * RATE]).max() > 0.01
    assert np.allclose(added[4 * RATE :], inner[RATE : 2 * RATE], atol=1e-6)


def test_a_failing_instance_is_reported_as_its_track_and_recovers(project, wav):
    m, t = riff(project, wav)
    project.add_audio_track("Host").add_alias(m.id, start=0.0, duration=1.0)
    eng = Engine(project, driver="null", blocksize=256)
    eng.play()
    eng.process()
    delay = t.effects[1]
    (line,) = [memory[2] for memory in delay._instances.values()]
    line[:] = np.nan  # the instance's echo turns NaN; the original's does not
    block = eng.process()
    assert np.isfinite(block).all() and np.abs(block).max() > 0
    errors = [e for e in eng.events() if e.kind == "error"]
    assert [e.track for e in errors] == [t.id] and "'Noise'" in errors[0].message
    assert not eng._player.plan.failed.any()  # recovered: it plays again from the next block
    assert np.isfinite(line).all() and not line.any()
    assert delay.memory()[2].any()  # the original's echoes ring on
    eng._recover(t.id, "late", -12345)  # a report about an instance that is gone
    assert delay.memory()[2].any()
    eng.close()


def test_an_inner_fader_move_reaches_the_alias_while_playing(project, wav):
    m, t = riff(project, wav)
    host = project.add_audio_track("Host")
    host.add_alias(m.id, start=2.0, duration=1.0)
    eng = Engine(project, driver="null", blocksize=256)
    eng.seek(2.55)  # after the keys' note
    eng.play()
    before = np.concatenate([eng.process() for _ in range(10)])
    serial = eng._player.plan.serial
    t.mute = True
    t.volume_db = -60.0
    after = np.concatenate([eng.process() for _ in range(20)])[-2048:]
    assert eng._player.plan.serial == serial  # no recompile: the instance follows the fader
    assert np.abs(after).max() < 0.05 * np.abs(before).max()
    delay = t.effects[1]
    assert len(delay._instances) == 1
    project.remove_track(host.id)  # the alias goes: so does its echo's memory, at the next compile
    eng.process()
    assert not delay._instances
    eng.close()


def test_freeze_plays_bit_for_bit_what_the_subtree_played(project, noise_track, wav):
    other = project.add_audio_track("tone")
    other.add_clip(project.pool.load(wav(sine(300, 1.0), name="t.wav")), start=0.2)
    m = project.create_metatrack([noise_track.id, other.id])
    m.speed = 0.8
    m.add_effect(fx.EQ3(low_db=3.0))
    live = project.render()
    project.freeze(m.id)
    assert m.frozen is not None
    assert np.array_equal(project.render(), live)
    project.unfreeze(m.id)
    assert np.array_equal(project.render(), live)


def test_bounce_source_is_the_tracks_render_and_the_mix_stays_the_same(project, noise_track):
    m = project.create_metatrack([noise_track.id])
    m.add_effect(fx.Gain(db=-3.0))
    m.volume_db = -2.0
    before = project.render()
    expected = render_track(project, m, pre_effects=False)
    new = project.bounce(m.id)
    assert m.mute and new.volume_db == -2.0 and project.tracks[-1] is new
    assert np.array_equal(new.clips[0].source.data, expected)
    assert np.array_equal(project.render(), before)


def test_flatten_bakes_the_transform_and_keeps_the_render(project, noise_track, wav):
    tone = project.add_audio_track("tone")
    tone.add_clip(project.pool.load(wav(sine(500, 2.0), name="t.wav")), start=0.2, fade_out=0.1)
    inner = project.create_metatrack([tone.id])
    inner.speed, inner.offset = 1.5, 0.1
    m = project.create_metatrack([noise_track.id, inner.id])
    m.speed, m.offset = 0.8, 0.3
    before = project.render()
    project.flatten(m.id)
    assert (m.speed, m.offset) == (1.0, 0.0) and inner.speed == pytest.approx(1.2)
    np.testing.assert_allclose(project.render(0.0, before.shape[0] / RATE), before, atol=1e-6)


def test_ungroup_without_transform_or_effects_keeps_the_render(project, noise_track, ones):
    b = project.add_audio_track("b")
    b.add_clip(project.pool.load(ones), duration=0.5)
    before = project.render()
    m = project.create_metatrack([noise_track.id, b.id])
    assert np.array_equal(project.render(), before)
    project.ungroup(m.id)
    assert [t.name for t in project.tracks] == ["noise", "b"]
    assert np.array_equal(project.render(), before)


def test_a_speed_change_while_playing_glides(project, wav):
    t = project.add_audio_track("tone")
    t.add_clip(project.pool.load(wav(sine(440, 4.0))))
    m = project.create_metatrack([t.id])
    eng = Engine(project, driver="null", blocksize=256)
    eng.play()
    a = np.concatenate([eng.process() for _ in range(40)])
    m.speed = 1.1
    b = np.concatenate([eng.process() for _ in range(40)])
    m.offset = 0.013
    c = np.concatenate([eng.process() for _ in range(40)])
    assert clicks(np.concatenate([a, b, c]), RATE) < CLICK_THRESHOLD


@pytest.mark.parametrize(("speed", "offset"), [(1.0, 0.25), (0.5, 0.0), (2.0, -0.125), (0.5, 0.3)])
def test_a_bounce_inside_a_transformed_metatrack_sounds_where_the_original_did(project, noise_track, speed, offset):
    m = project.create_metatrack([noise_track.id], name="M")
    m.speed, m.offset = speed, offset
    noise_track.add_effect(fx.Delay(time=0.01, feedback=0.3, mix=0.5))
    before = project.render()
    new = project.bounce(noise_track.id)
    assert new.parent_id == m.id
    after = project.render(0.0, before.shape[0] / RATE)
    assert np.allclose(after, before, atol=1e-6)


def test_a_clip_whose_rate_composes_to_one_on_a_whole_frame_is_copied_not_resampled(project, wav):
    noise = (np.random.default_rng(3).standard_normal((RATE, 1)) * 0.1).astype(np.float32)
    src = project.pool.load(wav(noise))
    t = project.add_audio_track("T")
    t.add_clip(src, start=0.5, duration=0.25, speed=2.0)
    project.create_metatrack([t.id]).speed = 0.5
    out = project.render(0.0, 1.5)
    start = RATE  # the clip's 0.5 s on a half-speed timeline is 1 s of project time
    assert np.array_equal(out[start : start + RATE // 2, 0], noise[: RATE // 2, 0] * np.float32(np.sqrt(0.5)))


def test_an_alias_by_default_lasts_to_the_end_of_the_metatrack_as_it_sounds_in_place(project, noise_track):
    m = project.create_metatrack([noise_track.id], name="M")
    m.offset, m.speed = 4.0, 0.5
    end = m.to_parent_time(project.content_end(m))
    alias = project.add_audio_track("Host").add_alias(m.id, start=0.0, offset=4.0)
    assert alias.duration == pytest.approx(end - 4.0)


def test_bounce_and_freeze_refuse_a_render_too_big_for_memory_before_allocating(project, ones):
    t = project.add_audio_track("Late")
    t.add_clip(project.pool.load(ones), start=1e6, duration=1.0)
    m = project.create_metatrack([t.id])
    with pytest.raises(ValueError, match=r"the track's render of 1000001 s would take 357\.6 GiB of memory"):
        project.bounce(t.id)
    with pytest.raises(ValueError, match="its content ends too late to hold it in memory"):
        project.freeze(m.id)
    assert len(project.tracks) == 2 and m.frozen is None and project.pool.offline == []
