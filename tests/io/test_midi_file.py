import struct
import time
import warnings

import mido
import pytest

from mixtree import MidiFileError
from mixtree.io import midi_file
from mixtree.io.midi_file import MidiWarning
from mixtree.io.smf_scan import scan

#: A middle C from tick 0 to 96, then a track's end, as track-chunk bytes.
NOTE = b"\x00\x90\x3c\x40" + b"\x60\x80\x3c\x00"
END = b"\x00\xff\x2f\x00"
#: The file offset of track 1's first status byte: a 14-byte header, an 8-byte chunk
#: header, a 1-byte delta time.
FIRST = 23


def _smf(*tracks: bytes, fmt: int = 1, ppq: int = 480, count: int | None = None) -> bytes:
    """A Standard MIDI File byte by byte: its header, then an MTrk chunk around each body."""
    header = b"MThd" + struct.pack(">IHHH", 6, fmt, len(tracks) if count is None else count, ppq)
    return header + b"".join(b"MTrk" + struct.pack(">I", len(body)) + body for body in tracks)


def _reason(tmp_path, data: bytes) -> str:
    """Read ``data`` as a file and return why it was refused, checking the error names it."""
    path = tmp_path / "bad.mid"
    path.write_bytes(data)
    with pytest.raises(MidiFileError) as caught:
        midi_file.read(path)
    assert caught.value.path == path and str(caught.value).startswith(f"cannot import MIDI file '{path}': ")
    return caught.value.reason


def _read(tmp_path, data: bytes) -> midi_file.Smf:
    path = tmp_path / "good.mid"
    path.write_bytes(data)
    return midi_file.read(path)


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


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        (b"\x08\x00", "key_signature of 8 sharps is impossible (a key has at most 7 sharps or 7 flats)"),
        (b"\xf8\x00", "key_signature of 8 flats is impossible (a key has at most 7 sharps or 7 flats)"),
        (b"\x03\x02", "key_signature has mode 2, neither 0 (major) nor 1 (minor)"),
    ],
    ids=["8 sharps", "8 flats", "mode 2"],
)
def test_an_impossible_key_signature_is_refused_at_its_track_and_byte(tmp_path, key, reason):
    assert _reason(tmp_path, _smf(b"\x00\xff\x59\x02" + key + NOTE + END)) == f"track 1, byte {FIRST}: {reason}"


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        (b"\xff\x51\x02\x07\xa1", "set_tempo needs 3 data bytes, has 2"),
        (b"\xff\x58\x03\x04\x02\x18", "time_signature needs 4 data bytes, has 3"),
        (b"\xff\x59\x01\x00", "key_signature needs 2 data bytes, has 1"),
        (b"\xff\x54\x04\x00\x00\x00\x00", "smpte_offset needs 5 data bytes, has 4"),
        (b"\xff\x20\x00", "channel_prefix needs 1 data byte, has 0"),
        (b"\xff\x00\x01\x05", "sequence_number needs 2 data bytes (or none), has 1"),
    ],
    ids=["set_tempo", "time_signature", "key_signature", "smpte_offset", "channel_prefix", "sequence_number"],
)
def test_a_short_meta_event_is_refused_naming_track_byte_event_and_what_it_needs(tmp_path, event, reason):
    second = FIRST + 12  # track 1 is a chunk header and an end of track: 12 bytes
    assert _reason(tmp_path, _smf(END, b"\x00" + event + NOTE + END)) == f"track 2, byte {second}: {reason}"


@pytest.mark.parametrize(
    ("offset", "reason"),
    [
        (b"\xa0\x00\x00\x00\x00", "smpte_offset has frame-rate code 5, not 0..3"),
        (b"\x00\x50\x00\x00\x00", "smpte_offset has minutes 80, not 0..59"),
        (b"\x00\x00\x00\x00\x64", "smpte_offset has sub-frames 100, not 0..99"),
    ],
    ids=["frame rate", "minutes", "sub-frames"],
)
def test_an_impossible_smpte_offset_is_refused_at_its_track_and_byte(tmp_path, offset, reason):
    assert _reason(tmp_path, _smf(b"\x00\xff\x54\x05" + offset + NOTE + END)) == f"track 1, byte {FIRST}: {reason}"


def test_a_time_signature_denominator_beyond_2_to_the_28_is_refused_at_its_track_and_byte(tmp_path):
    reason = _reason(tmp_path, _smf(b"\x00\xff\x58\x04\x04\x1d\x18\x08" + NOTE + END))
    assert reason == f"track 1, byte {FIRST}: time_signature has a denominator of 2**29 (at most 2**28 can be read)"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (_smf(NOTE + END, fmt=3), "unknown format 3 (a MIDI file is format 0, 1 or 2)"),
        (_smf(NOTE + END, fmt=2), "format 2 (independent sequences) is not supported"),
        (
            _smf(NOTE + END, ppq=0xE728),
            "SMPTE time (25 frames a second, 40 ticks a frame) is not supported, only ticks per beat",
        ),
        (_smf(NOTE + END, ppq=0), "bad resolution: 0 ticks per beat"),
        (_smf(*[END] * 32768), "the header declares 32768 tracks, more than the 32767 mixtree reads"),
        (
            b"MThd\x00\x00\x00\x04\x00\x01\x00\x01" + _smf(END)[14:],
            "the header chunk is 4 bytes long, it needs at least 6",
        ),
        (b"MThd\x00\x00\x00\x06\x00\x01", "truncated header: the file holds 10 bytes, a header needs 14"),
        (b"RIFF\x00\x00\x00\x00RMID", "not a Standard MIDI File: it starts with b'RIFF', not b'MThd'"),
    ],
    ids=["format 3", "format 2", "SMPTE time", "no ticks", "32768 tracks", "short header", "truncated header", "RIFF"],
)
def test_a_bad_header_is_refused_saying_what_is_wrong(tmp_path, data, reason):
    assert _reason(tmp_path, data) == reason


def test_delta_times_hold_at_most_4_bytes(tmp_path):
    longest = b"\xff\xff\xff\x7f"  # 2**28 - 1 ticks
    assert _read(tmp_path, _smf(longest + NOTE[1:] + END)).tracks[0].notes == [(2**28 - 1, 2**28 + 95, 60, 64)]
    reason = _reason(tmp_path, _smf(b"\x81\x80\x80\x80\x00" + NOTE[1:] + END))
    assert reason == "track 1, byte 22: delta time runs over 4 bytes (a variable-length quantity has at most 4)"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (
            b"\x00\x3c\x40" + END,
            f"track 1, byte {FIRST}: data byte 0x3c where an event should start, but running "
            "status at the start of the track has no status byte to repeat",
        ),
        (
            NOTE + b"\x00\xf0\x02\x7e\xf7" + b"\x10\x3c\x00" + END,
            f"track 1, byte {FIRST + 13}: data byte 0x3c where an event should start, but running "
            "status after a SysEx event (which cancels it) has no status byte to repeat",
        ),
    ],
    ids=["track start", "after SysEx"],
)
def test_running_status_with_no_status_to_repeat_is_refused(tmp_path, body, reason):
    assert _reason(tmp_path, _smf(body)) == reason


def test_running_status_carries_over_meta_events_as_mido_reads_it(tmp_path):
    body = b"\x00\x90\x3c\x40" + b"\x00\xff\x01\x02hi" + b"\x60\x3c\x00" + END
    assert _read(tmp_path, _smf(body)).tracks[0].notes == [(0, 96, 60, 64)]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (
            _smf(NOTE + END)[:-3],
            "track 1 at byte 14 should hold 12 bytes but the file ends after 9: the file is truncated",
        ),
        (_smf(NOTE + END, count=2), "the header declares 2 tracks but the file ends after 1: the file is truncated"),
        (
            _smf(b"\x00\x90\x3c", NOTE + END),
            f"track 1, byte {FIRST}: note_on needs 2 data bytes (below 0x80), has 1 before the track chunk ends",
        ),
        (
            _smf(b"\x00\x90\x3c\x90\x40" + END),
            f"track 1, byte {FIRST}: note_on needs 2 data bytes (below 0x80), has 1 before byte 25 is 0x90",
        ),
        (_smf(NOTE + b"\x00"), "track 1, byte 31: a delta time with no event after it ends the track"),
        (_smf(NOTE + b"\x00\xff"), "track 1, byte 31: meta event cut off by the end of the track chunk"),
        (
            _smf(b"\x00\xff\x03\x10Bass" + END),
            f"track 1, byte {FIRST}: meta event 0x03 of 16 data bytes runs 8 bytes past the end of the track chunk",
        ),
        (
            _smf(b"\x00\xf0\x64\x7e\xf7" + END),
            f"track 1, byte {FIRST}: SysEx of 100 bytes runs 94 bytes past the end of the track chunk",
        ),
        (
            _smf(b"\x00\xf0\xff\xff\xff\xff\x7f" + END),
            "track 1, byte 24: SysEx length runs over 4 bytes (a variable-length quantity has at most 4)",
        ),
        (_smf(b"\x00\xf4" + NOTE + END), f"track 1, byte {FIRST}: undefined status byte 0xf4"),
    ],
    ids=[
        "truncated chunk",
        "missing track",
        "event into next chunk",
        "status for data",
        "dangling delta",
        "cut meta",
        "long meta",
        "long SysEx",
        "5-byte length",
        "undefined status",
    ],
)
def test_a_broken_track_is_refused_at_its_byte(tmp_path, data, reason):
    assert _reason(tmp_path, data) == reason


def test_a_sysex_of_up_to_a_million_bytes_is_read_and_a_longer_one_refused(tmp_path):
    def dump(length: int) -> bytes:
        return b"\x00\xf0\xbd\x84\x40" + bytes(length - 1) + b"\xf7"  # the length field says 1,000,000

    assert _read(tmp_path, _smf(dump(1_000_000) + NOTE + END)).tracks[0].notes == [(0, 96, 60, 64)]
    longer = _smf(b"\x00\xf0\xbd\x84\x41" + bytes(1_000_000) + b"\xf7" + END)
    reason = "SysEx of 1,000,001 bytes, longer than the 1,000,000 mixtree reads in one event"
    assert _reason(tmp_path, longer) == f"track 1, byte {FIRST}: {reason}"


def test_chunks_of_unknown_type_are_skipped(tmp_path):
    data = _smf(NOTE + END)
    data = data[:14] + b"XFIH" + struct.pack(">I", 3) + b"abc" + data[14:]
    assert _read(tmp_path, data).tracks[0].notes == [(0, 96, 60, 64)]


def test_track_chunks_beyond_the_declared_count_are_ignored_with_a_warning_if_they_play(tmp_path):
    named = b"\x00\xff\x03\x01 " + END  # a real writer's stray empty track (test04.mid)
    with pytest.warns(MidiWarning, match="1 track chunks with MIDI messages after the 1 the header declares"):
        assert len(_read(tmp_path, _smf(NOTE + END, named, NOTE + END, count=1)).tracks) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(_read(tmp_path, _smf(NOTE + END, named, count=1)).tracks) == 1


def test_a_million_notes_are_scanned_in_seconds():
    data = _smf(b"\x00\x90\x3c\x40" + b"\x60\x3c\x00\x00\x3c\x40" * 10**6 + b"\x60\x3c\x00" + END)
    start = time.perf_counter()
    assert scan(data, "big.mid").tracks == [(14, len(data))]
    assert time.perf_counter() - start < 10.0  # about 1 s on a 2-core VM
