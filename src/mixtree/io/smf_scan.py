"""The byte structure of a Standard MIDI File, checked before a decoder reads it.

`scan` walks the chunks and every event of the tracks the header declares, checks the
meta values mido cannot decode (key signatures, SMPTE offsets), and raises
`MidiFileError` naming the track, the byte (counted from the start of the file), the
event and what it needed. It runs before mido on every file because mido accepts some
broken files without a word (a format-3 header, 5-byte delta times, an event running
into the next chunk) and fails on others with messages such as "list index out of
range"; a scan run only after a failure could not catch the first kind.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

from mixtree.errors import MidiFileError

#: Data bytes after each status byte; None marks a status no file may hold. Channel
#: messages, then system common and real-time ones as mido reads them (SysEx and meta
#: events, 0xF0, 0xF7 and 0xFF, carry their own lengths).
_DATA_BYTES: list[int | None] = (
    [None] * 0x80  # data bytes, not statuses
    + [2] * 0x40  # note off, note on, poly pressure, control change
    + [1] * 0x20  # program change, channel pressure
    + [2] * 0x10  # pitch bend
    + [None, 1, 2, 1, None, None, 0, None]  # 0xF0-0xF7: system common
    + [0, None, 0, 0, 0, None, 0, None]  # 0xF8-0xFF: real time
)

_CHANNEL_NAMES = {
    0x80: "note_off",
    0x90: "note_on",
    0xA0: "polytouch",
    0xB0: "control_change",
    0xC0: "program_change",
    0xD0: "aftertouch",
    0xE0: "pitchwheel",
}

#: Meta events mido decodes from a fixed number of data bytes: type → (name, bytes needed).
_META_NEEDS = {
    0x20: ("channel_prefix", 1),
    0x51: ("set_tempo", 3),
    0x54: ("smpte_offset", 5),
    0x58: ("time_signature", 4),
    0x59: ("key_signature", 2),
}

#: The longest SysEx or meta event mido reads, in data bytes.
_LONGEST = 1_000_000
_TOO_LONG = f"longer than the {_LONGEST:,} mixtree reads in one event"


@dataclass(frozen=True, slots=True)
class SmfLayout:
    """Where the chunks of a checked file lie, as byte offsets into it."""

    #: Where the header chunk ends.
    header_end: int
    #: (start, end) of each track chunk the header declares, chunk header included.
    tracks: list[tuple[int, int]]
    #: How many track chunks with channel messages follow the declared ones.
    ignored: int

    def declared(self, data: bytes) -> bytes:
        """Return ``data`` with only its header and declared track chunks (others dropped)."""
        return data[: self.header_end] + b"".join(data[start:end] for start, end in self.tracks)


def scan(data: bytes, path: str | Path) -> SmfLayout:
    """Check the header and every declared track of a Standard MIDI File.

    Chunks of unknown type are skipped, as the standard asks. Raises `MidiFileError`
    naming ``path`` for anything a reader cannot take at face value.
    """
    if data[:4] != b"MThd":
        raise MidiFileError(path, f"not a Standard MIDI File: it starts with {data[:4]!r}, not b'MThd'")
    if len(data) < 14:
        raise MidiFileError(path, f"truncated header: the file holds {len(data)} bytes, a header needs 14")
    (length,) = struct.unpack_from(">I", data, 4)
    if length < 6:
        raise MidiFileError(path, f"the header chunk is {length} bytes long, it needs at least 6")
    header_end = 8 + length
    if header_end > len(data):
        raise MidiFileError(path, f"truncated header: its chunk needs {length} bytes, the file holds {len(data) - 8}")
    fmt, count, division = struct.unpack_from(">HHH", data, 8)
    if fmt == 2:
        raise MidiFileError(path, "format 2 (independent sequences) is not supported")
    if fmt > 2:
        raise MidiFileError(path, f"unknown format {fmt} (a MIDI file is format 0, 1 or 2)")
    if division & 0x8000:
        fps, per_frame = 256 - (division >> 8), division & 0xFF
        raise MidiFileError(
            path, f"SMPTE time ({fps} frames a second, {per_frame} ticks a frame) is not supported, only ticks per beat"
        )
    if division == 0:
        raise MidiFileError(path, "bad resolution: 0 ticks per beat")
    if count > 0x7FFF:
        # mido reads the count as a signed number and would read no track at all.
        raise MidiFileError(path, f"the header declares {count} tracks, more than the 32767 mixtree reads")
    tracks: list[tuple[int, int]] = []
    ignored = 0
    pos = header_end
    while pos + 8 <= len(data):
        kind = data[pos : pos + 4]
        (length,) = struct.unpack_from(">I", data, pos + 4)
        end = pos + 8 + length
        if len(tracks) == count:
            # Past the declared tracks (real writers miscount them): count the track
            # chunks a reader would miss, ignore anything broken.
            if end > len(data):
                break
            if kind == b"MTrk":
                try:
                    ignored += _scan_track(data, pos + 8, end, len(tracks) + 1, path) > 0
                except MidiFileError:
                    pass
        elif end > len(data):
            what = f"track {len(tracks) + 1}" if kind == b"MTrk" else f"chunk {kind!r}"
            raise MidiFileError(
                path,
                f"{what} at byte {pos} should hold {length} bytes but the file ends after "
                f"{len(data) - pos - 8}: the file is truncated",
            )
        elif kind == b"MTrk":
            _scan_track(data, pos + 8, end, len(tracks) + 1, path)
            tracks.append((pos, end))
        pos = end
    if len(tracks) < count:
        raise MidiFileError(
            path, f"the header declares {count} tracks but the file ends after {len(tracks)}: the file is truncated"
        )
    return SmfLayout(header_end, tracks, ignored)


def _scan_track(data: bytes, start: int, end: int, number: int, path: str | Path) -> int:
    """Check the events of the track chunk ``data[start:end]``; return how many are channel messages."""
    needs = _DATA_BYTES
    channel = 0
    running = 0
    why = "at the start of the track"
    pos = start
    while pos < end:
        if data[pos] & 0x80:
            pos = _quantity(data, pos, end, number, "delta time", path)[1]
        else:
            pos += 1
        if pos == end:
            raise MidiFileError(path, f"track {number}, byte {pos}: a delta time with no event after it ends the track")
        at = pos
        status = data[pos]
        if status < 0x80:
            if not running:
                raise MidiFileError(
                    path,
                    f"track {number}, byte {at}: data byte 0x{status:02x} where an event should start, "
                    f"but running status {why} has no status byte to repeat",
                )
            status = running
        else:
            pos += 1
        if status == 0xFF:
            pos = _scan_meta(data, at, end, number, path)
            continue
        if status == 0xF0 or status == 0xF7:
            length, pos = _quantity(data, pos, end, number, "SysEx length", path)
            if pos + length > end:
                raise MidiFileError(
                    path,
                    f"track {number}, byte {at}: SysEx of {length} bytes runs {pos + length - end} bytes "
                    "past the end of the track chunk",
                )
            if length > _LONGEST:
                raise MidiFileError(path, f"track {number}, byte {at}: SysEx of {length:,} bytes, {_TOO_LONG}")
            pos += length
            running, why = 0, "after a SysEx event (which cancels it)"
            continue
        count = needs[status]
        if count is None:
            raise MidiFileError(path, f"track {number}, byte {at}: undefined status byte 0x{status:02x}")
        if status < 0xF0:
            running = status
            channel += 1
        else:
            running, why = 0, f"after system message 0x{status:02x} (which cancels it)"
        stop = pos + count
        if stop > end or (count and max(data[pos:stop]) & 0x80):
            name = _CHANNEL_NAMES.get(status & 0xF0, f"system message 0x{status:02x}")
            held = 0
            while pos + held < min(stop, end) and not data[pos + held] & 0x80:
                held += 1
            after = "the track chunk ends" if pos + held == end else f"byte {pos + held} is 0x{data[pos + held]:02x}"
            raise MidiFileError(
                path, f"track {number}, byte {at}: {name} needs {_bytes(count)} (below 0x80), has {held} before {after}"
            )
        pos = stop
    return channel


def _scan_meta(data: bytes, at: int, end: int, number: int, path: str | Path) -> int:
    """Check the meta event whose 0xFF lies at ``at``; return where the next event starts."""
    if at + 2 > end:
        raise MidiFileError(path, f"track {number}, byte {at}: meta event cut off by the end of the track chunk")
    kind = data[at + 1]
    name, needed = _META_NEEDS.get(kind, (f"meta event 0x{kind:02x}", 0))
    length, pos = _quantity(data, at + 2, end, number, f"{name} length", path)
    if pos + length > end:
        raise MidiFileError(
            path,
            f"track {number}, byte {at}: {name} of {length} data bytes runs {pos + length - end} bytes "
            "past the end of the track chunk",
        )
    where = f"track {number}, byte {at}: {name}"
    if length > _LONGEST:
        raise MidiFileError(path, f"{where} of {length:,} data bytes, {_TOO_LONG}")
    if length < needed:
        raise MidiFileError(path, f"{where} needs {_bytes(needed)}, has {length}")
    if kind == 0x00 and length == 1:
        raise MidiFileError(path, f"track {number}, byte {at}: sequence_number needs 2 data bytes (or none), has 1")
    body = data[pos : pos + length]
    if kind == 0x59:
        sharps, mode = body[0] - 256 * (body[0] > 127), body[1]
        if not -7 <= sharps <= 7:
            count = f"{sharps} sharps" if sharps > 0 else f"{-sharps} flats"
            raise MidiFileError(path, f"{where} of {count} is impossible (a key has at most 7 sharps or 7 flats)")
        if mode > 1:
            raise MidiFileError(path, f"{where} has mode {mode}, neither 0 (major) nor 1 (minor)")
    elif kind == 0x58 and body[1] > 28:
        # mido's float check refuses 2**29 and some larger powers as "not a power of 2".
        raise MidiFileError(path, f"{where} has a denominator of 2**{body[1]} (at most 2**28 can be read)")
    elif kind == 0x54:
        fields = (("frame-rate code", body[0] >> 5, 3), ("minutes", body[1], 59), ("seconds", body[2], 59))
        for field, value, high in (*fields, ("sub-frames", body[4], 99)):
            if value > high:
                raise MidiFileError(path, f"{where} has {field} {value}, not 0..{high}")
    return pos + length


def _bytes(count: int) -> str:
    return f"{count} data byte" + "s" * (count != 1)


def _quantity(data: bytes, pos: int, end: int, number: int, what: str, path: str | Path) -> tuple[int, int]:
    """Return the variable-length quantity at ``pos`` and the position after it."""
    value = 0
    for i in range(pos, min(pos + 4, end)):
        value = value << 7 | data[i] & 0x7F
        if not data[i] & 0x80:
            return value, i + 1
    if pos + 4 <= end:
        raise MidiFileError(
            path, f"track {number}, byte {pos}: {what} runs over 4 bytes (a variable-length quantity has at most 4)"
        )
    raise MidiFileError(path, f"track {number}, byte {pos}: {what} cut off by the end of the track chunk")
