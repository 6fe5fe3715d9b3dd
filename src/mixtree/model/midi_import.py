"""Projects from Standard MIDI Files, and MIDI clips back to files."""

from __future__ import annotations

from pathlib import Path

from mixtree.errors import MidiFileError
from mixtree.io import midi_file
from mixtree.model.project import Project
from mixtree.model.tempo import PPQ, check_meter
from mixtree.model.tracks import MidiTrack


def import_midi(path: str | Path, sample_rate: int = 48000) -> Project:
    """Return a new project holding ``path``: its tempo map, one MIDI track per MIDI
    track (per channel for format 0) with its name, each a clip of its notes."""
    smf = midi_file.read(path)
    project = Project(sample_rate=sample_rate)
    tm = project.tempo_map
    try:
        for tick, bpm in smf.tempos:
            tm.set_tempo(at_beat=tick / smf.ppq, bpm=min(max(bpm, 1.0), 1000.0))
        for tick, numerator, denominator in smf.meters:
            bar, into = tm.bar_at(tick / smf.ppq)
            tm.set_meter(at_bar=bar + (1 if into > 0.5 else 0), numerator=numerator, denominator=denominator)
    except ValueError as exc:
        raise MidiFileError(path, str(exc)) from exc
    for smf_track in smf.tracks:
        track = project.add_midi_track(smf_track.name)
        ends = [off for _, off, _, _ in smf_track.notes] + [t for t, _, _, _ in smf_track.events]
        last = max(ends + [smf_track.end, 1])
        end = tm.seconds_at(last / smf.ppq)
        clip = track.add_midi_clip(start=0.0, duration=max(end, 0.001) + 1e-9)
        for on, off, pitch, velocity in smf_track.notes:
            start = tm.seconds_at(on / smf.ppq)
            clip.add_note(pitch, velocity, start, max(tm.seconds_at(off / smf.ppq) - start, 1e-6))
        for tick, kind, number, value in smf_track.events:
            clip.add_event(tm.seconds_at(tick / smf.ppq), kind, value, number)
    project.version = 0
    return project


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
