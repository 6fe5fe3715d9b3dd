import tracemalloc

import numpy as np

from mixtree.render.compile import CompileOptions, compile_plan
from tests.conftest import sine


def test_plan_slots_hold_master_first_then_tracks_in_order(project, ones):
    a = project.add_audio_track("A")
    b = project.add_audio_track("B")
    a.add_clip(project.pool.load(ones))
    plan = compile_plan(project)
    assert plan.ids.tolist() == [project.master.id, a.id, b.id]
    assert plan.slot_of(b.id) == 2 and plan.slot_of(999) == -1
    assert plan.clips.track.tolist() == [1]
    assert plan.mono.tolist() == [False, True, False]


def test_muted_clips_do_not_reach_the_plan(project, ones):
    t = project.add_audio_track("A")
    t.add_clip(project.pool.load(ones), muted=True)
    assert compile_plan(project).clips.start.size == 0


def test_steady_state_processing_allocates_nothing(project, wav):
    for i in range(8):
        t = project.add_audio_track(f"T{i}")
        t.add_clip(project.pool.load(wav(sine(100 + i, 5.0), name=f"{i}.wav")), fade_in=0.1)
    plan = compile_plan(project, CompileOptions(max_block=256))
    out = np.zeros((256, 2), np.float32)
    tracemalloc.start()
    mine = [tracemalloc.Filter(False, tracemalloc.__file__)]  # not what measuring allocates
    for k in range(2000):  # warm-up
        plan.process(out, k % 900 * 256)
    growth = []
    before = tracemalloc.take_snapshot().filter_traces(mine)
    for _ in range(4):
        for k in range(2000):
            plan.process(out, k % 900 * 256)
        after = tracemalloc.take_snapshot().filter_traces(mine)
        growth.append(sum(s.size_diff for s in after.compare_to(before, "filename")))
        before = after
    tracemalloc.stop()
    # held memory: a leak grows in every window, while numba's dispatch of tuple
    # arguments makes small objects that come and go
    assert min(growth) < 2048, f"{growth} bytes more held after each window of 2000 blocks"


def test_a_swapped_plan_adopts_the_playing_gains_and_ramps_to_its_own(project, ones):
    t = project.add_audio_track("A")
    t.add_clip(project.pool.load(ones))
    old = compile_plan(project)
    t.volume_db = -20.0
    new = compile_plan(project, CompileOptions(previous=old))
    s = new.slot_of(t.id)
    new.adopt(old, ramp_frames=480, xfade_frames=0)
    assert np.array_equal(new.faders.gain[s], old.faders.gain[s])
    assert (new.faders.target[s] < new.faders.gain[s]).all()
    np.testing.assert_allclose(new.faders.step[s], (new.faders.gain[s] - new.faders.target[s]) / 480)
    out = np.zeros((512, 2), np.float32)
    new.process(out, 0)
    assert np.array_equal(new.faders.gain[s], new.faders.target[s])  # reached within the block


def test_adopt_matches_tracks_by_id_even_across_skipped_plans(project, ones):
    t = project.add_audio_track("A")
    t.add_clip(project.pool.load(ones))
    a = compile_plan(project)
    project.add_audio_track("B", index=0)
    b = compile_plan(project, CompileOptions(previous=a))
    t.volume_db = -6.0
    c = compile_plan(project, CompileOptions(previous=b))  # the audio thread never took b
    c.adopt(a, 480, 0)
    assert c.carry_map.tolist() == [0, -1, 1]
    assert np.array_equal(c.faders.gain[2], a.faders.gain[1]) and (c.faders.step[2] > 0).all()


def test_a_tail_leaves_faders_lanes_and_sends_where_the_block_left_them(project, ones):
    t = project.add_audio_track("A")
    t.add_clip(project.pool.load(ones))
    t.automate("pan").set_points([(0.0, -1.0, "linear", 0.0), (1.0, 1.0, "linear", 0.0)])
    t.add_send(project.add_bus("Bus").id, level_db=-6.0)
    plan = compile_plan(project, CompileOptions(max_block=256))
    lane = plan.lane_index[t.lanes["pan"].id][0]
    out = np.zeros((256, 2), np.float32)
    plan.process(out, 0)
    t_slot = plan.slot_of(t.id)
    plan.faders.target[t_slot] = 0.0  # a fader on its way down
    plan.faders.step[t_slot] = plan.faders.gain[t_slot] / 1000
    plan.touch_lane(t.lanes["pan"].id, 0.5)  # and a move gliding in
    plan.process(out, 256)
    before = [a.copy() for a in (plan.faders.gain, plan.faders.last, plan.lanes.live, plan.lanes.last)]
    plan.process(out, 20000, tail=True)
    after = (plan.faders.gain, plan.faders.last, plan.lanes.live, plan.lanes.last)
    assert all(np.array_equal(a, b) for a, b in zip(before, after, strict=True))
    assert plan.lanes.state[lane] == 1  # still the move


def test_a_new_plan_goes_on_with_moves_under_way_and_lanes_returning_from_them(project, ones):
    t = project.add_audio_track("A")
    t.add_clip(project.pool.load(ones))
    pan = t.automate("pan")
    vol = t.automate("volume_db")
    pan.mode = vol.mode = "touch"
    old = compile_plan(project, CompileOptions(max_block=256))
    out = np.zeros((256, 2), np.float32)
    old.touch_lane(pan.id, 0.5)
    old.touch_lane(vol.id, -12.0)
    old.process(out, 0)
    old.release_lane(vol.id)
    old.process(out, 256)
    project.add_audio_track("B")
    new = compile_plan(project, CompileOptions(max_block=256, previous=old))
    new.adopt(old, 480, 0)
    for lane in (pan, vol):
        ko, kn = old.lane_index[lane.id][0], new.lane_index[lane.id][0]
        for name in ("state", "live", "target", "step", "left", "last"):
            assert getattr(new.lanes, name)[kn] == getattr(old.lanes, name)[ko], name
    assert new.lanes.state[new.lane_index[vol.id][0]] == 2  # returning
