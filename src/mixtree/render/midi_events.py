"""MIDI clips resolved to absolute frames for the plan (reads the model; compile side)."""

from __future__ import annotations

from collections.abc import Callable

from mixtree.dsp.synth import BEND_EVENT, CC, NOTE_OFF, NOTE_ON, PROGRAM
from mixtree.model.tracks import MidiTrack
from mixtree.render.midi import MidiTable
from mixtree.render.plan import ALWAYS
from mixtree.render.stages import Automation

_ORDER = {NOTE_OFF: 0, CC: 1, BEND_EVENT: 1, PROGRAM: 1, NOTE_ON: 2}  # at one frame: offs first
_KIND = {"cc": CC, "pitch_bend": BEND_EVENT, "program": PROGRAM}


def clip_events(
    track: MidiTrack, frame_of: Callable[[float], float], transpose: float, window_frames: tuple[int, int] = ALWAYS
) -> list[tuple[int, int, int, int]]:
    """Return ``track``'s events as (frame, kind, data1, data2), sorted for playback.

    A clip plays its own timeline from ``offset`` for ``duration``; notes that start
    inside that window sound and are released at the latest at the clip's end. Content
    time τ sounds at output frame ``frame_of(τ)`` (rounded). Notes move by ``transpose``
    semitones (notes pushed outside 0..127 are dropped). Only notes that start within the
    output frames ``window_frames`` play (an alias's span), and end by its end; the last
    value each controller took before it is set at its start, and the sustain pedal
    lifts at its end.
    """
    out: list[tuple[int, int, int, int]] = []
    first, end = window_frames
    earlier: dict[tuple[int, int], tuple[int, int]] = {}  # (kind, number): (frame, value)

    def frame(tau: float) -> int:
        return int(round(frame_of(tau)))

    shift = int(round(transpose))
    for clip in track.midi_clips:
        lo, hi = clip.offset, clip.offset + clip.duration
        at = clip.start - clip.offset  # content time of the clip's own time 0
        for n in clip.notes:
            pitch = n.pitch + shift
            if not lo <= n.start < hi or not 0 <= pitch <= 127:
                continue
            on, off = frame(at + n.start), frame(at + min(n.end, hi))
            if not first <= on < end:
                continue
            off = min(off, end)
            if off <= on:
                off = on + 1
            out.append((on, NOTE_ON, pitch, n.velocity))
            out.append((off, NOTE_OFF, pitch, 0))
        for e in clip.events:
            if not lo <= e.time < hi:
                continue
            at_frame, kind = frame(at + e.time), _KIND[e.kind]
            if at_frame < first:
                last = earlier.get((kind, e.number))
                if last is None or last[0] <= at_frame:
                    earlier[kind, e.number] = (at_frame, e.value)
            elif at_frame < end:
                out.append((at_frame, kind, e.number, e.value))
    # controllers as the events before the span left them, ahead of any set on its first
    # frame (the sort is stable); a span that ends lifts the sustain pedal it may hold
    out = [(first, kind, number, value) for (kind, number), (_, value) in earlier.items()] + out
    if end < ALWAYS[1]:
        out.append((end, CC, 64, 0))
    out.sort(key=lambda e: (e[0], _ORDER[e[1]]))
    return out


def midi_table(
    tracks: list[tuple[int, MidiTrack, Callable[[float], float], float, tuple[int, int], tuple[int, ...]]],
    rate: int,
    fresh: bool,
    automation: Automation | None = None,
) -> MidiTable:
    """Return the MIDI table for (slot, track, frame of content time, transpose, window
    frames, alias instance) rows; ``automation`` gives each instrument its lanes' array."""
    rows = [
        (slot, t.instrument, clip_events(t, frame_of, transpose, window_frames), instance)
        for slot, t, frame_of, transpose, window_frames, instance in tracks
    ]
    return MidiTable(rows, rate, fresh, automation)
