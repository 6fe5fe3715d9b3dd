import mido
import pytest

from mixtree import MidiFileError
from mixtree.io import midi_file
from mixtree.io.midi_file import MidiWarning


def _write(path, tracks, ticks=480, kind=1):
    mf = mido.MidiFile(type=kind, ticks_per_beat=ticks)
    for messages in tracks:
        mf.tracks.append(mido.MidiTrack(messages))
    mf.save(str(path))
    return path


def test_reads_notes_tempo_meter_and_names(tmp_path):
    path = _write(
        tmp_path / "a.mid",
        [
            [
                mido.MetaMessage("set_tempo", tempo=400000, time=0),
                mido.MetaMessage("time_signature", numerator=6, denominator=8, time=0),
            ],
            [
                mido.MetaMessage("track_name", name="Bass", time=0),
                mido.Message("note_on", note=40, velocity=70, time=0),
                mido.Message("control_change", control=64, value=127, time=10),
                mido.Message("note_off", note=40, time=470),
                mido.Message("pitchwheel", pitch=-4096, time=0),
            ],
        ],
    )
    smf = midi_file.read(path)
    assert smf.ppq == 480 and smf.tempos == [(0, 150.0)] and smf.meters == [(0, 6, 8)]
    (bass,) = smf.tracks
    assert bass.name == "Bass" and bass.notes == [(0, 480, 40, 70)]
    assert bass.events == [(10, "cc", 64, 127), (480, "pitch_bend", 0, -4096)]


def test_format_0_splits_channels_into_tracks(tmp_path):
    path = _write(
        tmp_path / "zero.mid",
        [
            [
                mido.MetaMessage("track_name", name="Song", time=0),
                mido.Message("note_on", channel=0, note=60, velocity=90, time=0),
                mido.Message("note_on", channel=9, note=36, velocity=110, time=0),
                mido.Message("note_off", channel=0, note=60, time=240),
                mido.Message("note_off", channel=9, note=36, time=0),
            ]
        ],
        kind=0,
    )
    smf = midi_file.read(path)
    assert [t.name for t in smf.tracks] == ["Song ch1", "Song ch10"]


def test_unmatched_note_offs_are_ignored_and_hanging_notes_end_with_their_track(tmp_path):
    path = _write(
        tmp_path / "odd.mid",
        [
            [
                mido.Message("note_off", note=50, time=0),
                mido.Message("note_on", note=60, velocity=90, time=100),
                mido.Message("control_change", control=7, value=100, time=400),
            ]
        ],
    )
    with pytest.warns(MidiWarning) as caught:
        smf = midi_file.read(path)
    messages = " ".join(str(w.message) for w in caught)
    assert "1 note-offs without a note-on" in messages and "1 notes never released" in messages
    assert smf.tracks[0].notes == [(100, 500, 60, 90)]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"MThd\x00\x00\x00\x06\x00\x01\x00\x01\x01\xe0MTrk\x00\x00\x00\x40\x00\x90\x3c", "truncated"),
        (b"MThd\x00\x00\x00\x06\x00\x01\x00\x01\x01\xe0MTrk\x00\x00\x00\x04\x00\x3c\x40\x00", "running status"),
        (b"RIFF\x00\x00\x00\x00WAVE", "not a MIDI file"),
        (b"MThd\x00\x00", "truncated header"),
    ],
)
def test_malformed_files_raise_midi_file_error_naming_the_file(tmp_path, data, reason):
    path = tmp_path / "bad.mid"
    path.write_bytes(data)
    with pytest.raises(MidiFileError, match="cannot import MIDI file '.*bad.mid'"):
        midi_file.read(path)


def test_zero_tempo_is_refused(tmp_path):
    mf = mido.MidiFile(type=1)
    track = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=1, time=0)])
    mf.tracks.append(track)
    mf.save(str(tmp_path / "z.mid"))
    raw = (tmp_path / "z.mid").read_bytes().replace(b"\xff\x51\x03\x00\x00\x01", b"\xff\x51\x03\x00\x00\x00")
    (tmp_path / "z.mid").write_bytes(raw)
    with pytest.raises(MidiFileError, match="zero tempo at tick 0"):
        midi_file.read(tmp_path / "z.mid")


def test_unknown_meta_events_are_skipped(tmp_path):
    path = _write(
        tmp_path / "meta.mid",
        [
            [
                mido.UnknownMetaMessage(0x60, data=(1, 2, 3), time=0),
                mido.Message("note_on", note=60, velocity=90, time=0),
                mido.Message("note_off", note=60, time=96),
            ]
        ],
    )
    assert midi_file.read(path).tracks[0].notes == [(0, 96, 60, 90)]


@pytest.mark.parametrize("charset", ["utf-8", "latin-1"])
def test_track_names_in_utf8_or_latin1_read_as_written(tmp_path, charset):
    name = "Bässe 低音" if charset == "utf-8" else "Café"
    mf = mido.MidiFile(charset=charset)
    mf.tracks.append(
        mido.MidiTrack(
            [
                mido.MetaMessage("track_name", name=name, time=0),
                mido.Message("note_on", note=60, velocity=90, time=0),
                mido.Message("note_off", note=60, time=96),
            ]
        )
    )
    mf.save(str(tmp_path / "n.mid"))
    smf = midi_file.read(tmp_path / "n.mid")
    assert smf.tracks[0].name == name
    midi_file.write(tmp_path / "again.mid", smf)
    assert [t.name for t in midi_file.read(tmp_path / "again.mid").tracks] == [name]
