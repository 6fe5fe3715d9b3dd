import numpy as np
import pytest

import mixtree as mt
from mixtree import effects as fx
from mixtree.effects.base import Effect
from mixtree.engine.engine import Engine
from mixtree.render.offline import RenderWarning
from mixtree.render.stages import BatchStage, SoloStage
from tests.conftest import RATE

C = np.float32(np.sqrt(0.5))


@pytest.fixture
def noisy(project, wav):
    rng = np.random.default_rng(3)
    tracks = []
    for i in range(3):
        data = (rng.standard_normal((2 * RATE, 1)) * 0.2).astype(np.float32)
        t = project.add_audio_track(f"T{i}")
        t.add_clip(project.pool.load(wav(data, name=f"{i}.wav")))
        tracks.append(t)
    return project, tracks


def test_a_track_chain_processes_in_order_before_the_fader(project, ones):
    t = project.add_audio_track("T", volume_db=-6.0)
    t.add_clip(project.pool.load(ones), duration=0.1)
    t.add_effect(fx.Gain(db=-6.0))
    t.add_effect(fx.Pan(pan=-1.0))
    out = project.render(0.0, 0.1)
    g = 10 ** (-12 / 20)
    assert out[100, 0] == pytest.approx(C * g, rel=1e-5) and out[100, 1] == pytest.approx(0.0, abs=1e-7)


def test_master_chain_applies_to_the_mix(project, ones):
    project.add_audio_track("T").add_clip(project.pool.load(ones), duration=0.1)
    project.master.add_effect(fx.Gain(db=-1.0))
    assert project.render(0, 0.1)[10, 0] == pytest.approx(C * 10 ** (-1 / 20), rel=1e-6)


def test_same_effects_at_the_same_position_share_one_batched_call(noisy):
    project, tracks = noisy
    for t in tracks:
        for _ in range(8):
            t.add_effect(fx.EQ3(low_db=1.0))
    tracks[1].add_effect(fx.Compressor(), index=3)
    from mixtree.render.compile import compile_plan

    plan = compile_plan(project)
    stages = plan.level_stages[0]
    assert all(isinstance(s, BatchStage) for s in stages)
    assert len(stages) == 10  # 8 positions of EQ3 (3 rows) + a compressor and the EQ3 it displaced
    assert [len(s.slots) for s in stages[:3]] == [3, 3, 3]


def test_eight_effect_chain_renders_the_same_as_effects_applied_one_by_one(noisy):
    project, tracks = noisy
    t = tracks[0]
    tracks[1].mute = tracks[2].mute = True
    chain = [
        fx.EQ3(low_db=2, high_db=-3),
        fx.Compressor(threshold_db=-24),
        fx.Filter("highpass", 60.0),
        fx.Delay(time=0.05, mix=0.2),
        fx.Reverb(mix=0.1),
        fx.Gain(db=-2.0),
        fx.Pan(pan=0.2),
        fx.Filter("peak", 2000.0, 1.0, 3.0),
        fx.Gain(db=1.0),
    ]
    dry = project.render(0.0, 1.0) / C
    expected = np.repeat(dry[:, :1], 2, axis=1)
    for effect in chain:
        twin = Effect.from_state(effect.get_state())
        for at in range(0, RATE, 512):
            twin.process(expected[at : at + 512], RATE)
    for effect in chain:
        t.add_effect(effect)
    out = project.render(0.0, 1.0) / C
    np.testing.assert_allclose(out, expected, atol=1e-5)


def test_chain_edits_are_operations_that_revert(noisy):
    project, (t, *_) = noisy
    a = t.add_effect(fx.Gain(db=-3.0))
    b = t.add_effect(fx.Filter())
    seen = []
    project.subscribe(seen.append)
    t.move_effect(b.id, 0)
    a.set_parameter("db", -9.0)
    a.bypass = True
    t.remove_effect(b.id)
    assert t.effects == [a] and a.db == -9.0 and a.bypass
    for op in reversed(seen):
        op.revert(project)
    assert t.effects == [a, b] and a.db == -3.0 and not a.bypass
    assert project.effect(b.id) is b
    with pytest.raises(mt.UnknownIdError, match="no effect with id 999"):
        project.effect(999)
    with pytest.raises(ValueError, match="already in a chain"):
        t.add_effect(a)


def test_effects_survive_save_and_load(noisy, tmp_path):
    project, (t, *_) = noisy
    t.add_effect(fx.EQ3(low_db=3.0, high_db=-2.0))
    comp = t.add_effect(fx.Compressor(threshold_db=-20.0, detection="rms"))
    comp.bypass = True
    project.master.add_effect(fx.Reverb(mix=0.2))
    q = mt.Project.load(project.save(tmp_path / "fx.json"))
    assert [e.get_state() for e in q.tracks[0].effects] == [e.get_state() for e in t.effects]
    assert [e.id for e in q.tracks[0].effects] == [e.id for e in t.effects]
    assert np.array_equal(q.render(0, 1.0), project.render(0, 1.0))


class Exploding(Effect):
    """A user effect that fails."""

    effect_type = "test-exploding"

    def process_block(self, block, sample_rate):
        raise RuntimeError("boom")


class NaNMaker(Effect):
    """A user effect that emits NaN."""

    effect_type = "test-nan"

    def process_block(self, block, sample_rate):
        block[5, 0] = np.nan


@pytest.mark.parametrize(
    ("effect", "reason"), [(Exploding, "raised RuntimeError: boom"), (NaNMaker, "NaN or infinite")]
)
def test_a_failing_effect_silences_only_its_track(noisy, effect, reason):
    project, tracks = noisy
    clean = tracks[1:]
    tracks[0].add_effect(effect())
    with pytest.warns(RenderWarning, match=f"'T0' was silenced: .*{reason}"):
        out = project.render(0.0, 0.5)
    tracks[0].remove_effect(tracks[0].effects[0].id)
    tracks[0].mute = True
    assert np.array_equal(out, project.render(0.0, 0.5))
    assert all(t.mute is False for t in clean)


def test_engine_reports_a_failed_track_and_recovers_it(noisy):
    project, tracks = noisy
    bad = tracks[0].add_effect(NaNMaker())
    eng = Engine(project, driver="null", blocksize=256)
    eng.play()
    for _ in range(3):
        assert np.isfinite(eng.process()).all()
    errors = [e for e in eng.events() if e.kind == "error"]
    assert len(errors) == 1 and errors[0].track == tracks[0].id and "'T0' silenced" in errors[0].message
    tracks[0].remove_effect(bad.id)
    eng.process()
    assert not [e for e in eng.events() if e.kind == "error"]
    assert not eng._player.plan.failed.any()


def test_solo_stage_for_effects_without_a_kernel(noisy):
    project, (t, *_) = noisy
    t.add_effect(NaNMaker())
    from mixtree.render.compile import compile_plan

    assert isinstance(compile_plan(project).level_stages[0][0], SoloStage)


def test_parameter_changes_while_playing_need_no_recompile_and_glide(project, ones):
    t = project.add_audio_track("T")
    t.add_clip(project.pool.load(ones))
    gain = t.add_effect(fx.Gain(db=0.0))
    eng = Engine(project, driver="null", blocksize=128)
    plan = eng._published
    eng.play()
    eng.process(128)
    gain.db = -40.0
    out = np.concatenate([eng.process(128) for _ in range(12)])[:, 0]
    assert eng._published is plan
    # the gain glides linearly in dB over the parameter's 20 ms ramp: the steepest step
    # is the first one, a factor of 10^(-40 dB / 960 frames / 20) below full level
    assert np.abs(np.diff(out)).max() <= C * (1 - 10 ** (-40 / (0.02 * RATE) / 20)) * 1.01
    assert out[-1] == pytest.approx(C * 0.01, rel=1e-4)


def test_effect_memory_carries_over_a_recompile(project, wav):
    x = np.zeros((RATE, 1), np.float32)
    x[:100] = 1.0
    t = project.add_audio_track("T")
    t.add_clip(project.pool.load(wav(x)))
    t.add_effect(fx.Delay(time=0.2, feedback=0.5, mix=0.5))
    ref = Engine(project, driver="null", blocksize=256)
    ref.play()
    expected = np.concatenate([ref.process() for _ in range(100)])
    ref.close()
    for e in t.effects:
        e.reset()
    eng = Engine(project, driver="null", blocksize=256)
    eng.play()
    first = [eng.process() for _ in range(50)]
    project.add_audio_track("Empty")  # a structural edit: a new plan mid-tail
    second = [eng.process() for _ in range(50)]
    assert np.array_equal(np.concatenate(first + second), expected)
