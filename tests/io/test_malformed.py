"""The malformed-file corpus (tests/data/malformed, written by its make.py): each file
raises the clear error naming it, or loads correctly."""

from __future__ import annotations

import importlib.util
import os
import resource
import time
import warnings
from pathlib import Path

import pytest

import mixtree as mt
from mixtree.errors import MediaError, MidiFileError
from mixtree.io import audio_file, midi_file
from mixtree.io.audio_file import MediaWarning

CORPUS = Path(__file__).parent.parent / "data" / "malformed"
_spec = importlib.util.spec_from_file_location("malformed_make", CORPUS / "make.py")
assert _spec is not None and _spec.loader is not None
make = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make)

#: What each audio case must do through the pool: raise a MediaError saying this, or load
#: this many frames (with a MediaWarning saying that, if one is given).
AUDIO = {
    "wav-duplicate-fmt.wav": ("error", "2 'fmt ' chunks before its audio"),
    "wav-data-longer-than-file.wav": ("load", 480, None),
    "wav-zero-channels.wav": ("error", "zero channels"),
    "wav-65535-channels.wav": ("error", "more channels than libsndfile reads"),
    "wav-rate-zero.wav": ("error", "impossible sample rate"),
    "wav-rate-4-ghz.wav": ("error", "impossible sample rate"),
    "wav-rate-1-hz.wav": ("error", "sample rate of 1 Hz, outside the 1000 to 1000000 Hz"),
    "rf64-lying-ds64.wav": ("load", 480, None),
    "rf64-ds64-shorter-than-data.wav": ("load", 5, None),
    "wav-no-data-chunk.wav": ("error", "No 'data' chunk"),
    "flac-truncated-frame.flac": ("error", "decoding its 9000 frames failed: error : flac decoder lost sync"),
    "flac-garbage-frame.flac": ("error", "flac decoder lost sync"),
    "mp3-broken-xing-frames.mp3": ("load", 4655, "only 4655 of the 4947802322688 frames its header gives"),
    "mp3-xing-cut-short.mp3": ("error", "no MPEG audio frame in it could be decoded"),
    "ogg-bad-page-checksum.ogg": ("load", 24448, "only 24448 of the 48000 frames its header gives"),
    "ogg-truncated.ogg": ("error", "holds no audio frames (it is empty, truncated or damaged)"),
}

#: What each MIDI case must do: raise a MidiFileError saying this, or load this many notes.
MIDI = {
    "midi-track-length-past-the-end.mid": ("error", "should hold 1048576 bytes but the file ends after 12"),
    "midi-header-length-too-short.mid": ("error", "the header chunk is 2 bytes long, it needs at least 6"),
    "midi-running-status-at-track-start.mid": ("error", "running status at the start of the track has no status"),
    "midi-tempo-zero.mid": ("error", "zero tempo at tick 0 of track 1"),
    "midi-smpte-division.mid": ("error", "SMPTE time (25 frames a second, 40 ticks a frame) is not supported"),
    "midi-more-tracks-declared.mid": ("error", "declares 5 tracks but the file ends after 1"),
}


def test_every_committed_case_has_an_expectation_and_a_builder() -> None:
    committed = {p.name for p in CORPUS.iterdir() if p.is_file() and p.suffix != ".py"}
    assert committed == set(AUDIO) | set(MIDI)
    assert committed == set(make.CASES) - make.NOT_COMMITTED


@pytest.mark.parametrize("name", sorted(AUDIO))
def test_a_malformed_audio_file_raises_a_clear_error_or_loads(name: str) -> None:
    path = CORPUS / name
    expected = AUDIO[name]
    pool = mt.Project(sample_rate=48000).pool
    if expected[0] == "error":
        with pytest.raises(MediaError) as info:
            pool.load(path)
        assert info.value.path.name == name
        assert expected[1] in str(info.value)
        return
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        source = pool.load(path)
    assert source.frames == expected[1]
    said = [str(w.message) for w in caught if issubclass(w.category, MediaWarning)]
    if expected[2] is None:
        assert said == []
    else:
        assert len(said) == 1 and expected[2] in said[0] and name in said[0]


@pytest.mark.parametrize("name", sorted(AUDIO))
def test_reading_a_malformed_audio_files_header_for_streaming_raises_only_media_error(name: str) -> None:
    try:
        head = audio_file.info(CORPUS / name)
    except MediaError as exc:
        assert exc.path.name == name
    else:
        assert head.frames > 0 and 1 <= head.channels <= 1024


@pytest.mark.parametrize("name", sorted(MIDI))
def test_a_malformed_midi_file_raises_a_clear_error(name: str) -> None:
    with pytest.raises(MidiFileError) as info:
        midi_file.read(CORPUS / name)
    assert info.value.path.name == name
    assert MIDI[name][1] in str(info.value)


def _notes_file(tmp_path: Path, count: int) -> Path:
    note = b"\x00\x3c\x64\x01\x3c\x00"
    body = b"\x00\x90" + note[1:] + note * (count - 1) + b"\x00\xff\x2f\x00"
    path = tmp_path / f"{count}-notes.mid"
    path.write_bytes(b"MThd" + (6).to_bytes(4, "big") + b"\x00\x00\x00\x01\x00\x60" + b"MTrk")
    with path.open("ab") as f:
        f.write(len(body).to_bytes(4, "big") + body)
    return path


def test_a_hundred_thousand_notes_load_every_note(tmp_path: Path) -> None:
    smf = midi_file.read(_notes_file(tmp_path, 100_000))
    notes = smf.tracks[0].notes
    assert len(notes) == 100_000
    assert notes[-1][:2] == (99_999, 100_000)


@pytest.mark.skipif(not os.environ.get("MIXTREE_LONG"), reason="15 s: set MIXTREE_LONG=1")
def test_a_million_notes_load_in_bounded_time_and_memory(tmp_path: Path) -> None:
    path = tmp_path / "million.mid"
    path.write_bytes(make.build("midi-million-notes.mid"))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    smf = midi_file.read(path)
    took = time.perf_counter() - t0
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert sum(len(t.notes) for t in smf.tracks) == 1_000_000
    assert took < 120 and grown_mb < 2048, (took, grown_mb)
