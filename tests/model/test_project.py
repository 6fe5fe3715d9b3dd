import math

import pytest

import mixtree as mt
from mixtree.model.operations import SetAttribute


def test_defaults_to_48k_and_refuses_odd_rates():
    assert mt.Project().sample_rate == 48000
    assert mt.Project(sample_rate=96000).sample_rate == 96000
    with pytest.raises(ValueError, match="sample_rate must be one of"):
        mt.Project(sample_rate=22050)


def test_tracks_are_listed_in_tree_order_with_stable_ids(project):
    a = project.add_audio_track("A")
    b = project.add_audio_track("B")
    c = project.add_audio_track("C", index=0)
    assert [t.name for t in project.tracks] == ["C", "A", "B"]
    project.remove_track(a.id)
    assert project.tracks == [c, b]
    assert project.track(b.id) is b
    assert len({project.master.id, a.id, b.id, c.id}) == 4


def test_every_assignment_is_an_operation_that_can_be_reverted(project):
    t = project.add_audio_track("Keys", volume_db=-6.0)
    seen = []
    project.subscribe(seen.append)
    t.volume_db = -3.0
    t.pan = 0.2
    t.mute = True
    assert [type(op) for op in seen] == [SetAttribute] * 3
    for op in reversed(seen):
        op.revert(project)
    assert (t.volume_db, t.pan, t.mute) == (-6.0, 0.0, False)


def test_bad_values_name_the_attribute_and_range(project):
    t = project.add_audio_track("A")
    with pytest.raises(ValueError, match=r"pan must be within -1..1, not 2"):
        t.pan = 2
    with pytest.raises(ValueError, match="volume_db must be within"):
        t.volume_db = math.nan
    with pytest.raises(ValueError, match="mute must be True or False"):
        t.mute = "yes"
    with pytest.raises(ValueError, match="name must be a non-empty string"):
        t.name = ""
    t.volume_db = -math.inf  # a closed fader is allowed
    assert t.pan == 0.0


def test_unknown_ids_are_clear_errors(project):
    with pytest.raises(mt.UnknownIdError, match="no track with id 42"):
        project.track(42)
    with pytest.raises(mt.UnknownIdError, match="no clip with id 42"):
        project.clip(42)
    with pytest.raises(mt.UnknownIdError):
        project.remove_track(42)


def test_master_cannot_be_removed(project):
    with pytest.raises(ValueError, match="master"):
        project.remove_track(project.master.id)
