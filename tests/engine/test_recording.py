"""Recording automation from live moves: touch, latch and write passes, one undo step each."""

import math
import tracemalloc

import numpy as np
import pytest

from mixtree import effects as fx
from mixtree.engine.engine import Engine
from mixtree.engine.recorder import END, MOVE, RESERVED
from mixtree.engine.recording import thin
from tests.conftest import RATE
from tests.quality.measure import CLICK_THRESHOLD, clicks

BLOCK = 256
C = np.float32(np.sqrt(0.5))


@pytest.fixture
def dc(project, wav):
    t = project.add_audio_track("DC")
    t.add_clip(project.pool.load(wav(np.ones((4 * RATE, 1), np.float32), name="one.wav")))
    return t


def run(eng, blocks, moves=None):
    """Play ``blocks`` blocks by hand, calling ``moves(i)`` before block i; return the audio."""
    out = []
    for i in range(blocks):
        if moves is not None:
            moves(i)
        out.append(eng.process())
        eng.events()
    return np.concatenate(out)


def stop(eng):
    eng.stop()
    eng.process()
    eng.events()


def db(x):
    return 20 * np.log10(np.abs(x) / C)


def test_a_touch_pass_records_what_was_heard_within_its_tolerance_as_one_undo_step(project, dc):
    lane = dc.automate("volume_db")
    lane.mode = "touch"
    eng = Engine(project, driver="null", blocksize=BLOCK)
    eng.play()

    def moves(i):
        if 50 <= i < 150:
            eng.set_volume(dc.id, -20.0 * (i - 50) / 100)
        if i == 150:
            eng.release(lane)

    heard = run(eng, 250, moves)[:, 0]
    stop(eng)
    assert dc.volume_db == 0.0  # the moves were recorded, not made
    steps = len(project.history)
    assert len(lane.points) < 10  # a ramp of 100 moves, thinned
    rendered = project.render(0.0, heard.shape[0] / RATE)[:, 0]
    assert np.abs(db(rendered) - db(heard)).max() < 0.06  # the stated 0.05 dB, and float
    assert heard[-1] == C  # back on the lane (the fader, here) after the release
    project.undo()
    assert lane.points == [] and len(project.history) == steps - 1


def test_a_latch_pass_keeps_the_last_value_until_stop(project, dc):
    lane = dc.automate("volume_db")
    lane.set_points([(0.0, 0.0, "linear", 0.0), (3.0, -30.0, "linear", 0.0)])
    lane.mode = "latch"
    eng = Engine(project, driver="null", blocksize=BLOCK)
    eng.play()

    def moves(i):
        if i == 40:
            eng.set_volume(dc.id, -6.0)
        if i == 60:
            eng.release(lane)  # latch does not let go until the transport stops

    heard = run(eng, 200, moves)[:, 0]
    stop(eng)
    assert db(heard[-1]) == pytest.approx(-6.0, abs=1e-4)
    end = 200 * BLOCK / RATE
    assert lane.value_at(end - 0.01) == pytest.approx(-6.0)
    assert lane.value_at(2.0) == pytest.approx(-20.0, abs=0.02)  # the old ramp resumes after the pass
    assert lane.points[-1] == (3.0, -30.0, "linear", 0.0)
    assert lane.mode == "latch"


def test_a_write_pass_overwrites_what_it_passes_and_becomes_touch(project, dc):
    lane = dc.automate("volume_db")
    lane.set_points([(0.2, -12.0, "hold", 0.0), (0.4, 0.0, "hold", 0.0), (3.0, -3.0, "hold", 0.0)])
    lane.mode = "write"
    dc.volume_db = -9.0  # the fader: what write records from the start
    eng = Engine(project, driver="null", blocksize=BLOCK)
    eng.play()
    heard = run(eng, 188)[:, 0]  # about 1 s
    stop(eng)
    assert lane.mode == "touch"
    assert np.abs(db(heard) + 9.0).max() < 1e-4  # the fader played from the first frame, not the old points
    assert lane.value_at(0.3) == pytest.approx(-9.0) and lane.value_at(0.9) == pytest.approx(-9.0)
    assert lane.value_at(3.5) == -3.0  # past the pass, the old point stays


def test_effect_parameters_pan_and_mute_record_too(project, dc):
    gain = dc.add_effect(fx.Gain(db=0.0))
    lanes = [gain.automate("db"), dc.automate("pan"), dc.automate("mute")]
    for lane in lanes:
        lane.mode = "touch"
    eng = Engine(project, driver="null", blocksize=BLOCK)
    eng.play()

    def moves(i):
        if i == 20:
            eng.set_parameter(gain.id, "db", -6.0)
            eng.set_pan(dc.id, 0.5)
        if i == 60:
            eng.set_mute(dc.id, True)
        if i == 80:
            for lane in lanes:
                eng.release(lane)

    run(eng, 100, moves)
    stop(eng)
    db_lane, pan, mute = lanes
    t = 70 * BLOCK / RATE
    assert db_lane.value_at(t) == pytest.approx(-6.0) and pan.value_at(t) == pytest.approx(0.5)
    assert mute.value_at(t) == 1.0 and all(p.shape == "hold" for p in mute.points)
    assert mute.value_at(99 * BLOCK / RATE) == 0.0  # released: back to unmuted
    project.undo()  # the three lanes were one pass
    assert all(lane.points == [] for lane in lanes)


def test_speed_moves_are_recorded_into_the_speed_lane(project, dc):
    m = project.create_metatrack([dc.id])
    lane = m.automate("speed")
    lane.mode = "touch"
    eng = Engine(project, driver="null", blocksize=BLOCK)
    eng.play()
    run(eng, 100, lambda i: eng.set_speed(m.id, 0.5) if i == 30 else None)
    stop(eng)
    assert lane.value_at(99 * BLOCK / RATE) == pytest.approx(0.5) and lane.value_at(0.1) == 1.0


def test_a_manual_move_of_a_touch_lane_while_stopped_is_an_edit_and_is_heard(project, dc):
    lane = dc.automate("volume_db")
    lane.mode = "touch"
    eng = Engine(project, driver="null", blocksize=BLOCK)
    eng.set_volume(dc.id, -6.0)
    assert dc.volume_db == -6.0
    eng.play()
    out = run(eng, 10)[:, 0]
    assert db(out[-1]) == pytest.approx(-6.0, abs=1e-4)


def test_read_ignores_manual_moves_while_playing(project, dc):
    lane = dc.automate("volume_db")
    lane.add_point(0.0, -12.0)
    eng = Engine(project, driver="null", blocksize=BLOCK)
    eng.play()
    out = run(eng, 20, lambda i: eng.set_volume(dc.id, 0.0) if i == 5 else None)[:, 0]
    assert np.abs(db(out) + 12.0).max() < 1e-4


def test_switching_modes_while_playing_does_not_click(project, wav):
    n = np.arange(4 * RATE)
    t = project.add_audio_track("tone")
    t.add_clip(project.pool.load(wav((0.5 * np.sin(2 * np.pi * 220 * n / RATE)).astype(np.float32)[:, None])))
    lane = t.automate("volume_db")
    lane.set_points([(0.0, -30.0, "hold", 0.0)])
    eng = Engine(project, driver="null", blocksize=BLOCK)
    eng.play()
    modes = {40: "off", 80: "read", 120: "touch", 160: "off"}

    def moves(i):
        if i in modes:
            lane.mode = modes[i]
        if i == 130:
            eng.set_volume(t.id, -18.0)  # a touch move: glides over 10 ms

    out = run(eng, 200, moves)
    assert clicks(out[:, 0], RATE) <= CLICK_THRESHOLD


def test_recording_allocates_nothing_on_the_audio_thread(project, dc):
    lane = dc.automate("volume_db")
    lane.mode = "touch"
    eng = Engine(project, driver="null", blocksize=BLOCK)
    eng.play()
    out = np.zeros((BLOCK, 2), np.float32)
    render = eng._player.render
    params = eng._player.params
    key = (13, lane.id)  # commands.TOUCH
    values = [(float(-k % 40), 0) for k in range(10_000)]  # made here, on the control side
    tracemalloc.start()
    for k in range(3000):
        params[key] = values[k]
        render(out)
        eng._player.recorder.taken = eng._player.recorder.written  # the control side reads
    before = tracemalloc.take_snapshot()
    for k in range(3000, 10_000):
        params[key] = values[k]
        render(out)
        eng._player.recorder.taken = eng._player.recorder.written
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    grown = sum(d.size_diff for d in after.compare_to(before, "filename") if d.size_diff > 0)
    assert grown < 8192, f"{grown} bytes allocated over 7,000 recorded moves"


def test_thinning_keeps_every_point_a_straight_line_would_miss():
    line = [(t, 2.0 * t) for t in np.linspace(0, 1, 50)]
    assert thin(line, 0.01) == [line[0], line[-1]]
    bump = [*line[:25], (line[25][0], line[25][1] + 0.5), *line[26:]]
    kept = thin(bump, 0.01)
    assert (line[25][0], line[25][1] + 0.5) in kept and len(kept) <= 5


def test_a_move_and_its_release_in_one_block_end_the_move(project, dc):
    lane = dc.automate("volume_db")
    lane.mode = "touch"
    eng = Engine(project, driver="null", blocksize=BLOCK)
    eng.play()
    run(eng, 10)
    eng.set_volume(dc.id, -12.0)
    eng.release(lane)  # before the audio thread saw the move
    heard = run(eng, 20)[:, 0]
    assert heard[-1] == C  # back on the lane, not stuck at the move
    stop(eng)
    assert lane.points  # and the move was recorded


def test_a_move_held_across_a_seek_records_no_glide_after_it(project, dc):
    lane = dc.automate("volume_db")
    lane.mode = "touch"
    eng = Engine(project, driver="null", blocksize=BLOCK)
    eng.play()

    def moves(i):
        if i == 5:
            eng.set_volume(dc.id, -12.0)
        if i == 20:
            eng.seek(2.0)
        if i == 40:
            eng.release(lane)

    run(eng, 50, moves)
    stop(eng)
    after_seek = project.render(2.0, 0.05)[:, 0]
    assert np.abs(db(after_seek) + 12.0).max() < 0.06  # held, as heard: no glide from 0 dB


def test_a_seek_during_a_move_does_not_hurry_its_glide(project, dc):
    lane = dc.automate("volume_db")
    lane.mode = "touch"
    heard = []
    for seek in (False, True):
        eng = Engine(project, driver="null", blocksize=64)  # the glide spans 7.5 blocks
        eng.play()

        def moves(i, eng=eng, seek=seek):
            if i == 5:
                eng.set_volume(dc.id, -12.0)
            if i == 6 and seek:
                eng.seek(1.0)  # the same DC there: only the glide can differ

        heard.append(run(eng, 16, moves))
        eng.close()
    np.testing.assert_array_equal(heard[0][10 * 64 :], heard[1][10 * 64 :])  # after the crossfade


def test_a_move_inside_an_alias_is_written_on_that_instance_s_timeline(project, wav):
    m = project.add_metatrack("M")
    inner = project.add_audio_track("In", parent_id=m.id)
    inner.add_clip(project.pool.load(wav(np.ones((RATE, 1), np.float32), name="one.wav")))
    host = project.add_audio_track("Host")
    host.add_alias(m.id, start=2.0, duration=1.0)
    lane = inner.automate("volume_db")
    lane.mode = "touch"
    eng = Engine(project, driver="null", blocksize=BLOCK)
    eng.seek(2.0)
    eng.play()

    def moves(i):
        if i == 40:  # 2.21 s: 0.21 s into the alias
            eng.set_volume(inner.id, -12.0)
        if i == 90:
            eng.release(lane)

    run(eng, 120, moves)
    stop(eng)
    assert lane.value_at(0.4) == pytest.approx(-12.0, abs=0.05)  # the instance's time
    assert lane.value_at(0.1) == pytest.approx(0.0, abs=0.05) and lane.value_at(2.4) == pytest.approx(0.0, abs=0.05)


def test_closing_while_playing_keeps_the_pass(project, dc):
    lane = dc.automate("volume_db")
    lane.mode = "latch"
    eng = Engine(project, driver="null", blocksize=BLOCK)
    eng.play()
    run(eng, 10, lambda i: eng.set_volume(dc.id, -9.0) if i == 3 else None)
    steps = len(project.history)
    eng.close()
    assert len(project.history) == steps + 1
    assert lane.value_at(0.04) == pytest.approx(-9.0, abs=0.05)


def test_two_passes_read_at_once_are_two_undo_steps(project, dc):
    lane = dc.automate("volume_db")
    lane.mode = "touch"
    eng = Engine(project, driver="null", blocksize=BLOCK)
    steps = len(project.history)
    for value in (-6.0, -12.0):
        eng.play()
        eng.process()
        eng.set_volume(dc.id, value)
        eng.process()
        eng.process()
        eng.stop()
        eng.process()
    eng.events()  # both passes at once
    assert len(project.history) == steps + 2
    project.undo()
    assert lane.value_at(0.0155) == pytest.approx(-6.0, abs=0.05)  # the glide done, before the stop


def test_a_full_ring_drops_moves_keeps_their_ends_and_says_so(project, dc):
    lane = dc.automate("volume_db")
    lane.mode = "touch"
    eng = Engine(project, driver="null", blocksize=BLOCK)
    recorder = eng._player.recorder
    for n in range(recorder.capacity):
        recorder.write(MOVE, lane.id, n, -1.0)
    assert recorder.written == recorder.capacity - RESERVED and recorder.dropped == RESERVED
    recorder.write(END, lane.id, recorder.capacity, 0.0)
    assert recorder.written == recorder.capacity - RESERVED + 1  # the end still fits
    messages = [e.message for e in eng.events() if e.kind == "error"]
    assert any(f"{RESERVED} recorded automation moves were lost" in m for m in messages)


def test_send_levels_record_and_play_the_move_as_it_is_made(project, dc):
    bus = project.add_bus("Bus")
    send = dc.add_send(bus.id, level_db=0.0, pre_fader=True)
    dc.volume_db = -math.inf  # only the send is heard
    lane = send.automate("level_db")
    lane.mode = "touch"
    eng = Engine(project, driver="null", blocksize=BLOCK)
    eng.play()

    def moves(i):
        if i == 10:
            eng.set_send_level(send.id, -12.0)
        if i == 40:
            eng.release(lane)

    heard = run(eng, 60, moves)[:, 0]
    stop(eng)
    assert send.level_db == 0.0  # recorded, not an edit
    assert db(heard[30 * BLOCK]) - db(heard[5 * BLOCK]) == pytest.approx(-12.0, abs=0.01)  # heard as made
    assert lane.value_at(30 * BLOCK / RATE) == pytest.approx(-12.0, abs=0.05)
    rendered = project.render(0.0, heard.shape[0] / RATE)[:, 0]
    assert np.abs(db(rendered[BLOCK:]) - db(heard[BLOCK:])).max() < 0.06
    eng.set_send_level(send.id, -3.0)  # stopped: an edit
    assert send.level_db == -3.0
    with pytest.raises(ValueError, match="not a send"):
        eng.set_send_level(dc.id, 0.0)
