"""The ``mixtree`` command: demo, render, stems, bounce, info, play, studio, import-midi, collect, plugins, convert,
batch."""

from __future__ import annotations

import argparse
import re
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console

from mixtree.cli import studio as studio_cli
from mixtree.cli.progress import render_progress
from mixtree.effects.offline import EffectWarning
from mixtree.errors import MixtreeError
from mixtree.io.audio_file import FORMATS, SUBTYPES
from mixtree.jobs.export import export
from mixtree.model.project import Project
from mixtree.model.project_file import RecoveryWarning
from mixtree.model.tracks import AudioTrack, MidiTrack, Track


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mixtree", description="A DAW backend: render and play sessions.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser("demo", help="build the demo song, save it and render it to a WAV")
    demo.add_argument(
        "-o",
        "--output",
        type=Path,
        default=Path("demo-out"),
        metavar="DIR",
        help="folder for the media, the project and the mix (default: demo-out)",
    )
    demo.add_argument(
        "--picture",
        nargs="?",
        const="",
        default=None,
        metavar="FILE",
        help="also draw the mix as a PNG (default: DIR/demo.png); needs matplotlib",
    )

    render = sub.add_parser("render", help="render a project to an audio file")
    render.add_argument("project", type=Path, metavar="PROJECT")
    render.add_argument(
        "-o",
        "--output",
        type=Path,
        required=True,
        metavar="OUT",
        help="WAV, FLAC, OGG or MP3, by extension",
    )

    stems = sub.add_parser("stems", help="render every top-level track to a file of its own")
    stems.add_argument("project", type=Path, metavar="PROJECT")
    stems.add_argument("-o", "--output", type=Path, required=True, metavar="DIR", help="folder for the stems")
    stems.add_argument(
        "--type", choices=[e.lstrip(".") for e in FORMATS], default="wav", help="file type (default: wav)"
    )
    for p in (render, stems):
        p.add_argument("--start", type=float, default=0.0, metavar="S", help="from (seconds)")
        p.add_argument("--end", type=float, default=None, metavar="S", help="to (seconds; default: the end)")
        p.add_argument(
            "--format", choices=sorted(SUBTYPES), default=None, help="sample format: float, 24 or 16 (dithered) bit"
        )
        p.add_argument("--block", type=int, default=512, metavar="N", help="frames per block")
        p.add_argument(
            "--threads",
            type=int,
            default=None,
            metavar="N",
            help="threads the effects run on (default: MIXTREE_THREADS, else 1); the same samples",
        )
        p.add_argument("--recover", action="store_true", help="render its newer autosave")
        _pool_option(p)

    bounce = sub.add_parser("bounce", help="render a track into a new audio track and save the project")
    bounce.add_argument("project", type=Path, metavar="PROJECT")
    bounce.add_argument("track", metavar="TRACK", help="the track's name, or #id")
    bounce.add_argument("-o", "--output", type=Path, default=None, metavar="OUT", help="save here (default: in place)")
    bounce.add_argument("--recover", action="store_true", help="bounce in its newer autosave")

    info = sub.add_parser("info", help="describe a project")
    info.add_argument("project", type=Path, metavar="PROJECT")
    info.add_argument("--recover", action="store_true", help="open its newer autosave")

    collect = sub.add_parser("collect", help="copy a project and all its media into one folder")
    collect.add_argument("project", type=Path, metavar="PROJECT")
    collect.add_argument("folder", type=Path, metavar="DIR")

    imp = sub.add_parser("import-midi", help="make a project from a Standard MIDI File")
    imp.add_argument("midi", type=Path, metavar="SONG.mid")
    imp.add_argument("-o", "--output", type=Path, required=True, metavar="PROJECT", help="project file to write")
    imp.add_argument("--rate", type=int, default=48000, help="sample rate of the project")

    convert = sub.add_parser(
        "convert", help="convert a project between .json/.mtp, .dawproject and .otio, by extension"
    )
    convert.add_argument("input", type=Path, metavar="IN")
    convert.add_argument("output", type=Path, metavar="OUT")
    convert.add_argument("--rate", type=int, default=48000, help="sample rate of a project made from a DAWproject")
    convert.add_argument("--reference-media", action="store_true", help="refer to media instead of embedding them")

    plugins = sub.add_parser("plugins", help="scan for installed LV2, CLAP and VST3 plugins, or list the last scan")
    plugins.add_argument(
        "action", choices=["scan", "list"], help="scan: probe every plugin (cached); list: the last scan"
    )
    plugins.add_argument("--path", type=Path, action="append", default=[], metavar="DIR", help="another folder to scan")
    plugins.add_argument("--timeout", type=float, default=20.0, metavar="S", help="seconds a plugin may take to load")

    _batch_parser(sub)

    play = sub.add_parser("play", help="play a project with a terminal transport")
    play.add_argument("project", type=Path, metavar="PROJECT")
    play.add_argument("--recover", action="store_true", help="play its newer autosave")
    _playback_options(play)
    _pool_option(play)
    _playback_options(studio_cli.add_parser(sub))
    demo.add_argument("--play", action="store_true", help="then play it, if an audio device exists")
    _playback_options(demo)
    return parser


def _batch_parser(sub: argparse._SubParsersAction) -> None:
    batch = sub.add_parser(
        "batch", help="render many projects, or a grid of parameter values, on every core or on a Ray cluster"
    )
    batch.add_argument("projects", nargs="+", type=Path, metavar="PROJECT", help="project (or MIDI) files")
    batch.add_argument(
        "-o", "--output", type=Path, required=True, metavar="DIR", help="folder for the renders and the manifest"
    )
    batch.add_argument(
        "--grid",
        type=Path,
        metavar="PARAMS.json",
        help='values to cross, {"Drums.volume_db": [-12, 0], "Verb.mix": [0.1, 0.3]}, or a list of {address: value}',
    )
    batch.add_argument(
        "--ray", nargs="?", const="", default=None, metavar="ADDRESS", help="run on Ray (default: RAY_ADDRESS or local)"
    )
    batch.add_argument("--workers", type=int, default=None, metavar="N", help="local worker processes (default: cores)")
    batch.add_argument("--stems", action="store_true", help="also render every top-level track to a file")
    batch.add_argument("--format", choices=["flac", "wav", "ogg", "mp3"], default="flac", help="file type (flac)")
    batch.add_argument("--normalize", type=_lufs, default=None, metavar="LUFS", help="loudness of each mix (-14LUFS)")
    batch.add_argument("--start", type=float, default=0.0, metavar="S", help="from (seconds)")
    batch.add_argument("--end", type=float, default=None, metavar="S", help="to (seconds; default: the end)")
    batch.add_argument(
        "--import", dest="imports", action="append", default=[], metavar="MODULE", help="a module of your effects"
    )
    batch.add_argument("--no-resume", action="store_true", help="render every job, even those done before")
    # argparse takes "-14LUFS" for an option, as it reads only plain negative numbers as values
    batch._negative_number_matcher = re.compile(r"^-\d*\.?\d+\s*(LUFS)?$", re.IGNORECASE)


def _lufs(text: str) -> float:
    value = text.strip().upper().removesuffix("LUFS").strip()
    try:
        return float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a loudness like -14LUFS, not {text!r}") from None


def _pool_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--pool-budget",
        type=float,
        default=None,
        metavar="MB",
        help="MiB of decoded audio held in memory; larger sources stream from disk (default: the project's)",
    )


def _playback_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", default=None, metavar="D", help="PortAudio device index or name")
    parser.add_argument("--block", type=int, default=256, metavar="N", help="frames per callback")
    parser.add_argument(
        "--driver",
        choices=["sounddevice", "null"],
        default="sounddevice",
        help="audio driver (null: no device, real-time pacing)",
    )


def _duration(start: float, end: float | None) -> float | None:
    if end is not None and end < start:
        raise ValueError(f"--end {end:g} s is before --start {start:g} s")
    return None if end is None else end - start


def _render(
    project: Project,
    out: Path,
    start: float,
    end: float | None,
    fmt: str | None,
    block: int,
    console: Console,
    threads: int | None = None,
) -> float:
    duration = _duration(start, end)
    t0 = time.perf_counter()
    with render_progress(f"rendering {out.name}", console) as progress:
        export(project, out, start, duration, subtype=fmt, blocksize=block, progress=progress, threads=threads)
    return time.perf_counter() - t0


def cmd_demo(args: argparse.Namespace, console: Console) -> None:
    """Build, save and render the demo song, say what each part shows, draw it if asked."""
    from mixtree.cli import demo, picture
    from mixtree.io.audio_file import read

    if args.picture is not None and not picture.available():
        raise ValueError(picture.INSTALL)  # before the work, not after it
    folder: Path = args.output
    project, parts = demo.build(folder)
    project_path = project.save(folder / "demo.json")
    mix = folder / "demo.wav"
    took = _render(project, mix, 0.0, None, None, 512, console)
    console.print(f"synthesised {len(project.pool)} sources into {folder / 'media'}")
    _describe(project, console)
    console.print(f"the song, {demo.TEMPO:g} bpm:")
    for start, end, name, what in demo.SECTIONS:
        console.print(f"  {start:4.0f}-{end:2.0f} s  {name}: {what}")
    console.print("what each part shows:")
    for part, shows in parts:
        console.print(f"  {part}: {shows}")
    console.print(f"saved {project_path}")
    console.print(
        f"rendered {mix} ({project.duration:.2f} s in {took:.2f} s, "
        f"{project.duration / max(took, 1e-9):.0f}x real time)"
    )
    if args.picture is not None:
        audio = read(mix)
        sections = [(start, end, name) for start, end, name, _ in demo.SECTIONS]
        png = picture.draw(
            Path(args.picture) if args.picture else folder / "demo.png",
            audio.data, audio.sample_rate, picture.lanes(project), sections, title="mixtree demo",
        )  # fmt: skip
        console.print(f"drew {png}")
    if args.play:
        if args.driver == "sounddevice" and not _has_output_device():
            console.print("no audio output device: playback skipped")
            return
        _play(project, args, console)


def _has_output_device() -> bool:
    from mixtree.engine.drivers.portaudio import DeviceError, load_sounddevice

    try:
        sd = load_sounddevice()
        return any(d["max_output_channels"] >= 2 for d in sd.query_devices())
    except (DeviceError, OSError):
        return False


def _play(project: Project, args: argparse.Namespace, console: Console) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from mixtree.cli import play
    from mixtree.engine.engine import Engine

    device = int(args.device) if args.device is not None and args.device.isdigit() else args.device
    options: dict[str, Any] = {"driver": args.driver, "blocksize": args.block, "device": device}
    if sys.stdin.isatty():
        console.print(f"{len(project.tracks)} tracks; space play/pause, arrows seek, Home start, l loop, q quit")
        with ThreadPoolExecutor(1, thread_name_prefix="mixtree-start") as starting:
            play.run(starting.submit(Engine, project, **options))  # the screen shows while it starts
        return
    console.print(f"{len(project.tracks)} tracks; starting the engine (loading its compiled kernels)")
    with Engine(project, **options) as engine:
        console.print(f"playing through {args.driver} (latency {engine.latency * 1000:.1f} ms)")
        play.play_through(engine, console)


def cmd_studio(args: argparse.Namespace, console: Console) -> None:
    """Serve a project file in the studio web page."""
    studio_cli.run(_open(args, console), args, console)


def cmd_import_midi(args: argparse.Namespace, console: Console) -> None:
    """Import a MIDI file into a new project file."""
    from mixtree.model.midi_import import import_midi

    project = import_midi(args.midi, sample_rate=args.rate)
    path = project.save(args.output)
    notes = sum(len(c.notes) for t in project.tracks if isinstance(t, MidiTrack) for c in t.midi_clips)
    console.print(
        f"imported {len(project.tracks)} tracks, {notes} notes, "
        f"{len(project.tempo_map.tempos)} tempo changes into {path}"
    )


def cmd_convert(args: argparse.Namespace, console: Console) -> None:
    """Convert a project file to another format, each chosen by its extension."""
    from mixtree.exchange import ExchangeWarning, import_dawproject, import_otio, import_rpp

    if args.output.suffix.lower() not in (".dawproject", ".otio", ".json", ".mtp", ".msgpack"):
        raise ValueError(f"OUT ends in .dawproject, .otio, .json or .mtp, not {args.output.name!r}")
    suffix = args.input.suffix.lower()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ExchangeWarning)
        if suffix == ".dawproject":
            project = import_dawproject(args.input, sample_rate=args.rate)
        elif suffix in (".json", ".mtp", ".msgpack"):
            project = Project.load(args.input)
        elif suffix == ".rpp":
            project = import_rpp(args.input, sample_rate=args.rate)
        else:  # .otio, or what an installed OTIO adapter reads (FCP 7 XML, AAF, …)
            project = import_otio(args.input, sample_rate=args.rate)
    for w in caught:
        console.print(f"warning: {w.message}")
    if args.output.suffix.lower() == ".dawproject":
        path = project.export_dawproject(args.output, embed=not args.reference_media)
    elif args.output.suffix.lower() == ".otio":
        path = project.export_otio(args.output)
    else:
        path = project.save(args.output)
    console.print(f"converted {args.input} ({len(project.tracks)} tracks) into {path}")


def cmd_play(args: argparse.Namespace, console: Console) -> None:
    """Play a project file with a terminal transport."""
    _play(_open(args, console), args, console)


def _open(args: argparse.Namespace, console: Console) -> Project:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RecoveryWarning)
        warnings.simplefilter("always", EffectWarning)
        project = Project.load(args.project, recover=args.recover)
    for w in caught:
        if issubclass(w.category, RecoveryWarning):
            console.print(f"note: {w.message}")
        elif issubclass(w.category, EffectWarning):
            console.print(f"warning: {w.message}")
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    for source in project.pool.offline:
        console.print(f"offline: {source.path} ({source.offline}); relink it to hear it")
    budget = getattr(args, "pool_budget", None)
    if budget is not None:
        if not budget >= 0:
            raise ValueError(f"--pool-budget must be 0 or more MiB, not {budget}")
        project.pool.budget = int(budget * 2**20)
    return project


def cmd_collect(args: argparse.Namespace, console: Console) -> None:
    """Copy a project and its media into one folder."""
    from mixtree.jobs.collect import collect

    path = collect(args.project, args.folder)
    console.print(f"collected {args.project} with its media into {path}")


def cmd_render(args: argparse.Namespace, console: Console) -> None:
    """Render a project file."""
    project = _open(args, console)
    took = _render(project, args.output, args.start, args.end, args.format, args.block, console, args.threads)
    console.print(f"rendered {args.output} in {took:.2f} s")


def cmd_stems(args: argparse.Namespace, console: Console) -> None:
    """Render a project file's top-level tracks to one file each."""
    from mixtree.jobs.stems import export_stems

    project = _open(args, console)
    duration = _duration(args.start, args.end)
    t0 = time.perf_counter()
    with render_progress(f"rendering stems into {args.output}", console) as progress:
        paths = export_stems(
            project, args.output, args.start, duration, subtype=args.format, extension=args.type,
            blocksize=args.block, progress=progress, threads=args.threads,
        )  # fmt: skip
    for path in paths:
        console.print(f"  {path}")
    console.print(f"rendered {len(paths)} stems in {time.perf_counter() - t0:.2f} s")


def cmd_bounce(args: argparse.Namespace, console: Console) -> None:
    """Bounce one track of a project file and save the project."""
    from mixtree.model.structure import walk

    project = _open(args, console)
    track = _find_track(project, args.track)
    if track is project.master:
        raise ValueError("the master is the mix: render it (mixtree render) instead of bouncing it")
    clips = [c for t in walk([track]) if isinstance(t, AudioTrack) for c in t.clips]
    missing = {c.source.path.name for c in clips if c.source.offline}
    if missing:
        # a bounce of silence would be saved over the project, and the original muted
        raise ValueError(f"cannot bounce {track.name!r}: its media are offline ({', '.join(sorted(missing))})")
    t0 = time.perf_counter()
    new = project.bounce(track.id)
    path = project.save(args.output or args.project)
    clip = new.clips[0]
    console.print(
        f"bounced {track.name!r} into {new.name!r} ({clip.duration:.2f} s, {clip.source.path.name}) "
        f"in {time.perf_counter() - t0:.2f} s; the original is muted; saved {path}"
    )


def _find_track(project: Project, key: str) -> Track:
    if key.startswith("#") and key[1:].isdigit():
        return project.track(int(key[1:]))
    named = [t for t in project.tracks if t.name == key]
    if len(named) == 1:
        return named[0]
    names = ", ".join(repr(t.name) for t in project.tracks)
    problem = "more than one track is" if named else "no track is"
    raise ValueError(f"{problem} called {key!r} (give #id; tracks: {names})")


def cmd_info(args: argparse.Namespace, console: Console) -> None:
    """Describe a project file."""
    project = _open(args, console)
    console.print(f"{args.project}: {project.sample_rate} Hz")
    _describe(project, console)
    for s in project.pool:
        state = f"OFFLINE ({s.offline})" if s.offline else f"file at {s.original_rate} Hz"
        console.print(f"  source #{s.id} {s.path}: {s.duration:.3f} s, {s.channels} ch, {state}")
    for lane in sorted(project.lanes, key=lambda lane: lane.id):
        unit = "s" if lane.time_base == "seconds" else "beats"
        times = lane.points
        span = f", {times[0].time:g}..{times[-1].time:g} {unit}" if times else ""
        console.print(f"  lane #{lane.id} {lane.label}: {lane.mode}, {len(times)} points{span}")
    tempo = project.tempo_map
    if len(tempo.tempos) > 1:
        ramps = sum(c.ramp for c in tempo.tempos)
        console.print(f"  tempo: {len(tempo.tempos)} changes ({ramps} ramps), {tempo.bpm_at(0):g} bpm at the start")


def cmd_plugins(args: argparse.Namespace, console: Console) -> None:
    """Scan for plugins (each probed in a child process) or list the last scan."""
    from mixtree.effects.plugins import scan

    results = scan.scan(args.path, args.timeout) if args.action == "scan" else scan.cached()
    if not results:
        console.print("no plugins found" if args.action == "scan" else "no scan yet: run `mixtree plugins scan`")
        return
    for r in results:
        if r.error is not None:
            console.print(f"  [red]FAILED[/red] {r.format} {r.path}: {r.error}", markup=True, highlight=False)
        for info in r.plugins:
            kind = "instrument" if info.instrument else f"{info.inputs} in, {info.outputs} out"
            console.print(f"  {info.format} {info.name} ({kind}): {info.uri}", markup=False, highlight=False)
    failed = sum(1 for r in results if r.error is not None)
    found = sum(len(r.plugins) for r in results)
    console.print(f"{found} plugins in {len(results) - failed} bundles; {failed} failed to load")


def cmd_batch(args: argparse.Namespace, console: Console) -> int:
    """Render projects, or a grid of parameter values over each, with a manifest; 1 if a job failed."""
    import json

    from mixtree import batch

    grid = None
    if args.grid is not None:
        try:
            grid = json.loads(args.grid.read_text())
        except (OSError, ValueError) as exc:
            raise ValueError(f"cannot read the grid '{args.grid}': {exc}") from None
    out: Path = args.output
    jobs = []
    for project in args.projects:
        # one project: DIR/song.flac; a grid over it: DIR/song/00000.flac, ...
        base = str(out / project.stem / "{index:05d}") if grid is not None else str(out / project.stem)
        jobs += batch.grid(
            project, grid, out=f"{base}.{args.format}", stems=f"{base}-stems" if args.stems else None,
            stem_type=args.format, start=args.start, duration=_duration(args.start, args.end),
            normalize_lufs=args.normalize, first_index=len(jobs),
        )  # fmt: skip
    report = batch.render(
        jobs, workers=args.workers, cluster="ray" if args.ray is not None else None, address=args.ray or None,
        manifest=out / "manifest.jsonl", resume=not args.no_resume, progress=console, imports=args.imports,
    )  # fmt: skip
    for row in report.failures[:10]:
        what = f"  job {row['index']} ({row['project']}, {row['parameters']}): {row['error']}"
        console.print(what, markup=False, soft_wrap=True)
    if len(report.failures) > 10:
        console.print(f"  … and {len(report.failures) - 10} more: see the manifest")
    console.print(report.summary(), markup=False, soft_wrap=True)
    return 1 if report.failures else 0


def _describe(project: Project, console: Console) -> None:
    clips = sum(len(t.clips) for t in project.tracks if isinstance(t, AudioTrack))
    console.print(f"{len(project.tracks)} tracks, {clips} clips, {len(project.pool)} sources, {project.duration:.3f} s")
    for t in project.tracks:
        flags = "".join(f for f, on in (("M", t.mute), ("S", t.solo)) if on)
        n = len(t.clips) if isinstance(t, AudioTrack) else len(t.midi_clips) if isinstance(t, MidiTrack) else 0
        console.print(f"  #{t.id} {t.name}: {t.volume_db:+.1f} dB, pan {t.pan:+.2f}, {n} clips {flags}".rstrip())


COMMANDS = {
    "demo": cmd_demo,
    "collect": cmd_collect,
    "render": cmd_render,
    "stems": cmd_stems,
    "bounce": cmd_bounce,
    "info": cmd_info,
    "play": cmd_play,
    "studio": cmd_studio,
    "import-midi": cmd_import_midi,
    "plugins": cmd_plugins,
    "convert": cmd_convert,
    "batch": cmd_batch,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``mixtree`` command; return its exit status."""
    args = _parser().parse_args(argv)
    console = Console(highlight=False)
    try:
        status = COMMANDS[args.command](args, console)
    except (MixtreeError, ValueError, OSError) as exc:
        print(f"mixtree {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return status or 0


if __name__ == "__main__":
    sys.exit(main())
