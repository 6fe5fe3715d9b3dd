"""Importing MIDI files that other programs wrote."""

import struct
import warnings
from pathlib import Path

import mido
import numpy as np
import pytest

import mixtree as mt
from mixtree.io.midi_file import MidiWarning
from mixtree.units import MAX_SECONDS
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


#: The slowest tempo a file can hold (0xFFFFFF µs a beat): at 1 tick a beat, each tick lasts
#: 16.777215 s, and the longest delta time (2**28 - 1 ticks) 142.7 years.
SLOWEST = b"\x00\xff\x51\x03\xff\xff\xff"
TICK = 16.777215
LONGEST = b"\xff\xff\xff\x7f"
END = b"\x00\xff\x2f\x00"


def _smf(tmp_path, *tracks: bytes, ppq: int = 1) -> Path:
    """Write a format 1 Standard MIDI File byte by byte: its header, an MTrk chunk per body."""
    path = tmp_path / "x.mid"
    chunks = b"".join(b"MTrk" + struct.pack(">I", len(body)) + body for body in tracks)
    path.write_bytes(b"MThd" + struct.pack(">IHHH", 6, 1, len(tracks), ppq) + chunks)
    return path


def _note(off: bytes) -> bytes:
    """A middle C at tick 0, released after the delta time ``off``."""
    return b"\x00\x90\x3c\x40" + off + b"\x80\x3c\x00"


def _quantity(value: int) -> bytes:
    """``value`` as a MIDI variable-length quantity."""
    out = [value & 0x7F]
    while value := value >> 7:
        out.insert(0, value & 0x7F | 0x80)
    return bytes(out)


@pytest.mark.parametrize(
    ("tracks", "what"),
    [
        ((SLOWEST + _note(LONGEST) + END,), "track 'Track 1' reaches tick 268435455"),
        ((SLOWEST + _note(b"\x00") + LONGEST + b"\xb0\x07\x40" + END,), "track 'Track 1' reaches tick 268435455"),
        ((SLOWEST + _note(b"\x00") + LONGEST + b"\xff\x2f\x00",), "track 'Track 1' reaches tick 268435455"),
        (
            (SLOWEST + LONGEST + b"\xff\x51\x03\x07\xa1\x20" + END, _note(b"\x01") + END),
            "its tempo map reaches tick 268435455",
        ),
    ],
    ids=["note", "controller", "closing rest", "tempo change"],
)
def test_a_file_lasting_over_a_century_is_refused_saying_how_long_it_would_be(tmp_path, tracks, what):
    path = _smf(tmp_path, *tracks)
    with pytest.raises(mt.MidiFileError) as caught:
        mt.import_midi(path)
    assert caught.value.path == path
    assert caught.value.reason == (
        f"it would last 142.7 years ({what}, 4,503,599,342 s in), "
        "longer than the 132.6 days (11,453,246 s) a project may last"
    )


def test_a_file_imports_up_to_the_longest_project_and_no_further(tmp_path):
    inside, beyond = 682_666, 682_667
    assert inside * TICK <= MAX_SECONDS < beyond * TICK
    p = mt.import_midi(_smf(tmp_path, SLOWEST + _note(_quantity(inside)) + END))
    (clip,) = p.tracks[0].midi_clips
    assert clip.notes[0].end == pytest.approx(inside * TICK)
    with pytest.raises(
        mt.MidiFileError, match=r"reaches tick 682667, 11,453,251 s in\), longer than the 132\.6 days \(11,453,246 s\)"
    ):
        mt.import_midi(_smf(tmp_path, SLOWEST + _note(_quantity(beyond)) + END))


def test_tempos_above_1000_bpm_are_slowed_to_1000_with_a_warning(tmp_path):
    fast = b"\x00\xff\x51\x03\x00\x75\x30"  # 30000 µs a beat: 2000 bpm
    with pytest.warns(MidiWarning, match="1 tempos above 1000 bpm were slowed to 1000 bpm"):
        p = mt.import_midi(_smf(tmp_path, fast + _note(b"\x01") + END))
    assert [c.bpm for c in p.tempo_map.tempos] == [1000.0]


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        (b"\xff\x51\x03\x00\x00\x00", "zero tempo at tick 0 of track 1"),
        (
            b"\xff\x58\x04\x00\x02\x18\x08",
            "the time signature at tick 0: time signature numerator must be within 1..64, not 0",
        ),
        (
            b"\xff\x58\x04\x04\x06\x18\x08",
            "the time signature at tick 0: time signature denominator must be a power of two up to 32, not 64",
        ),
    ],
    ids=["zero tempo", "no beats a bar", "64th-note beats"],
)
def test_degenerate_tempos_and_meters_are_refused_saying_which(tmp_path, event, reason):
    with pytest.raises(mt.MidiFileError) as caught:
        mt.import_midi(_smf(tmp_path, b"\x00" + event + _note(b"\x01") + END, ppq=480))
    assert caught.value.reason == reason
