import tracemalloc

import numpy as np
import pytest

import mixtree as mt
import mixtree.render.offline
from mixtree import effects as fx
from mixtree.dsp.rows import SLOT
from mixtree.engine import commands as cmd
from mixtree.engine.engine import FADER_RAMP, SEEK_XFADE, Engine
from tests.conftest import RATE, sine

XF = int(SEEK_XFADE * RATE)
C = np.float32(np.sqrt(0.5))


@pytest.fixture
def song(project, wav):
    rng = np.random.default_rng(5)
    for i in range(4):
        data = (rng.standard_normal((3 * RATE, 1 + i % 2)) * 0.1).astype(np.float32)
        t = project.add_audio_track(f"T{i}", volume_db=-i, pan=(i - 1.5) / 2)
        t.add_clip(project.pool.load(wav(data, name=f"{i}.wav")), start=0.1 * i, fade_in=0.01)
    return project


def run(engine, blocks, size=256):
    return np.concatenate([engine.process(size) for _ in range(blocks)])


@pytest.mark.parametrize("blocksize", [64, 256, 1024])
def test_playback_equals_the_offline_render_bit_for_bit(song, blocksize):
    ref = song.render(0.0, 2.0)
    eng = Engine(song, driver="null", blocksize=blocksize)
    eng.play()
    n = ref.shape[0] // blocksize
    out = run(eng, n, blocksize)
    assert np.array_equal(out, ref[: n * blocksize])
    assert eng.position == n * blocksize / RATE


def test_nothing_plays_before_play_and_a_command_acts_in_the_next_block(song):
    eng = Engine(song, driver="null", blocksize=256)
    assert not eng.process().any()
    eng.play()
    first = eng.process()
    assert np.array_equal(first, song.render(0.0, 256 / RATE))


def test_seek_lands_on_the_exact_frame_after_a_short_crossfade(song):
    eng = Engine(song, driver="null", blocksize=256)
    eng.play()
    run(eng, 10)
    eng.seek(1.5)
    out = run(eng, 4)
    ref = song.render(1.5, 4 * 256 / RATE)
    assert np.array_equal(out[XF:], ref[XF:])
    assert not np.array_equal(out[:XF], ref[:XF])  # the crossfade happened


def test_seek_while_stopped_needs_no_crossfade(song):
    eng = Engine(song, driver="null", blocksize=256)
    eng.seek(0.75)
    eng.process()
    eng.play()
    assert np.array_equal(eng.process(), song.render(0.75, 256 / RATE))


def test_pause_fades_out_and_stop_returns_to_where_play_started(song):
    eng = Engine(song, driver="null", blocksize=256)
    eng.seek(0.5)
    eng.play()
    run(eng, 8)
    eng.pause()
    block = eng.process()
    assert np.abs(block[XF:]).max() == 0 and np.abs(block[: XF // 2]).max() > 0
    assert eng.position == pytest.approx(0.5 + 8 * 256 / RATE)
    eng.play()
    run(eng, 2)
    eng.stop()
    eng.process()
    assert eng.position == pytest.approx(0.5 + 8 * 256 / RATE) and not eng.playing


def test_loop_jumps_back_to_the_loop_start(song):
    eng = Engine(song, driver="null", blocksize=256)
    eng.set_loop(True, 0.5, 0.6)
    eng.seek(0.5)
    eng.play()
    loop = int(0.1 * RATE)
    out = run(eng, 60)
    ref = song.render(0.5, 0.1)
    assert np.array_equal(out[:loop], ref)
    assert np.array_equal(out[loop + XF : 2 * loop], ref[XF:])
    assert np.array_equal(out[2 * loop + XF : 3 * loop], ref[XF:])


def test_volume_change_is_smoothed_then_exact(project, ones):
    t = project.add_audio_track("T")
    t.add_clip(project.pool.load(ones))
    eng = Engine(project, driver="null", blocksize=128)
    eng.play()
    run(eng, 2, 128)
    eng.set_volume(t.id, -60.0)
    out = run(eng, 8, 128)[:, 0]
    ramp = int(FADER_RAMP * RATE)
    assert np.abs(np.diff(out)).max() <= C / ramp * 1.001
    assert out[0] < C and out[-1] == pytest.approx(C * 10 ** (-60 / 20), rel=1e-5)
    assert t.volume_db == -60.0  # the change is an edit of the project too


def test_fast_edits_do_not_recompile_but_structural_ones_do(song, ones):
    eng = Engine(song, driver="null", blocksize=256)
    first = eng._published
    song.tracks[0].pan = 0.3
    song.tracks[1].mute = True
    assert eng._published is first
    t = song.add_audio_track("New")
    assert eng._published is not first and eng._published.slot_of(t.id) > 0


def test_edits_while_playing_reach_the_next_block_and_old_plans_retire(song, ones):
    eng = Engine(song, driver="null", blocksize=256)
    eng.play()
    run(eng, 4)
    t = song.add_audio_track("Late")
    t.add_clip(song.pool.load(ones), start=0.0)
    block = eng.process()
    ref = song.render(4 * 256 / RATE, 256 / RATE)
    # the new clip glides in over the swap's crossfade, then plays exactly
    np.testing.assert_allclose(block[XF:], ref[XF:], atol=1e-6)
    ramp = block[:XF, 0] - (ref[:XF, 0] - C)  # the new track's part, mono at the centre
    assert np.all(np.diff(ramp) >= -1e-6) and ramp[0] < 0.01
    run(eng, 3)
    assert eng._retired == []


def test_mute_and_solo_commands_fade_instead_of_clicking(project, ones):
    src = project.pool.load(ones)
    tracks = [project.add_audio_track(f"T{i}", pan=-0.5 + i) for i in range(2)]
    for t in tracks:
        t.add_clip(src)
    eng = Engine(project, driver="null", blocksize=256)
    eng.play()
    run(eng, 4)
    eng.set_solo(tracks[1].id, True)
    out = run(eng, 4)
    eng.set_mute(tracks[1].id, True)
    out = np.concatenate([out, run(eng, 4)])
    ramp = int(FADER_RAMP * RATE)
    assert np.abs(np.diff(out, axis=0)).max() <= 1.0 / ramp * 1.001
    assert not out[-1].any()
    tracks[1].mute = False
    assert np.array_equal(run(eng, 4)[-1], project.render(0, 0.01)[0])


def test_a_failing_block_is_silenced_reported_and_the_stream_goes_on(song):
    eng = Engine(song, driver="null", blocksize=256)
    eng.play()
    eng._player.params[(cmd.VOLUME, song.tracks[0].id)] = ("not a number", 1)
    assert not eng.process().any()
    errors = [e for e in eng.events() if e.kind == "error"]
    assert len(errors) == 1 and "ValueError" in errors[0].message
    assert eng.process().any()
    assert eng.stats()["errors"] == 1


def test_events_report_position_and_meters_per_track(song):
    eng = Engine(song, driver="null", blocksize=256)
    eng.play()
    run(eng, 3)
    events = eng.events()
    positions = [e.position for e in events if e.kind == "position"]
    assert positions == [256, 512, 768]
    meters = [e for e in events if e.kind == "meters"][-1]
    assert set(meters.peak) == {song.master.id, *(t.id for t in song.tracks)}
    assert meters.peak[song.master.id][0] > 0 and meters.rms[song.master.id][0] > 0


def test_meter_groups_meters_a_plain_group_and_plays_the_same_samples(song):
    first, second = song.tracks[0], song.tracks[1]
    group = song.create_metatrack([first.id, second.id], name="Group")
    inner = song.create_metatrack([second.id], name="Inner")
    plain = Engine(song, driver="null", blocksize=256)
    metered = Engine(song, driver="null", blocksize=256, meter_groups=True)
    for eng in (plain, metered):
        eng.play()
    heard = [run(eng, 24) for eng in (plain, metered)]  # past 0.1 s, where the second track starts
    np.testing.assert_array_equal(heard[0], heard[1])
    without = [e for e in plain.events() if e.kind == "meters"][-1]
    meters = [e for e in metered.events() if e.kind == "meters"][-1]
    assert group.id not in without.peak and inner.id not in without.peak  # plain groups pass through
    assert set(meters.peak) == {song.master.id, *(t.id for t in song.tracks)}
    # a group of one child reads what that child reads; a group of two, their sum
    assert meters.peak[inner.id] == meters.peak[second.id] and meters.rms[inner.id] == meters.rms[second.id]
    assert meters.rms[group.id][0] > max(meters.rms[first.id][0], meters.rms[second.id][0])


def test_stats_report_load_xruns_and_counts(song):
    eng = Engine(song, driver="null", blocksize=256)
    eng._player.period = 256 / RATE
    eng.play()
    run(eng, 20)
    s = eng.stats()
    assert s["blocks"] == 20 and s["commands_applied"] == 1
    assert 0 < s["load_mean"] <= s["load_max"] and s["xruns"] == 0 and s["events_dropped"] == 0


def test_steady_state_callbacks_allocate_nothing(song):
    # filters that run in pairs, compressors, an instrument chased at every loop jump, and
    # an alias playing a metatrack's tracks again
    for t in song.tracks:
        t.add_effect(fx.Filter("lowshelf", 200.0, gain_db=3.0))
        t.add_effect(fx.Compressor())
    keys = song.add_midi_track("Keys")
    clip = keys.add_midi_clip(0.0, 2.0)
    clip.add_note(60, 100, 0.0, 1.5)
    clip.add_event(0.5, "pitch_bend", 2000)
    m = song.create_metatrack([song.tracks[0].id, keys.id])
    song.add_audio_track("Host").add_alias(m.id, start=1.0, duration=1.0)
    eng = Engine(song, driver="null", blocksize=256)
    eng.set_loop(True, 0.25, 1.75)
    eng.play()
    out = np.zeros((256, 2), np.float32)
    render = eng._player.render
    tracemalloc.start()  # before the warm-up, so what it holds is traced when freed
    for _ in range(5000):  # fill the event queue to its steady state
        render(out)
    growth = []
    before = tracemalloc.take_snapshot()
    for _ in range(3):
        for _ in range(5000):
            render(out)
        after = tracemalloc.take_snapshot()
        growth.append(sum(d.size_diff for d in after.compare_to(before, "filename")))
        before = after
    tracemalloc.stop()
    # held memory: a leak grows in every window, while numba's dispatch of tuple
    # arguments makes small objects that come and go
    assert min(growth) < 8192, f"{growth} bytes more held after each window of 5,000 callbacks"


def test_bad_arguments_are_refused(song):
    with pytest.raises(ValueError, match="blocksize must be"):
        Engine(song, driver="null", blocksize=16)
    with pytest.raises(ValueError, match="driver must be"):
        Engine(song, driver="alsa")
    eng = Engine(song, driver="null")
    with pytest.raises(ValueError, match="seek position"):
        eng.seek(-1)
    with pytest.raises(ValueError, match=r"seek position must be within 0\.\.11453246\.12, not 1000000000000000"):
        eng.seek(1e15)
    with pytest.raises(ValueError, match="loop range"):
        eng.set_loop(True, 2.0, 1.0)
    with pytest.raises(ValueError, match="loop end must be within"):
        eng.set_loop(True, 0.0, 1e300)
    eng.set_loop(False, 0.0, 1e300)  # switching the loop off takes no range
    with pytest.raises(mt.UnknownIdError):
        eng.set_volume(999, 0.0)
    for bad in (-1, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="autosave interval"):
            Engine(song, driver="null", autosave=bad)


def test_null_driver_plays_in_real_time(song):
    import time

    with Engine(song, driver="null", blocksize=256) as eng:
        eng.play()
        time.sleep(0.5)
        position = eng.position
    assert 0.3 < position < 0.7
    assert eng.stats()["blocks"] > 50


def test_plays_a_sine_at_its_pitch(project, wav):
    src = project.pool.load(wav(sine(440, 1.0)))
    project.add_audio_track("sine").add_clip(src)
    eng = Engine(project, driver="null", blocksize=512)
    eng.play()
    out = run(eng, 100, 512)[:RATE, 0]
    spectrum = np.abs(np.fft.rfft(out * np.hanning(RATE)))
    assert np.argmax(spectrum) == 440


def test_a_full_command_queue_refuses_the_edit_whole(song):
    eng = Engine(song, driver="null", blocksize=256)
    while eng._player.commands.push((cmd.PLAY,)):
        pass  # an audio thread that has stopped taking commands
    t = song.tracks[0]
    history = list(song.history)
    with pytest.raises(mt.QueueFullError, match="command queue is full"):
        eng.set_mute(t.id, True)
    assert not t.mute and song.history == history  # neither the model nor the audio changed
    with pytest.raises(mt.QueueFullError):
        eng.seek(1.0)


class _Exits(fx.Effect):
    def process_block(self, block, sample_rate):
        raise SystemExit("a user effect called sys.exit()")


def test_an_effect_raising_system_exit_is_contained_like_any_error(song):
    song.tracks[0].add_effect(_Exits())
    ref = song.tracks[1]
    with pytest.warns(mt.render.offline.RenderWarning, match="SystemExit"):
        offline = song.render(0.0, 0.5)
    assert offline.any()
    eng = Engine(song, driver="null", blocksize=256)
    eng.play()
    assert run(eng, 40).any()  # the other tracks play on
    (error,) = [e for e in eng.events() if e.kind == "error"]
    assert error.track == song.tracks[0].id and "SystemExit" in error.message
    assert ref.id in [t.id for t in song.tracks]


def test_the_null_driver_survives_an_effect_raising_system_exit(song):
    import time

    song.tracks[0].add_effect(_Exits())
    with Engine(song, driver="null", blocksize=256) as eng:
        eng.play()
        time.sleep(0.3)
        blocks = eng.stats()["blocks"]
        time.sleep(0.2)
        assert eng.running and eng.stats()["blocks"] > blocks
        assert any(e.kind == "error" and "SystemExit" in e.message for e in eng.events())


def test_a_second_engine_starts_every_instrument_at_rest(project):
    keys = project.add_midi_track("Keys", instrument=mt.PolySynth(release=5.0))
    keys.add_midi_clip(0.0, 1.0).add_note(60, 100, 0.0, 0.9)
    first = Engine(project, driver="null", blocksize=256)
    first.play()
    run(first, 150)  # the note is released and rings on for seconds
    first.close()
    second = Engine(project, driver="null", blocksize=256)
    second.play()
    assert np.array_equal(run(second, 20), project.render(0.0, 20 * 256 / RATE))


def test_warm_up_compiles_the_kernels_of_every_registered_effect(song):
    import numba as nb

    @nb.njit(cache=False)
    def halve(buf, frames, rows, rate):
        for r in range(rows.shape[0]):
            for i in range(frames):
                buf[rows[r, SLOT], i, 0] *= 0.5
                buf[rows[r, SLOT], i, 1] *= 0.5

    class Halve(fx.Effect):
        kernel = staticmethod(halve)

    assert not halve.signatures
    Engine(song, driver="null", blocksize=256)
    assert halve.signatures  # compiled before any callback could need it


def test_stats_since_a_block_count_covers_only_the_blocks_after_it(song):
    eng = Engine(song, driver="null", blocksize=256)
    eng.play()
    run(eng, 20)
    mark = eng.stats()["blocks"]
    run(eng, 20)
    loads = eng._player.loads
    loads[: mark - 1] = 9.0  # before the mark: must not count
    loads[mark + 3] = 5.0
    assert eng.stats()["load_max"] == 9.0
    assert eng.stats(since=mark)["load_max"] == 5.0
    assert eng.stats(since=mark + 4)["load_max"] < 5.0
    assert eng.stats(since=mark + 100)["load_max"] == 0.0
