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


def test_the_master_sends_nowhere(project):
    bus = project.add_bus("B")
    with pytest.raises(ValueError, match="the master sends nowhere"):
        project.master.add_send(bus.id)
    assert project.master.sends == [] and project.history == ["add track 'B'"]
    assert not project.render(0.0, 0.1).any()


def test_an_edit_a_listener_refuses_is_reverted_and_not_recorded(project):
    t = project.add_audio_track("T")
    told = []

    def refuse(op):
        told.append(op.description)
        if "pan" in op.description:
            raise RuntimeError("no")

    project.subscribe(lambda op: told.append("first: " + op.description))
    project.subscribe(refuse)
    version = project.version
    with pytest.raises(RuntimeError, match="no"):
        t.pan = 0.5
    assert t.pan == 0.0 and project.version == version and project.history == ["add track 'T'"]
    # the listener that saw the edit was shown its undoing
    assert told[-3:] == ["first: set pan of #2 to 0.5", "set pan of #2 to 0.5", "first: undo set pan of #2 to 0.5"]


@pytest.mark.parametrize("value", [1e300, 1e15, 2e7])
def test_times_without_bound_are_refused_everywhere_the_model_takes_one(project, ones, value):
    src = project.pool.load(ones)
    t = project.add_audio_track("T")
    m = project.add_metatrack("M")
    k = project.add_midi_track("K")
    with pytest.raises(ValueError, match=r"start must be within 0\.\.11453246\.12"):
        t.add_clip(src, start=value)
    with pytest.raises(ValueError, match="start must be within"):
        t.add_alias(m.id, start=value, duration=1.0)
    with pytest.raises(ValueError, match="duration must be within"):
        t.add_alias(m.id, start=0.0, duration=value)
    with pytest.raises(ValueError, match="start must be within"):
        k.add_midi_clip(start=value)
    with pytest.raises(ValueError, match="offset must be within"):
        k.add_midi_clip(offset=value)
    clip = k.add_midi_clip(0.0, 1.0)
    with pytest.raises(ValueError, match="note start must be within"):
        clip.add_note(60, 100, value, 0.5)
    with pytest.raises(ValueError, match="event time must be within"):
        clip.add_event(value, "cc", 0, number=7)


def test_deep_slow_metatracks_never_overflow_the_frame_counters(project, ones):
    project.max_nesting = 20
    t = project.add_audio_track("T")
    t.add_clip(project.pool.load(ones), start=1e7, duration=1.0)
    inner = t
    for i in range(20):
        inner = project.create_metatrack([inner.id], name=f"L{i}")
        inner.speed = 1 / 64
    assert project.duration > 1e40
    assert not project.render(0.0, 0.1).any()  # the clip lies beyond any session: silence


def test_aliases_and_notes_deep_in_slow_metatracks_compile_too(project, ones):
    project.max_nesting = 20
    t = project.add_audio_track("T")
    t.add_clip(project.pool.load(ones), duration=1.0)
    keys = project.add_midi_track("K")
    keys.add_midi_clip(1e6, 1.0).add_note(60, 100, 0.0, 0.5)
    m = project.create_metatrack([t.id], name="M")
    host = project.add_audio_track("Host")
    host.add_alias(m.id, start=1e6, duration=1.0)
    inner = project.create_metatrack([host.id, keys.id], name="L0")
    for i in range(1, 20):
        inner.speed = 1 / 64
        inner = project.create_metatrack([inner.id], name=f"L{i}")
    inner.speed = 1 / 64
    assert project.render(0.0, 0.1).shape == (4800, 2)


class _Huge(mt.effects.Effect):
    def buffer_shape(self, sample_rate):
        return (2**45, 2)  # more memory than any machine has

    def process_block(self, block, sample_rate):
        pass


def test_an_effect_that_cannot_be_prepared_changes_nothing(project):
    t = project.add_audio_track("T")
    with pytest.raises(MemoryError):
        t.add_effect(_Huge())
    assert t.effects == [] and project.history == ["add track 'T'"]
    keys = mt.MidiTrack(project.registry.new_id(), None, "K")
    keys.effects.append(_Huge())
    with pytest.raises(MemoryError):
        project.apply(mt.model.operations.AddTrack(keys))
    assert project.tracks == [t]
