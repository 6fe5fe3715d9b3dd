import numpy as np
import pytest
from scipy.integrate import quad

import mixtree as mt
from mixtree.model.structure import tempo_map_of
from mixtree.model.tempo import TempoMap
from mixtree.model.tracks import Metatrack


def test_seconds_and_beats_convert_exactly_across_tempo_changes():
    tm = TempoMap(120.0)
    tm.set_tempo(at_beat=8, bpm=60.0)
    tm.set_tempo(at_beat=12, bpm=240.0)
    assert tm.seconds_at(8) == 4.0 and tm.seconds_at(10) == 6.0 and tm.seconds_at(14) == 8.5
    for beat in (0.0, 3.25, 8.0, 11.999, 12.0, 100.5):
        assert tm.beat_at(tm.seconds_at(beat)) == pytest.approx(beat, abs=1e-12)
    assert tm.bpm_at(9) == 60.0


def test_bars_follow_meter_changes():
    tm = TempoMap()
    tm.set_meter(at_bar=2, numerator=3, denominator=4)
    tm.set_meter(at_bar=4, numerator=7, denominator=8)
    assert tm.beat_of_bar(2) == 8.0 and tm.beat_of_bar(4) == 14.0 and tm.beat_of_bar(5) == 17.5
    assert tm.bar_at(15.0) == (4, 2.0)  # one quarter into a 7/8 bar is its third eighth
    assert tm.beat_of_bar(*tm.bar_at(16.25)) == pytest.approx(16.25)
    assert TempoMap.beats_to_ticks(1.5) == 1440 and TempoMap.ticks_to_beats(480, ppq=480) == 1.0


def test_tempo_edits_are_project_operations_and_bad_values_are_refused(project):
    seen = []
    project.subscribe(seen.append)
    project.tempo_map.set_tempo(at_beat=0, bpm=90.0)
    assert project.tempo_map.bpm_at(0) == 90.0 and len(seen) == 1
    seen[0].revert(project)
    assert project.tempo_map.bpm_at(0) == 120.0
    with pytest.raises(ValueError, match="tempo must be within 1..1000 bpm, not 0"):
        project.tempo_map.set_tempo(at_beat=0, bpm=0)
    with pytest.raises(ValueError, match="denominator must be a power of two"):
        project.tempo_map.set_meter(at_bar=1, numerator=3, denominator=5)
    assert isinstance(project, mt.Project)


def test_a_tempo_ramp_is_linear_in_time_and_converts_in_closed_form():
    tm = TempoMap(120.0)
    tm.set_tempo(at_beat=8, bpm=120.0)
    tm.set_tempo(at_beat=16, bpm=60.0, ramp=True)
    duration = 120.0 * 8 / (120.0 + 60.0)  # 8 beats whose tempo falls linearly in time
    assert tm.seconds_at(16) == pytest.approx(4.0 + duration, abs=1e-12)

    def bpm(t):  # the tempo t seconds into the ramp
        return 120.0 - 60.0 * t / duration

    for beat in (8.5, 11.0, 15.99):
        seconds = tm.seconds_at(beat)
        beats = quad(lambda t: bpm(t) / 60.0, 0.0, seconds - 4.0, epsabs=1e-14)[0]
        assert 8.0 + beats == pytest.approx(beat, abs=1e-10)
        assert tm.beat_at(seconds) == pytest.approx(beat, abs=1e-10)
        assert tm.bpm_at(beat) == pytest.approx(bpm(seconds - 4.0), abs=1e-9)
    assert tm.bpm_at(20) == 60.0 and tm.seconds_at(20) == pytest.approx(4.0 + duration + 4.0)
    assert tm.seconds_at(-2) == -1.0 and tm.beat_at(-1.0) == -2.0


def test_a_rising_ramp_inverts_exactly_too():
    tm = TempoMap(90.0)
    tm.set_tempo(at_beat=4, bpm=180.0, ramp=True)
    for beat in np.linspace(0.0, 12.0, 49):
        assert tm.beat_at(tm.seconds_at(beat)) == pytest.approx(beat, abs=1e-11)


def test_a_ramp_needs_a_change_before_it_and_undoes(project):
    with pytest.raises(ValueError, match="cannot start at beat 0"):
        project.tempo_map.set_tempo(at_beat=0, bpm=90.0, ramp=True)
    with pytest.raises(ValueError, match="ramp is True or False"):
        project.tempo_map.set_tempo(at_beat=4, bpm=90.0, ramp="yes")
    project.tempo_map.set_tempo(at_beat=4, bpm=60.0, ramp=True)
    assert project.tempo_map.tempos[-1].ramp
    project.undo()
    assert len(project.tempo_map.tempos) == 1


def test_a_metatrack_counts_beats_through_its_own_tempo_map(project):
    m = project.add_metatrack("poly")
    keys = project.add_midi_track("keys", parent_id=m.id)
    assert tempo_map_of(project, keys) is project.tempo_map
    m.tempo_map = TempoMap(90.0)
    assert tempo_map_of(project, keys) is m.tempo_map and m.tempo_map.owner == m.id
    clip = keys.add_midi_clip(0.0, 8.0, in_beats=True)  # 8 beats at 90 bpm
    assert clip.duration == pytest.approx(8 * 60 / 90)
    note = clip.add_note(60, start=3.0, duration=1.0, in_beats=True)
    assert note.start == pytest.approx(2.0)
    m.tempo_map.set_tempo(at_beat=4, bpm=180.0)  # an undoable edit of the project
    assert m.tempo_map.seconds_at(6) == pytest.approx(4 * 60 / 90 + 2 * 60 / 180)
    project.undo()
    assert len(m.tempo_map.tempos) == 1
    other = project.add_metatrack("other")
    other.tempo_map = TempoMap(100.0)
    project.undo()  # giving it a map is one edit too
    assert other.tempo_map is None
    project.redo()
    assert other.tempo_map.bpm_at(0) == 100.0
    with pytest.raises(ValueError, match="belongs to another metatrack"):
        project.add_metatrack("third").tempo_map = m.tempo_map
    with pytest.raises(ValueError, match="project's tempo map cannot be"):
        m.tempo_map = project.tempo_map
    m.tempo_map = None
    assert tempo_map_of(project, keys) is project.tempo_map


def test_ramps_and_metatrack_tempo_maps_survive_save_and_load(project, tmp_path):
    project.tempo_map.set_tempo(at_beat=8, bpm=100.0, ramp=True)
    m = project.add_metatrack("poly")
    m.tempo_map = TempoMap(70.0)
    m.tempo_map.set_tempo(at_beat=2, bpm=140.0, ramp=True)
    m.tempo_map.set_meter(at_bar=1, numerator=7, denominator=8)
    project.save(tmp_path / "p.json")
    q = mt.Project.load(tmp_path / "p.json")
    assert q.tempo_map.tempos == project.tempo_map.tempos
    loaded = q.track(m.id)
    assert loaded.tempo_map.tempos == m.tempo_map.tempos and loaded.tempo_map.meters == m.tempo_map.meters
    loaded.tempo_map.set_tempo(at_beat=1, bpm=75.0)
    q.undo()  # the loaded map's edits are the loaded project's
    assert loaded.tempo_map.tempos == m.tempo_map.tempos


def test_a_removed_metatrack_s_tempo_map_edits_alone_and_rejoins_on_undo(project):
    m = project.add_metatrack("poly")
    m.tempo_map = TempoMap(90.0)
    project.remove_track(m.id)
    assert m.tempo_map.owner is None  # no longer an edit of the project
    steps = len(project.history)
    m.tempo_map.set_tempo(at_beat=4, bpm=100.0)
    assert len(project.history) == steps and m.tempo_map.bpm_at(4) == 100.0
    project.undo()  # the metatrack is back, and its map is its own again
    assert m.tempo_map.owner == m.id
    m.tempo_map.set_tempo(at_beat=8, bpm=150.0)
    assert len(project.history) == steps  # the removal was undone, this is one step
    project.undo()
    assert m.tempo_map.bpm_at(8) == 100.0


def test_a_tempo_map_given_to_a_metatrack_outside_a_project_binds_when_it_joins(project):
    m = Metatrack(project.registry.new_id(), None, "outside")
    m.tempo_map = TempoMap(90.0)
    assert m.tempo_map.owner is None
    project.registry.insert_track(m, None, None)
    assert m.tempo_map.owner == m.id
    steps = len(project.history)
    m.tempo_map.set_tempo(at_beat=2, bpm=60.0)  # an undoable edit of the project
    assert len(project.history) == steps + 1
