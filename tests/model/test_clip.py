import pytest

from mixtree.model.operations import RemoveClip


def test_add_clip_defaults_to_the_rest_of_the_source(project, ones):
    src = project.pool.load(ones)
    t = project.add_audio_track("T")
    c = t.add_clip(src, start=1.0, offset=0.5)
    assert c.duration == pytest.approx(1.5)
    assert c.end == pytest.approx(2.5)
    assert project.clip(c.id) is c and c.track_id == t.id


def test_clip_reaching_past_its_source_is_refused(project, ones):
    src = project.pool.load(ones)
    t = project.add_audio_track("T")
    with pytest.raises(ValueError, match=r"reaches past the end of 'ones.wav'.*2 s of audio"):
        t.add_clip(src, start=0.0, duration=2.0, offset=0.5)
    c = t.add_clip(src, start=0.0, duration=1.0)
    with pytest.raises(ValueError, match="reaches past the end"):
        c.offset = 1.5
    assert c.offset == 0.0  # the rejected edit changed nothing


def test_negative_or_empty_durations_and_overlapping_fades_are_refused(project, ones):
    src = project.pool.load(ones)
    t = project.add_audio_track("T")
    with pytest.raises(ValueError, match=r"duration must be within 0..11453246.12, not -1"):
        t.add_clip(src, duration=-1.0)
    with pytest.raises(ValueError, match="at least one frame"):
        t.add_clip(src, duration=0.0)
    with pytest.raises(ValueError, match="start must be within"):
        t.add_clip(src, start=-0.5)
    with pytest.raises(ValueError, match="fade_in 0.6 s \\+ fade_out 0.6 s exceed"):
        t.add_clip(src, duration=1.0, fade_in=0.6, fade_out=0.6)
    with pytest.raises(ValueError, match="fade curve must be one of"):
        t.add_clip(src, fade_curve="zigzag")
    assert t.clips == []


def test_source_from_another_project_is_refused(project, ones):
    import mixtree as mt

    other = mt.Project()
    src = other.pool.load(ones)
    with pytest.raises(ValueError, match="not in this project's pool"):
        project.add_audio_track("T").add_clip(src)


def test_removing_a_clip_and_reverting_restores_its_place(project, ones):
    src = project.pool.load(ones)
    t = project.add_audio_track("T")
    clips = [t.add_clip(src, start=float(i), duration=0.5) for i in range(3)]
    op = project.apply(RemoveClip(clips[1].id))
    assert t.clips == [clips[0], clips[2]]
    op.revert(project)
    assert t.clips == clips
