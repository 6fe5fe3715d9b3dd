"""Standard MIDI Files with mido, as plain data in ticks (this part knows no model)."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path

import mido

from mixtree.errors import MidiFileError
from mixtree.io.smf_scan import scan


class MidiWarning(UserWarning):
    """A MIDI file was imported, but something in it had to be ignored or repaired."""


@dataclass(slots=True)
class SmfTrack:
    """One MIDI track (or, for format 0, one channel): notes as (tick on, tick off, pitch,
    velocity), controller events as (tick, kind, number, value), and where it ends."""

    name: str
    notes: list[tuple[int, int, int, int]] = field(default_factory=list)
    events: list[tuple[int, str, int, int]] = field(default_factory=list)
    #: The track's last tick (its end-of-track event: a closing rest counts).
    end: int = 0


@dataclass(slots=True)
class Smf:
    """A decoded file: ticks per beat, tempo changes (tick, bpm), meter changes (tick,
    numerator, denominator) and the tracks that hold notes or events."""

    ppq: int
    tempos: list[tuple[int, float]]
    meters: list[tuple[int, int, int]]
    tracks: list[SmfTrack]


def read(path: str | Path) -> Smf:
    """Decode a format 0 or 1 Standard MIDI File.

    Raises `MidiFileError` naming the file for anything unreadable (see `scan`: truncated
    chunks, bad lengths, running status with no status, short meta events, format 2 or
    3, SMPTE time) and for a zero tempo. An unmatched note-off is ignored, a note never
    released ends at its track's end, and track chunks beyond the header's count are
    ignored, each with a `MidiWarning`.
    """
    path = Path(path)
    if not path.is_file():
        raise MidiFileError(path, "no such file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise MidiFileError(path, f"cannot read it: {exc.strerror or exc}") from exc
    layout = scan(data, path)
    if layout.ignored:
        warnings.warn(
            f"'{path}': {layout.ignored} track chunks with MIDI messages after the {len(layout.tracks)} "
            "the header declares were ignored",
            MidiWarning,
            stacklevel=2,
        )
    try:
        # Only the declared track chunks: mido refuses a chunk of any other type.
        mf = mido.MidiFile(file=io.BytesIO(layout.declared(data)))
    except (OSError, EOFError, ValueError, KeyError, IndexError, TypeError, mido.KeySignatureError) as exc:
        # The scan should have refused the file first; mido's words are a last resort.
        raise MidiFileError(path, str(exc) or type(exc).__name__) from exc
    tempos: list[tuple[int, float]] = []
    meters: list[tuple[int, int, int]] = []
    tracks: list[SmfTrack] = []
    unmatched = 0
    hanging = 0
    for index, track in enumerate(mf.tracks):
        name = f"Track {index + 1}"
        by_channel: dict[int, SmfTrack] = {}
        open_notes: dict[tuple[int, int], list[tuple[int, int]]] = {}
        tick = 0
        for msg in track:
            tick += msg.time
            if msg.type == "track_name":
                name = _text(msg.name).strip() or name
            elif msg.type == "set_tempo":
                if msg.tempo <= 0:
                    raise MidiFileError(path, f"zero tempo at tick {tick} of track {index + 1}")
                tempos.append((tick, 60_000_000 / msg.tempo))
            elif msg.type == "time_signature":
                meters.append((tick, msg.numerator, msg.denominator))
            elif msg.type in ("note_on", "note_off"):
                out = by_channel.setdefault(msg.channel, SmfTrack(name))
                key = (msg.channel, msg.note)
                if msg.type == "note_on" and msg.velocity > 0:
                    open_notes.setdefault(key, []).append((tick, msg.velocity))
                elif open_notes.get(key):
                    start, velocity = open_notes[key].pop(0)
                    out.notes.append((start, tick, msg.note, velocity))
                else:
                    unmatched += 1
            elif msg.type in ("control_change", "pitchwheel", "program_change"):
                out = by_channel.setdefault(msg.channel, SmfTrack(name))
                if msg.type == "control_change":
                    out.events.append((tick, "cc", msg.control, msg.value))
                elif msg.type == "pitchwheel":
                    out.events.append((tick, "pitch_bend", 0, msg.pitch))
                else:
                    out.events.append((tick, "program", 0, msg.program))
        for (channel, note), starts in open_notes.items():
            for start, velocity in starts:
                hanging += 1
                by_channel[channel].notes.append((start, max(tick, start + 1), note, velocity))
        split = mf.type == 0 and len(by_channel) > 1
        for channel, t in sorted(by_channel.items()):
            t.name = f"{name} ch{channel + 1}" if split else name
            t.end = tick
            t.notes.sort()
            tracks.append(t)
    if unmatched:
        warnings.warn(f"'{path}': {unmatched} note-offs without a note-on were ignored", MidiWarning, stacklevel=2)
    if hanging:
        warnings.warn(f"'{path}': {hanging} notes never released end at their track's end", MidiWarning, stacklevel=2)
    # Stable by tick only: of two tempos at one tick the later in the file wins.
    by_tick = itemgetter(0)
    return Smf(mf.ticks_per_beat, sorted(tempos, key=by_tick), sorted(meters, key=by_tick), tracks)


def _text(latin1: str) -> str:
    # mido reads meta text as Latin-1; files written today mostly mean UTF-8.
    try:
        return latin1.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return latin1


def write(path: str | Path, smf: Smf) -> None:
    """Write ``smf`` as a format 1 file: a tempo track, then one track per `SmfTrack`."""
    mf = mido.MidiFile(type=1, ticks_per_beat=smf.ppq, charset="utf-8")
    conductor = [(t, mido.MetaMessage("set_tempo", tempo=round(60_000_000 / bpm), time=0)) for t, bpm in smf.tempos]
    conductor += [(t, mido.MetaMessage("time_signature", numerator=n, denominator=d, time=0)) for t, n, d in smf.meters]
    mf.tracks.append(_track("tempo", conductor))
    for i, track in enumerate(smf.tracks):
        channel = i % 16
        timed: list[tuple[int, mido.Message]] = []
        for on, off, note, velocity in track.notes:
            timed.append((on, mido.Message("note_on", channel=channel, note=note, velocity=velocity)))
            timed.append((off, mido.Message("note_off", channel=channel, note=note, velocity=0)))
        for tick, kind, number, value in track.events:
            if kind == "cc":
                msg = mido.Message("control_change", channel=channel, control=number, value=value)
            elif kind == "pitch_bend":
                msg = mido.Message("pitchwheel", channel=channel, pitch=value)
            else:
                msg = mido.Message("program_change", channel=channel, program=value)
            timed.append((tick, msg))
        mf.tracks.append(_track(track.name, timed, track.end))
    mf.save(str(path))


def _track(name: str, timed: list[tuple[int, mido.Message]], end: int = 0) -> mido.MidiTrack:
    track = mido.MidiTrack([mido.MetaMessage("track_name", name=name, time=0)])
    now = 0
    # note-offs before note-ons at the same tick, so a repeated note is not cut
    for tick, msg in sorted(timed, key=lambda tm: (tm[0], tm[1].type == "note_on")):
        track.append(msg.copy(time=tick - now))
        now = tick
    track.append(mido.MetaMessage("end_of_track", time=max(end - now, 0)))  # a closing rest stays
    return track
