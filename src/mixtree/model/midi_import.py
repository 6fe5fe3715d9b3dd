"""Projects from Standard MIDI Files, and MIDI clips back to files."""

from __future__ import annotations

import warnings
from operator import itemgetter
from pathlib import Path

from mixtree.errors import MidiFileError
from mixtree.io import midi_file
from mixtree.model.project import Project
from mixtree.model.tempo import PPQ, check_meter
from mixtree.model.tracks import MidiTrack
from mixtree.units import MAX_SECONDS

#: The fastest tempo a project plays, in bpm; faster tempos in a file are slowed to it.
_FASTEST = 1000.0


def import_midi(path: str | Path, sample_rate: int = 48000) -> Project:
    """Return a new project holding ``path``: its tempo map, one MIDI track per MIDI
    track (per channel for format 0) with its name, each a clip of its notes.

    Raises `MidiFileError` for an unreadable file and for one that would last longer than
    `mixtree.units.MAX_SECONDS`; tempos above 1000 bpm are slowed to 1000 with a `MidiWarning`.
    """
    smf = midi_file.read(path)
    tempos = [(tick, min(bpm, _FASTEST)) for tick, bpm in smf.tempos]
    _check_length(path, smf, tempos)
    fast = sum(bpm > _FASTEST for _, bpm in smf.tempos)
    if fast:
        warnings.warn(
            f"'{path}': {fast} tempos above {_FASTEST:g} bpm were slowed to {_FASTEST:g} bpm, "
            "the fastest a project plays",
            midi_file.MidiWarning,
            stacklevel=2,
        )
    project = Project(sample_rate=sample_rate)
    tm = project.tempo_map
    for tick, bpm in tempos:
        try:
            tm.set_tempo(at_beat=tick / smf.ppq, bpm=bpm)
        except ValueError as exc:
            raise MidiFileError(path, f"the tempo change at tick {tick}: {exc}") from exc
    for tick, numerator, denominator in smf.meters:
        try:
            bar, into = tm.bar_at(tick / smf.ppq)
            tm.set_meter(at_bar=bar + (1 if into > 0.5 else 0), numerator=numerator, denominator=denominator)
        except ValueError as exc:
            raise MidiFileError(path, f"the time signature at tick {tick}: {exc}") from exc
    for smf_track in smf.tracks:
        track = project.add_midi_track(smf_track.name)
        ends = [off for _, off, _, _ in smf_track.notes] + [t for t, _, _, _ in smf_track.events]
        last = max(ends + [smf_track.end, 1])
        end = tm.seconds_at(last / smf.ppq)
        clip = track.add_midi_clip(start=0.0, duration=min(max(end, 0.001) + 1e-9, MAX_SECONDS))
        for on, off, pitch, velocity in smf_track.notes:
            start = tm.seconds_at(on / smf.ppq)
            clip.add_note(pitch, velocity, start, max(tm.seconds_at(off / smf.ppq) - start, 1e-6))
        for tick, kind, number, value in smf_track.events:
            clip.add_event(tm.seconds_at(tick / smf.ppq), kind, value, number)
    project.version = 0
    return project


def _check_length(path: str | Path, smf: midi_file.Smf, tempos: list[tuple[int, float]]) -> None:
    """Refuse a file whose notes, events, track ends or tempo map reach past `MAX_SECONDS`."""
    reach = [
        (max([t.end, *(n[1] for n in t.notes), *(e[0] for e in t.events)]), f"track '{t.name}'") for t in smf.tracks
    ]
    reach += [(change[0], "its tempo map") for change in (*smf.tempos, *smf.meters)]
    if not reach:
        return
    tick, what = max(reach, key=itemgetter(0))
    seconds = _seconds_at(tick, smf.ppq, tempos)
    if seconds > MAX_SECONDS:
        raise MidiFileError(
            path,
            f"it would last {_span(seconds)} ({what} reaches tick {tick}, {seconds:,.0f} s in), "
            f"longer than the {_span(MAX_SECONDS)} ({MAX_SECONDS:,.0f} s) a project may last",
        )


def _seconds_at(tick: int, ppq: int, tempos: list[tuple[int, float]]) -> float:
    """Return the time of ``tick`` under ``tempos`` (tick, bpm), sorted, from 120 bpm."""
    seconds, at, bpm = 0.0, 0, 120.0
    for change, new in tempos:
        if change > tick:
            break
        seconds += (change - at) * 60.0 / (ppq * bpm)
        at, bpm = change, new
    return seconds + (tick - at) * 60.0 / (ppq * bpm)


def _span(seconds: float) -> str:
    days = seconds / 86400.0
    return f"{days / 365.25:,.1f} years" if days >= 3652.5 else f"{days:,.1f} days"


def export_midi(project: Project, path: str | Path) -> Path:
    """Write every MIDI track's clips to ``path`` as a format 1 file at 960 ticks a beat."""
    tm = project.tempo_map

    def tick(seconds: float) -> int:
        return int(round(tm.beat_at(seconds) * PPQ))

    tracks = []
    for t in project.tracks:
        if not isinstance(t, MidiTrack):
            continue
        out = midi_file.SmfTrack(t.name)
        for clip in t.midi_clips:
            at = clip.start - clip.offset
            end = clip.offset + clip.duration
            for n in clip.notes:
                if clip.offset <= n.start < end:
                    out.notes.append((tick(at + n.start), tick(at + min(n.end, end)), n.pitch, n.velocity))
            for e in clip.events:
                if clip.offset <= e.time < end:
                    out.events.append((tick(at + e.time), e.kind, e.number, e.value))
            out.end = max(out.end, tick(clip.start + clip.duration))
        tracks.append(out)
    tempos = [(int(round(c.beat * PPQ)), c.bpm) for c in tm.tempos]
    meters = [(int(round(tm.beat_of_bar(m.bar) * PPQ)), *check_meter(m.numerator, m.denominator)) for m in tm.meters]
    path = Path(path)
    midi_file.write(path, midi_file.Smf(PPQ, tempos, meters, tracks))
    return path
