import numpy as np
import pytest
import soundfile as sf

from mixtree import effects as fx
from mixtree.render import parallel
from mixtree.render.compile import CompileOptions, compile_plan
from mixtree.render.parallel import threads_setting
from mixtree.render.stages import ParallelChains
from mixtree.render.tap import tap
from tests.conftest import RATE


@pytest.fixture
def busy(project, wav):
    """Nine tracks through every built-in batched effect, automated, in a metatrack and a bus."""
    noise = (np.random.default_rng(1).standard_normal((3 * RATE, 2)) * 0.2).astype(np.float32)
    src = project.pool.load(wav(noise))
    bus = project.add_bus("Verb")
    bus.add_effect(fx.Reverb())
    tracks = []
    for k in range(9):
        t = project.add_audio_track(f"t{k}", pan=(k - 4) / 5)
        t.add_clip(src, start=0.1 * k, duration=2.5, offset=0.05 * k)
        t.add_effect(fx.EQ3(low_db=k - 4.0, high_db=2.0))
        comp = t.add_effect(fx.Compressor(threshold_db=-20.0 - k, ratio=3.0))
        t.add_effect(fx.Delay(time=0.05 + 0.01 * k, feedback=0.3, mix=0.3))
        t.add_effect(fx.Gain(db=-1.0))
        comp.automate("threshold_db").set_points([(0.0, -30.0, "linear", 0.0), (2.0, -10.0, "s_curve", 0.0)])
        t.add_send(bus.id, level_db=-12.0)
        tracks.append(t)
    m = project.create_metatrack([t.id for t in tracks[:3]], name="Group")
    m.speed = 0.75
    return project


def test_a_render_on_several_threads_equals_the_one_on_one_bit_for_bit(busy):
    one = busy.render(0.0, 4.0, threads=1)
    assert np.abs(one).max() > 0.05
    for threads in (2, 3):
        assert np.array_equal(busy.render(0.0, 4.0, threads=threads), one)


def test_exports_and_stems_on_several_threads_write_the_same_files(busy, tmp_path):
    busy.export(tmp_path / "one.wav", duration=3.0, threads=1)
    busy.export(tmp_path / "two.wav", duration=3.0, threads=2)
    assert (tmp_path / "one.wav").read_bytes() == (tmp_path / "two.wav").read_bytes()
    one = busy.export_stems(tmp_path / "s1", duration=3.0, threads=1)
    two = busy.export_stems(tmp_path / "s2", duration=3.0, threads=2)
    for a, b in zip(one, two, strict=True):
        assert np.array_equal(sf.read(str(a))[0], sf.read(str(b))[0])


def test_a_plan_on_two_threads_splits_its_batched_stages_and_a_live_plan_never_does(busy):
    offline = compile_plan(busy, CompileOptions(fresh=True, threads=2))
    live = compile_plan(busy, CompileOptions(threads=2))
    split = [s for level in offline.level_stages for s in level if isinstance(s, ParallelChains)]
    assert split and all(len(s.groups) == 2 for s in split)
    assert not any(isinstance(s, ParallelChains) for level in live.level_stages for s in level)


def test_the_thread_count_comes_from_the_argument_else_mixtree_threads_else_one(monkeypatch):
    monkeypatch.delenv(parallel.THREADS_VARIABLE, raising=False)
    assert threads_setting() == 1 and threads_setting(3) == 3
    monkeypatch.setenv(parallel.THREADS_VARIABLE, "2")
    assert threads_setting() == 2
    monkeypatch.setenv(parallel.THREADS_VARIABLE, "all")
    assert threads_setting() >= 1
    monkeypatch.setenv(parallel.THREADS_VARIABLE, "many")
    with pytest.raises(ValueError, match="MIXTREE_THREADS"):
        threads_setting()
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="threads"):
            threads_setting(bad)


@pytest.fixture
def layered(project, wav):
    """Tracks of overlapping clips (faded, reversed, mono and stereo) at two depths of the tree."""
    rng = np.random.default_rng(2)
    stereo = project.pool.load(wav((rng.standard_normal((2 * RATE, 2)) * 0.2).astype(np.float32), name="s.wav"))
    mono = project.pool.load(wav((rng.standard_normal((2 * RATE, 1)) * 0.2).astype(np.float32), name="m.wav"))
    tracks = []
    for k in range(7):
        t = project.add_audio_track(f"t{k}", pan=(k - 3) / 4)
        t.add_clip(stereo, start=0.05 * k, duration=1.5, fade_in=0.2, fade_out=0.3, fade_curve="s_curve")
        t.add_clip(mono, start=0.4 + 0.03 * k, duration=1.2, offset=0.1 * k, gain_db=-3.0, reversed=k % 2 == 1)
        t.add_effect(fx.EQ3(low_db=k - 3.0))
        t.add_effect(fx.Compressor(threshold_db=-18.0, ratio=4.0))
        tracks.append(t)
    project.create_metatrack([t.id for t in tracks[:3]], name="Deeper")  # its tracks a level below the others
    return project


def test_on_several_threads_each_group_reads_its_own_clips_and_the_bits_hold(layered):
    plan = compile_plan(layered, CompileOptions(max_block=1024, fresh=True, threads=2))
    first = plan.level_stages[0][0]
    assert plan.clips_in_stages is first and all(first.reads)  # every group reads clips of its own
    one = layered.render(0.0, 2.0, threads=1)
    assert np.abs(one).max() > 0.05
    for threads, block in ((2, 1024), (3, 333), (2, 8192)):
        assert np.array_equal(layered.render(0.0, 2.0, blocksize=block, threads=threads), one)


def test_clips_are_read_first_on_one_thread_where_the_groups_may_not_read_them(layered, wav):
    plan = compile_plan(layered, CompileOptions(max_block=512, fresh=True, threads=2))
    t = layered.tracks[4]
    got = tap(plan, t.id, True, RATE, 512)  # a tap before effects copies the clips before the chains run
    assert plan.clips_in_stages is None and all(r is None for r in plan.level_stages[0][0].reads)
    alone = tap(compile_plan(layered, CompileOptions(max_block=512, fresh=True)), t.id, True, RATE, 512)
    assert np.abs(alone).max() > 0.05 and np.array_equal(got, alone)
    fast = layered.tracks[5].add_clip(t.clips[0].source, start=0.5, duration=0.5, speed=1.3)
    assert compile_plan(layered, CompileOptions(fresh=True, threads=2)).clips_in_stages is None  # varispeed adds last
    one = layered.render(0.0, 2.0, threads=1)
    assert np.array_equal(layered.render(0.0, 2.0, threads=2), one)
    layered.tracks[5].remove_clip(fast.id)
    layered.pool.stream_above = 0
    t.add_clip(layered.pool.load(wav(np.full((RATE, 2), 0.1, np.float32), name="streamed.wav")), start=0.2)
    assert t.clips[-1].source.streamed
    assert compile_plan(layered, CompileOptions(fresh=True, threads=2)).clips_in_stages is None  # shared hints
    assert np.array_equal(layered.render(0.0, 2.0, threads=2), layered.render(0.0, 2.0, threads=1))
