"""What is fuzzed, from which seeds, and the property every input must keep."""

from __future__ import annotations

import io
import shutil
import traceback
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf

from fuzz import messages
from fuzz.mutate import Mutator, json_mutator, msgpack_mutator, mutate_bytes, text_mutator, zip_mutator

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
RATE = 48000

#: Real files on a Debian system that make seeds when present (sound-theme-freedesktop).
SYSTEM_SOUNDS = Path("/usr/share/sounds/freedesktop/stereo")


class PropertyViolation(Exception):
    """An input broke the property: it raised an undocumented error or an error not naming the file."""


@dataclass(frozen=True)
class Target:
    """One loader under fuzz: it writes each input to a file ending in ``suffix`` and calls
    ``load`` on it, which must return or raise one of ``errors`` naming that file."""

    name: str
    suffix: str
    load: Callable[[Path], object]
    errors: tuple[type[BaseException], ...]
    seeds: Callable[[Path, bool], list[bytes]]
    mutate: Mutator = mutate_bytes
    #: Files the inputs refer to, copied beside each input (a project's media).
    companions: Callable[[Path], None] = field(default=lambda folder: None)
    #: For messages rather than files: ``feed(data, folder)`` hands the input on and raises
    #: `PropertyViolation` itself where the property needs more than "no other exception".
    feed: Callable[[bytes, Path], None] | None = None


def check(target: Target, data: bytes, folder: Path) -> None:
    """Write ``data`` as ``target``'s input in ``folder`` and load it (or ``feed`` it, for a
    target of messages).

    Raises `PropertyViolation` if the load raises anything but the target's documented
    errors, or one that does not name the file. Warnings are allowed (they are how a
    loader reports what it repaired).
    """
    if target.feed is not None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                target.feed(data, folder)
        except PropertyViolation:
            raise
        except Exception as exc:  # the property: nothing undocumented escapes a message's handling
            detail = "".join(traceback.format_exception(exc)[-6:])
            raise PropertyViolation(f"undocumented {type(exc).__name__}: {exc}\n{detail}") from exc
        return
    path = folder / f"input{target.suffix}"
    path.write_bytes(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            target.load(path)
    except target.errors as exc:
        named = getattr(exc, "path", None)
        if named is None or Path(named).name != path.name or path.name not in str(exc):
            raise PropertyViolation(f"{type(exc).__name__} does not name the file: {exc}") from exc
    except Exception as exc:  # the property: nothing else may escape
        detail = "".join(traceback.format_exception(exc)[-6:])
        raise PropertyViolation(f"undocumented {type(exc).__name__}: {exc}\n{detail}") from exc


# -- seeds -----------------------------------------------------------------------------------
def _tone(frames: int, channels: int, rate: int = RATE) -> np.ndarray:
    t = np.arange(frames)[:, None] / rate
    return (0.5 * np.sin(2 * np.pi * 440.0 * t * np.arange(1, channels + 1))).astype(np.float32)


def _encoded(fmt: str, subtype: str, frames: int, channels: int, rate: int = RATE) -> bytes:
    buffer = io.BytesIO()
    buffer.name = f"seed.{fmt.lower()}"
    sf.write(buffer, _tone(frames, channels, rate), rate, format=fmt, subtype=subtype)
    return buffer.getvalue()


def audio_seeds(scratch: Path, system: bool) -> list[bytes]:
    """Return small files in every container the pool reads, plus Debian's sounds if ``system``."""
    seeds = [
        _encoded("WAV", "PCM_16", 64, 1),
        _encoded("WAV", "FLOAT", 48, 2, 44100),
        _encoded("WAV", "PCM_24", 32, 3),
        _encoded("WAV", "IMA_ADPCM", 512, 1),
        _encoded("WAVEX", "PCM_16", 32, 2),
        _encoded("RF64", "PCM_16", 32, 2),
        _encoded("W64", "PCM_16", 32, 1),
        _encoded("AIFF", "PCM_16", 32, 1),
        _encoded("CAF", "ALAC_16", 64, 1),
        _encoded("FLAC", "PCM_16", 600, 1),
        _encoded("FLAC", "PCM_24", 300, 2, 96000),
        _encoded("OGG", "VORBIS", 1024, 1),
        _encoded("OGG", "OPUS", 960, 1),
    ]
    try:
        seeds.append(_encoded("MP3", "MPEG_LAYER_III", 1152, 1))
    except (sf.LibsndfileError, TypeError, ValueError):  # a libsndfile without MPEG support
        pass
    if system and SYSTEM_SOUNDS.is_dir():
        seeds += [p.read_bytes() for p in sorted(SYSTEM_SOUNDS.glob("*.oga")) if p.stat().st_size < 40_000]
    return seeds


def midi_seeds(scratch: Path, system: bool) -> list[bytes]:
    """Return the Standard MIDI Files in tests/data."""
    return [p.read_bytes() for p in sorted((DATA / "midi").glob("*.mid"))]


def _seed_project(folder: Path):  # noqa: ANN202 - a Project, imported late
    import mixtree as mt
    from mixtree import effects as fx

    media = folder / "media"
    media.mkdir(parents=True, exist_ok=True)
    sf.write(str(media / "tone.wav"), _tone(4800, 1), RATE, subtype="PCM_16")
    p = mt.Project(sample_rate=RATE)
    src = p.pool.load(media / "tone.wav")
    a = p.add_audio_track("A", volume_db=-3.0, pan=0.2)
    a.add_clip(src, start=0.0, duration=0.1, fade_in=0.01, fade_out=0.01)
    a.add_effect(fx.EQ3(low_db=2.0))
    a.add_effect(fx.Compressor(threshold_db=-12.0, ratio=3.0))
    a.automate("volume_db").add_point(0.05, -6.0)
    b = p.add_audio_track("B")
    b.add_clip(src, start=0.1, duration=0.1)
    b.add_effect(fx.Delay(time=0.01, feedback=0.3))
    bus = p.add_bus("Verb")
    bus.add_effect(fx.Reverb())
    b.add_send(bus.id, level_db=-6.0)
    group = p.create_metatrack([a.id, b.id], name="Group")
    group.speed = 0.5
    keys = p.add_midi_track("Keys")
    clip = keys.add_midi_clip(start=0.0, duration=0.5)
    clip.add_note(pitch=60, velocity=100, start=0.0, duration=0.25)
    return p


def _project_companions(folder: Path) -> None:
    if not (folder / "media" / "tone.wav").exists():
        (folder / "media").mkdir(exist_ok=True)
        sf.write(str(folder / "media" / "tone.wav"), _tone(4800, 1), RATE, subtype="PCM_16")


def project_seeds(kind: str) -> Callable[[Path, bool], list[bytes]]:
    """Return a seed maker of project files of ``kind`` (``.json`` or ``.mtp``)."""

    def seeds(scratch: Path, system: bool) -> list[bytes]:
        folder = scratch / "seed-project"
        project = _seed_project(folder)
        project.save(folder / f"song{kind}")
        found = [(folder / f"song{kind}").read_bytes()]
        if kind == ".json":
            found += [p.read_bytes() for p in sorted((DATA / "projects").glob("*/song.json"))]
        return found

    return seeds


def _load_project(path: Path) -> object:
    from mixtree.model.project_file import load

    return load(path)


def dawproject_seeds(scratch: Path, system: bool) -> list[bytes]:
    """Return a DAWproject exported from the seed project and Bitwig's example wrapped as one."""
    from mixtree.exchange import export_dawproject

    folder = scratch / "seed-dawproject"
    project = _seed_project(folder)
    export_dawproject(project, folder / "song.dawproject")
    seeds = [(folder / "song.dawproject").read_bytes()]
    example = DATA / "dawproject" / "bitwig-studio-5.0-project.xml"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("project.xml", example.read_bytes())
    return [*seeds, buffer.getvalue()]


def _load_dawproject(path: Path) -> object:
    from mixtree.exchange import import_dawproject

    unpacked = path.parent / "unpacked"
    try:
        return import_dawproject(path, media_dir=unpacked)
    finally:
        shutil.rmtree(unpacked, ignore_errors=True)


def rpp_seeds(scratch: Path, system: bool) -> list[bytes]:
    """Return the REAPER projects in tests/data."""
    return [p.read_bytes() for p in sorted((DATA / "rpp").glob("*.RPP"))]


def _load_rpp(path: Path) -> object:
    from mixtree.exchange import import_rpp

    return import_rpp(path)


def otio_seeds(scratch: Path, system: bool) -> list[bytes]:
    """Return an OTIO file exported from the seed project and the one in tests/data."""
    from mixtree.exchange import export_otio

    folder = scratch / "seed-otio"
    project = _seed_project(folder)
    export_otio(project, folder / "song.otio")
    return [(folder / "song.otio").read_bytes(), (DATA / "otio" / "no_metadata.otio").read_bytes()]


def _load_otio(path: Path) -> object:
    from mixtree.exchange import import_otio

    return import_otio(path)


def _pool_load(path: Path) -> object:
    import mixtree as mt

    return mt.Project(sample_rate=RATE).pool.load(path)


def _smf_read(path: Path) -> object:
    from mixtree.io.midi_file import read

    return read(path)


def _unused(path: Path) -> object:
    raise AssertionError("a target of messages is fed, not loaded")


def targets() -> dict[str, Target]:
    """Return every fuzz target by name."""
    from mixtree.errors import MediaError, MidiFileError, ProjectFileError

    found = [
        Target("pool.load", ".wav", _pool_load, (MediaError,), audio_seeds),
        Target("smf", ".mid", _smf_read, (MidiFileError,), midi_seeds),
        Target(
            "project.json",
            ".json",
            _load_project,
            (ProjectFileError,),
            project_seeds(".json"),
            json_mutator,
            _project_companions,
        ),
        Target(
            "project.mtp",
            ".mtp",
            _load_project,
            (ProjectFileError,),
            project_seeds(".mtp"),
            msgpack_mutator,
            _project_companions,
        ),
        Target(
            "dawproject",
            ".dawproject",
            _load_dawproject,
            (ProjectFileError,),
            dawproject_seeds,
            zip_mutator("project.xml"),
        ),
        Target("rpp", ".RPP", _load_rpp, (ProjectFileError,), rpp_seeds, text_mutator),
        Target("otio", ".otio", _load_otio, (ProjectFileError,), otio_seeds, json_mutator),
        Target("osc", ".osc", _unused, (), messages.osc_seeds, messages.osc_mutator, feed=messages.feed_osc),
        Target("web", ".req", _unused, (), messages.web_seeds, messages.web_mutator, feed=messages.feed_web),
    ]
    return {t.name: t for t in found}
