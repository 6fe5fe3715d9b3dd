"""Importing MIDI files that other programs wrote."""

import warnings
from pathlib import Path

import mido
import numpy as np
import pytest

import mixtree as mt
from tests.conftest import RATE

DATA = Path(__file__).parents[1] / "data" / "midi"
REAL = sorted(DATA.glob("*.mid"))


def mido_onsets(path: Path) -> list[tuple[float, int]]:
    """Every note-on's time in seconds and pitch, as mido plays the file."""
    now, onsets = 0.0, []
    for msg in mido.MidiFile(path):
        now += msg.time
        if msg.type == "note_on" and msg.velocity > 0:
            onsets.append((now, msg.note))
    return sorted(onsets)


@pytest.mark.parametrize("path", REAL, ids=lambda p: p.name)
def test_real_files_place_every_note_where_mido_plays_it(path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # none of these files needs repairing
        p = mt.import_midi(path, sample_rate=RATE)
    ours = sorted((c.start + n.start, n.pitch) for t in p.tracks for c in t.midi_clips for n in c.notes)
    theirs = mido_onsets(path)
    assert [pitch for _, pitch in ours] == [pitch for _, pitch in theirs]
    assert np.allclose([s for s, _ in ours], [s for s, _ in theirs], atol=1e-6)
    # clips run to the file's end, closing rests included
    end = max(c.start + c.duration for t in p.tracks for c in t.midi_clips)
    assert end == pytest.approx(mido.MidiFile(path).length, abs=1e-3)


def test_the_later_of_two_tempos_at_one_tick_wins_and_the_closing_rest_survives_export(tmp_path):
    p = mt.import_midi(DATA / "k525short.mid")
    assert p.tempo_map.tempos[0].bpm == pytest.approx(60_000_000 / 600001)
    assert [round(t.beat) for t in p.tempo_map.tempos] == [0, 16, 20, 24]
    last_note = max(c.start + n.end for t in p.tracks for c in t.midi_clips for n in c.notes)
    assert p.duration > last_note + 0.05  # a closing rest
    mt.export_midi(p, tmp_path / "again.mid")
    assert mt.import_midi(tmp_path / "again.mid").duration == pytest.approx(p.duration, abs=1e-3)


def test_a_large_file_keeps_its_tracks_tempo_map_and_controllers():
    path = DATA / "test04.mid"
    p = mt.import_midi(path)
    playing = [t.name.strip() for t in mido.MidiFile(path).tracks if any(not m.is_meta for m in t)]
    assert [t.name for t in p.tracks] == playing
    assert playing[:3] == ["Tempo", "Flute", "Oboe"]
    assert len(p.tempo_map.tempos) > 90
    assert sum(len(c.events) for t in p.tracks for c in t.midi_clips) > 3000  # its control changes


def test_pitch_bends_arrive_as_events_and_the_file_renders(tmp_path):
    p = mt.import_midi(DATA / "test19.mid", sample_rate=RATE)
    events = [e for t in p.tracks for c in t.midi_clips for e in c.events]
    assert sum(e.kind == "pitch_bend" for e in events) == 3363
    audio = p.render(0.0, 4.0)
    assert np.isfinite(audio).all() and np.abs(audio).max() > 0.01
    mt.export_midi(p, tmp_path / "again.mid")
    again = mt.import_midi(tmp_path / "again.mid", sample_rate=RATE)
    assert sum(len(c.notes) for t in again.tracks for c in t.midi_clips) == 34
