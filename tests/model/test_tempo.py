import pytest

import mixtree as mt
from mixtree.model.tempo import TempoMap


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
