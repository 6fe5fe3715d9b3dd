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
    snapshots = []
    for _ in range(3):  # warm-up, a window to discard (caches settle), the window measured
        snapshots.append(tracemalloc.take_snapshot().filter_traces(mine))
        for k in range(2000):
            plan.process(out, k % 900 * 256)
    after = tracemalloc.take_snapshot().filter_traces(mine)
    tracemalloc.stop()
    grown = sum(s.size_diff for s in after.compare_to(snapshots[-1], "filename") if s.size_diff > 0)
    assert grown < 2048, f"{grown} bytes allocated over 2000 blocks"


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
