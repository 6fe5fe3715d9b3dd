"""Write the malformed-file corpus: the known crash classes of audio and MIDI parsers, small.

``python tests/data/malformed/make.py`` writes every case beside this script (they are
committed; run it again after changing a case). `build` returns one case's bytes: the
tests call it for the case too big to commit (a MIDI file of a million notes).
"""

from __future__ import annotations

import io
import struct
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import soundfile as sf

HERE = Path(__file__).resolve().parent
RATE = 48000


def _tone(frames: int, channels: int = 1) -> np.ndarray:
    t = np.arange(frames)[:, None] / RATE
    return (0.5 * np.sin(2 * np.pi * 440.0 * t) * np.ones(channels)).astype(np.float32)


def _encoded(fmt: str, subtype: str, frames: int, channels: int = 1) -> bytes:
    buffer = io.BytesIO()
    buffer.name = f"x.{fmt.lower()}"
    sf.write(buffer, _tone(frames, channels), RATE, format=fmt, subtype=subtype)
    return buffer.getvalue()


# -- WAV family ------------------------------------------------------------------------------
def _chunk(tag: bytes, body: bytes, size: int | None = None) -> bytes:
    pad = b"\x00" if len(body) % 2 else b""
    return tag + struct.pack("<I", len(body) if size is None else size) + body + pad


def _fmt(channels: int = 1, rate: int = RATE, bits: int = 16) -> bytes:
    align = channels * bits // 8
    return _chunk(b"fmt ", struct.pack("<HHIIHH", 1, channels, rate, (rate * align) & 0xFFFFFFFF, align & 0xFFFF, bits))


def _pcm(frames: int = 480, channels: int = 1) -> bytes:
    return (_tone(frames, channels) * 32767).astype("<i2").tobytes()


def _riff(*chunks: bytes) -> bytes:
    body = b"WAVE" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def wav_duplicate_fmt() -> bytes:
    """Two ``fmt `` chunks that disagree (mono, then 8 channels at another rate)."""
    return _riff(_fmt(1), _fmt(8, 8000), _chunk(b"data", _pcm()))


def wav_data_longer_than_file() -> bytes:
    """A data chunk that claims 2 GiB in a file of 1 KiB."""
    return _riff(_fmt(1), _chunk(b"data", _pcm(), size=0x7FFFFFF0))


def wav_zero_channels() -> bytes:
    """A header of 0 channels."""
    return _riff(_fmt(0), _chunk(b"data", _pcm()))


def wav_65535_channels() -> bytes:
    """A header of 65535 channels."""
    return _riff(_fmt(65535), _chunk(b"data", _pcm()))


def wav_rate_zero() -> bytes:
    """A sample rate of 0 Hz."""
    return _riff(_fmt(1, 0), _chunk(b"data", _pcm()))


def wav_rate_4_ghz() -> bytes:
    """A sample rate of 4294967295 Hz."""
    return _riff(_fmt(1, 0xFFFFFFFF), _chunk(b"data", _pcm()))


def wav_rate_1_hz() -> bytes:
    """A sample rate of 1 Hz (a second a sample: its 480 frames would resample to 23 million)."""
    return _riff(_fmt(1, 1), _chunk(b"data", _pcm()))


def rf64_lying_ds64() -> bytes:
    """RF64 whose ds64 claims 2^40 bytes of data and 2^40 frames, in a file of 1 KiB."""
    ds64 = struct.pack("<QQQI", 2**40 + 100, 2**40, 2**40, 0)
    body = b"WAVE" + _chunk(b"ds64", ds64) + _fmt(1) + _chunk(b"data", _pcm(), size=0xFFFFFFFF)
    return b"RF64" + struct.pack("<I", 0xFFFFFFFF) + body


def rf64_ds64_shorter_than_data() -> bytes:
    """RF64 whose ds64 gives less data than the chunk holds (a lie the other way)."""
    ds64 = struct.pack("<QQQI", 100, 10, 10, 0)
    body = b"WAVE" + _chunk(b"ds64", ds64) + _fmt(1) + _chunk(b"data", _pcm(), size=0xFFFFFFFF)
    return b"RF64" + struct.pack("<I", 0xFFFFFFFF) + body


def wav_no_data_chunk() -> bytes:
    """A header with no data chunk."""
    return _riff(_fmt(1))


# -- compressed formats ----------------------------------------------------------------------
def flac_truncated_frame() -> bytes:
    """A FLAC file cut in the middle of its second frame."""
    data = _encoded("FLAC", "PCM_16", 9000)
    return data[: len(data) * 2 // 3]


def flac_garbage_frame() -> bytes:
    """A FLAC file whose frames' bytes after the first are overwritten."""
    data = bytearray(_encoded("FLAC", "PCM_16", 9000))
    half = len(data) // 2
    data[half : half + 64] = bytes(range(64))
    return bytes(data)


def _mp3() -> bytes:
    return _encoded("MP3", "MPEG_LAYER_III", 4608)


def mp3_broken_xing_frames() -> bytes:
    """An MP3 whose Xing header claims 2^32 - 1 frames."""
    data = bytearray(_mp3())
    at = data.find(b"Xing") if b"Xing" in data else data.find(b"Info")
    if at >= 0:
        data[at + 8 : at + 12] = b"\xff\xff\xff\xff"  # flags at +4, the frame count at +8
    return bytes(data)


def mp3_xing_cut_short() -> bytes:
    """An MP3 cut just after its Xing tag starts (the header is incomplete)."""
    data = _mp3()
    at = data.find(b"Xing") if b"Xing" in data else data.find(b"Info")
    return data[: at + 6]


def _noise_ogg() -> bytes:
    buffer = io.BytesIO()
    buffer.name = "x.ogg"
    noise = 0.1 * np.random.default_rng(1).standard_normal((RATE, 1))
    sf.write(buffer, noise.astype(np.float32), RATE, format="OGG", subtype="VORBIS")  # noise: several pages
    return buffer.getvalue()


def ogg_bad_page_checksum() -> bytes:
    """An Ogg Vorbis file whose fourth page (of five) has a wrong CRC."""
    data = bytearray(_noise_ogg())
    pages = [k for k in range(len(data)) if data[k : k + 4] == b"OggS"]
    data[pages[3] + 22] ^= 0xFF  # the CRC field of the page header
    return bytes(data)


def ogg_truncated() -> bytes:
    """An Ogg Vorbis file cut in the middle of a page."""
    data = _noise_ogg()
    return data[: len(data) // 2]


# -- Standard MIDI Files ---------------------------------------------------------------------
def _smf(tracks: list[bytes], fmt: int = 1, division: int = 96, count: int | None = None) -> bytes:
    head = b"MThd" + struct.pack(">IHHH", 6, fmt, len(tracks) if count is None else count, division)
    return head + b"".join(b"MTrk" + struct.pack(">I", len(t)) + t for t in tracks)


_END = b"\x00\xff\x2f\x00"


def midi_track_length_past_the_end() -> bytes:
    """A track chunk that claims 1 MiB in a file of 40 bytes."""
    body = b"\x00\x90\x3c\x64\x60\x80\x3c\x00" + _END
    return _smf([], count=1) + b"MTrk" + struct.pack(">I", 1 << 20) + body


def midi_header_length_too_short() -> bytes:
    """A header chunk of length 2."""
    return b"MThd" + struct.pack(">I", 2) + b"\x00\x01" + b"MTrk" + struct.pack(">I", 4) + _END


def midi_running_status_at_track_start() -> bytes:
    """A track whose first event has no status byte (running status with none before)."""
    return _smf([b"\x00\x3c\x64\x60\x3c\x00" + _END])


def midi_tempo_zero() -> bytes:
    """A tempo meta event of 0 microseconds a beat."""
    return _smf([b"\x00\xff\x51\x03\x00\x00\x00" + b"\x00\x90\x3c\x64\x60\x80\x3c\x00" + _END])


def midi_smpte_division() -> bytes:
    """An SMPTE division (-25 frames a second, 40 ticks a frame)."""
    return _smf([b"\x00\x90\x3c\x64\x60\x80\x3c\x00" + _END], division=(0xE7 << 8) | 40)


def midi_more_tracks_declared() -> bytes:
    """A header that declares 5 tracks; the file holds 1."""
    return _smf([b"\x00\x90\x3c\x64\x60\x80\x3c\x00" + _END], count=5)


def midi_million_notes() -> bytes:
    """A format 0 file of 1,000,000 notes (6 MB: built by the tests, not committed)."""
    note = b"\x00\x3c\x64\x01\x3c\x00"  # running status: on, then off as velocity 0
    return _smf([b"\x00\x90" + note[1:] + note * 999_999 + _END], fmt=0)


#: Every case: its file name and the function that builds it.
CASES: dict[str, Callable[[], bytes]] = {
    "wav-duplicate-fmt.wav": wav_duplicate_fmt,
    "wav-data-longer-than-file.wav": wav_data_longer_than_file,
    "wav-zero-channels.wav": wav_zero_channels,
    "wav-65535-channels.wav": wav_65535_channels,
    "wav-rate-zero.wav": wav_rate_zero,
    "wav-rate-4-ghz.wav": wav_rate_4_ghz,
    "wav-rate-1-hz.wav": wav_rate_1_hz,
    "rf64-lying-ds64.wav": rf64_lying_ds64,
    "rf64-ds64-shorter-than-data.wav": rf64_ds64_shorter_than_data,
    "wav-no-data-chunk.wav": wav_no_data_chunk,
    "flac-truncated-frame.flac": flac_truncated_frame,
    "flac-garbage-frame.flac": flac_garbage_frame,
    "mp3-broken-xing-frames.mp3": mp3_broken_xing_frames,
    "mp3-xing-cut-short.mp3": mp3_xing_cut_short,
    "ogg-bad-page-checksum.ogg": ogg_bad_page_checksum,
    "ogg-truncated.ogg": ogg_truncated,
    "midi-track-length-past-the-end.mid": midi_track_length_past_the_end,
    "midi-header-length-too-short.mid": midi_header_length_too_short,
    "midi-running-status-at-track-start.mid": midi_running_status_at_track_start,
    "midi-tempo-zero.mid": midi_tempo_zero,
    "midi-smpte-division.mid": midi_smpte_division,
    "midi-more-tracks-declared.mid": midi_more_tracks_declared,
    "midi-million-notes.mid": midi_million_notes,
}

#: Cases built on demand only (too big to commit).
NOT_COMMITTED = {"midi-million-notes.mid"}


def build(name: str) -> bytes:
    """Return the bytes of the case ``name``."""
    return CASES[name]()


def main() -> int:
    """Write every committed case beside this script."""
    for name in CASES:
        if name not in NOT_COMMITTED:
            (HERE / name).write_bytes(build(name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
