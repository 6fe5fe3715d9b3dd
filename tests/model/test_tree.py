import numpy as np
import pytest

import mixtree as mt
from mixtree.model.tracks import BusTrack, Metatrack


@pytest.fixture
def three(project, ones):
    src = project.pool.load(ones)
    tracks = [project.add_audio_track(n) for n in "ABC"]
    for i, t in enumerate(tracks):
        t.add_clip(src, start=0.1 * i, duration=0.5)
    return tracks


def test_create_metatrack_groups_a_selection_where_it_stood(project, three):
    a, b, c = three
    m = project.create_metatrack([c.id, b.id], name="Verse")
    assert [t.name for t in project.tracks] == ["A", "Verse", "B", "C"]
    assert m.children == [b, c] and b.parent_id == m.id
    outer = project.create_metatrack([m.id], name="Song")
    assert [t.name for t in project.tracks] == ["A", "Song", "Verse", "B", "C"]
    with pytest.raises(ValueError, match="share one parent"):
        project.create_metatrack([a.id, b.id])
    assert isinstance(outer, Metatrack)


def test_grouping_is_one_operation_that_reverts(project, three):
    seen = []
    project.subscribe(seen.append)
    project.create_metatrack([t.id for t in three])
    assert len(seen) == 1
    seen[0].revert(project)
    assert [t.name for t in project.tracks] == ["A", "B", "C"]


def _nest(project, track, levels):
    inner = track
    for i in range(levels):
        inner = project.create_metatrack([inner.id], name=f"L{i + 1}")
    return inner


def test_ten_levels_nest_by_default_and_the_eleventh_is_refused(project, three):
    top = _nest(project, three[0], 10)
    with pytest.raises(ValueError, match=r"nest 11 levels deep \(L11 > L10 > .* > L1\); the limit is 10"):
        project.create_metatrack([top.id], name="L11")
    assert top.parent_id is None and len(project.tracks) == 13


def test_twenty_levels_nest_when_the_limit_allows(project, three):
    project.max_nesting = 20
    top = _nest(project, three[0], 20)
    with pytest.raises(ValueError, match="limit is 20"):
        project.create_metatrack([top.id])
    assert project.render(0.0, 0.5).any()


def test_a_track_cannot_move_into_its_own_subtree(project, three):
    m = project.create_metatrack([three[0].id])
    inner = project.add_metatrack("inner", parent_id=m.id)
    with pytest.raises(ValueError, match="cannot go inside itself"):
        project.move_track(m.id, inner.id)
    with pytest.raises(ValueError, match="inside metatracks"):
        project.move_track(three[1].id, three[2].id)
    assert inner.parent_id == m.id


def test_send_loops_are_refused(project, three):
    a = project.add_bus("A bus")
    b = project.add_bus("B bus")
    three[0].add_send(a.id)
    a.add_send(b.id)
    with pytest.raises(ValueError, match="feedback loop: .*B bus → A bus"):
        b.add_send(a.id)
    with pytest.raises(ValueError, match="feedback loop"):
        a.add_send(a.id)
    assert b.sends == [] and len(a.sends) == 1
    with pytest.raises(ValueError, match="sends go to bus tracks"):
        three[0].add_send(three[1].id)


def test_a_send_into_a_bus_inside_its_own_group_is_fine_but_a_loop_through_the_group_is_not(project, three):
    m = project.create_metatrack([three[0].id])
    bus = project.add_bus("FX", parent_id=m.id)
    three[0].add_send(bus.id)
    outside = project.add_bus("Out")
    bus.add_send(outside.id)
    assert isinstance(bus, BusTrack) and len(bus.sends) == 1


def test_a_metatrack_may_not_contain_an_alias_of_itself(project, three):
    m = project.create_metatrack([three[0].id], name="Loop")
    with pytest.raises(ValueError, match="'Loop' would contain an alias of itself"):
        three[0].add_alias(m.id, start=1.0)
    other = project.create_metatrack([three[1].id], name="Other")
    three[1].add_alias(m.id, start=1.0)  # Other contains an alias of Loop: fine
    with pytest.raises(ValueError, match="alias of itself"):
        three[0].add_alias(other.id, start=2.0)  # Loop → Other → Loop


def test_removing_a_bus_takes_the_sends_into_it_and_undo_brings_them_back(project, three):
    bus = project.add_bus("Verb")
    send = three[0].add_send(bus.id, level_db=-6.0)
    seen = []
    project.subscribe(seen.append)
    project.remove_track(bus.id)
    assert three[0].sends == []
    seen[-1].revert(project)
    assert three[0].sends == [send] and project.track(bus.id) is bus


def test_transforms_are_validated(project, three):
    m = project.create_metatrack([three[0].id])
    with pytest.raises(ValueError, match="speed must be within"):
        m.speed = 0.0
    with pytest.raises(ValueError, match="pitch must be within"):
        m.pitch = 100.0
    m.speed, m.offset, m.pitch, m.preserve_pitch = 0.5, 2.0, 0.0, False
    assert m.to_child_time(3.0) == 0.5 and m.to_parent_time(0.5) == 3.0
    assert project.duration == pytest.approx(2.0 + 0.5 / 0.5)


def test_tree_survives_save_and_load(project, three, tmp_path):
    a, b, c = three
    m = project.create_metatrack([a.id, b.id], name="Verse")
    m.speed, m.offset = 0.5, 0.25
    outer = project.create_metatrack([m.id], name="Song")
    bus = project.add_bus("Verb")
    bus.solo_safe = True
    a.add_send(bus.id, level_db=-3.0, pre_fader=True)
    c.add_alias(m.id, start=2.0, duration=0.5)
    c.clips[0].speed = 1.25
    project.max_nesting = 12
    m.collapsed = True
    a.color = "#FF8800"
    q = mt.Project.load(project.save(tmp_path / "tree.json"))
    assert q.track(m.id).collapsed and q.track(a.id).color == "#ff8800"
    with pytest.raises(ValueError, match="color must be None or '#rrggbb'"):
        a.color = "orange"
    assert [(t.id, t.name, t.parent_id) for t in q.tracks] == [(t.id, t.name, t.parent_id) for t in project.tracks]
    assert q.track(m.id).speed == 0.5 and q.max_nesting == 12 and q.track(bus.id).solo_safe
    assert q.track(a.id).sends[0].pre_fader and q.track(c.id).aliases[0].metatrack_id == m.id
    assert np.array_equal(q.render(), project.render())
    assert outer.children == [m]
