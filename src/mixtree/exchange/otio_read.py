"""Read an OpenTimelineIO timeline (``.otio``, or FCP 7 XML, AAF, … where OTIO's adapters
for them are installed) into a new project.

Audio tracks become audio tracks; a nested ``Stack`` becomes a metatrack (a leading
``Gap`` its offset, a ``LinearTimeWarp`` its speed); clips keep their media and source
range, a ``LinearTimeWarp`` on a clip is its varispeed. Missing media open offline.
What mixtree wrote under ``metadata["mixtree"]`` (faders, effects, sends, automation,
MIDI, exact times) is read back. Everything else is named in one `ExchangeWarning`.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import opentimelineio as otio

from mixtree.effects.base import Effect
from mixtree.effects.offline import OfflineEffect
from mixtree.errors import MediaError, MixtreeError, ProjectFileError
from mixtree.exchange.otio_write import EXACT, KEY, plain
from mixtree.exchange.report import malformed_file, warn_lost
from mixtree.model.automation import Address
from mixtree.model.operations import AddSource
from mixtree.model.pool import Source, decode_source, offline_source
from mixtree.model.project import Project
from mixtree.model.tempo import TempoMap
from mixtree.model.tracks import AudioTrack, Metatrack, MidiTrack, Track

_FIELDS = ("volume_db", "pan", "mute", "solo", "color", "collapsed", "solo_safe", "pitch", "preserve_pitch")


def _inf(value: Any) -> Any:
    return -math.inf if value is None else value


def _metadata(item: Any) -> dict[str, Any]:
    meta = plain(item.metadata.get(KEY, {}) or {})
    if isinstance(meta, dict) and isinstance(meta.get(EXACT), str):
        try:  # what mixtree wrote, as Python reads it: exact (OTIO's reader may be a step off)
            exact = json.loads(meta[EXACT])
        except ValueError:
            exact = None
        if isinstance(exact, dict):
            return exact
    return meta if isinstance(meta, dict) else {}


def _seconds(t: otio.opentime.RationalTime) -> float:
    return float(t.to_seconds())


class _Reader:
    def __init__(self, project: Project, path: Path) -> None:
        self.project = project
        self.path = path
        self.lost: Counter[str] = Counter()
        self.by_old: dict[int, Track] = {}
        self.mixer: list[tuple[Track, dict[str, Any]]] = []
        self.aliases: list[tuple[AudioTrack, dict[str, Any], float]] = []
        self.sources: dict[str, Source] = {}
        # Clips are placed once every lane is read, in the order mixtree wrote them (the
        # order they mix in), else in the order they were met.
        self.placing: list[tuple[float, int, Callable[[], object]]] = []

    def fail(self, where: str, reason: str) -> ProjectFileError:
        return ProjectFileError(self.path, where, reason)

    def edit(self, where: str, action: Any) -> Any:
        try:
            return action()
        except ValueError as exc:
            if isinstance(exc, MixtreeError):
                raise
            raise self.fail(where, str(exc)) from exc

    # -- tracks ------------------------------------------------------------------------
    def track(self, item: Any, parent: Metatrack | None, where: str) -> None:
        if isinstance(item, otio.schema.Stack):
            self.stack_alone(item, parent, where)
            return
        if not isinstance(item, otio.schema.Track):
            self.lost[f"{type(item).__name__} items where tracks belong ignored"] += 1
            return
        if item.kind != otio.schema.TrackKind.Audio:
            self.lost[f"{item.kind} tracks ignored"] += 1
            return
        meta = _metadata(item)
        if "lane_of" in meta:
            target = self.by_old.get(meta["lane_of"])
            if isinstance(target, AudioTrack | MidiTrack):
                self.items(item, target, where)
                return
        kind = meta.get("kind") or _kind(item)
        name = item.name or "Track"
        parent_id = parent.id if parent is not None else None
        p = self.project
        if kind == "mixed":  # clips beside nested stacks: a group of an audio track and the stacks
            group = self.edit(where, lambda: p.add_metatrack(name, parent_id=parent_id))
            track: Track = self.edit(where, lambda: p.add_audio_track(name, parent_id=group.id))
            self.items(item, track, where, group)
            return
        if kind == "metatrack":
            track = self.edit(where, lambda: p.add_metatrack(name, parent_id=parent_id))
        elif kind == "bus":
            track = self.edit(where, lambda: p.add_bus(name, parent_id=parent_id))
        elif kind == "midi":
            instrument = self.effect(meta.get("instrument", {}).get("state"), where, instrument=True)
            track = self.edit(where, lambda: p.add_midi_track(name, instrument, parent_id=parent_id))
        else:
            track = self.edit(where, lambda: p.add_audio_track(name, parent_id=parent_id))
        if "id" in meta:
            self.by_old[meta["id"]] = track
        self.mixer.append((track, meta))
        if isinstance(track, Metatrack):
            self.metatrack(item, track, where)
        else:
            self.items(item, track, where)

    def stack_alone(self, stack: otio.schema.Stack, parent: Metatrack | None, where: str) -> None:
        # A Stack where a track belongs (a timeline's own nesting): a metatrack without transform.
        m = self.edit(where, lambda: self.project.add_metatrack(stack.name or "Stack", parent_id=parent and parent.id))
        for k, child in enumerate(stack):
            self.track(child, m, f"{where}[{k}]")

    def metatrack(self, item: otio.schema.Track, m: Metatrack, where: str) -> None:
        position = 0.0
        seen = False
        for k, child in enumerate(item):
            here = f"{where}[{k}]"
            if isinstance(child, otio.schema.Gap):
                position += _seconds(child.duration())
            elif isinstance(child, otio.schema.Stack) and not seen:
                seen = True
                self.timewarp(child, m, position, here)
            else:
                self.lost["items beside a group's stack ignored"] += 1

    def timewarp(self, stack: otio.schema.Stack, m: Metatrack, position: float, where: str) -> None:
        """Give ``m`` the offset and speed of ``stack`` placed at ``position``, and its tracks."""
        speed = 1.0
        for effect in stack.effects:
            if isinstance(effect, otio.schema.LinearTimeWarp):
                speed *= float(effect.time_scalar)
            else:
                self.lost[f"{_label(effect)} effects on stacks ignored"] += 1
        if speed <= 0.0:
            self.lost["reversed or frozen stacks played forwards at speed 1"] += 1
            speed = 1.0
        skip = _seconds(stack.source_range.start_time) if stack.source_range is not None else 0.0
        offset = position - skip / speed
        self.edit(where, lambda: setattr(m, "speed", speed))
        self.edit(where, lambda: setattr(m, "offset", offset))
        for j, child in enumerate(stack):
            self.track(child, m, f"{where}[{j}]")

    # -- items -------------------------------------------------------------------------
    def items(self, item: otio.schema.Track, track: Track, where: str, group: Metatrack | None = None) -> None:
        position = 0.0
        for k, child in enumerate(item):
            here = f"{where}[{k}]"
            if isinstance(child, otio.schema.Transition):
                self.lost["transitions ignored"] += 1
                continue
            length = _seconds(child.duration())
            if isinstance(child, otio.schema.Clip):
                self.clip(child, track, position, length, here)
            elif isinstance(child, otio.schema.Stack) and group is not None:
                sub = self.edit(here, lambda c=child: self.project.add_metatrack(c.name or "Stack", parent_id=group.id))
                self.timewarp(child, sub, position, here)
            elif isinstance(child, otio.schema.Stack):
                self.lost["stacks inside clip tracks ignored"] += 1
            elif not isinstance(child, otio.schema.Gap):
                self.lost[f"{type(child).__name__} items ignored"] += 1
            position += length

    def clip(self, clip: otio.schema.Clip, track: Track, position: float, length: float, where: str) -> None:
        meta = _metadata(clip)
        if "alias" in meta and isinstance(track, AudioTrack):
            self.aliases.append((track, meta, position))  # placed with the mixer data
            return
        if isinstance(track, MidiTrack):
            self.later(meta, lambda: self.midi(clip, track, meta, position, length, where))
            return
        if not isinstance(track, AudioTrack):
            self.lost["clips on buses ignored"] += 1
            return
        speed = 1.0
        for effect in clip.effects:
            if isinstance(effect, otio.schema.LinearTimeWarp) and effect.time_scalar > 0.0:
                speed *= float(effect.time_scalar)
            else:
                self.lost[f"{_label(effect)} clip effects ignored"] += 1
        ref = clip.media_reference
        source_range = clip.source_range or clip.available_range()
        start_in_media = _seconds(source_range.start_time)
        available = getattr(ref, "available_range", None)
        if available is not None:
            start_in_media -= _seconds(available.start_time)
        source = self.source(ref, available, where)
        values: dict[str, Any] = {
            "start": position,
            "duration": length,
            "offset": max(start_in_media, 0.0),
            "speed": speed,
            "muted": not clip.enabled,
        }
        for name in ("start", "duration", "offset", "speed", "gain_db", "fade_in", "fade_out", "fade_curve"):
            if name in meta:
                values[name] = _inf(meta[name])
        for name in ("reversed", "muted"):
            if name in meta:
                values[name] = meta[name]
        rate = source.sample_rate
        room = (source.frames / rate - values["offset"]) / values["speed"]
        if values["duration"] > room + 0.5 / rate:
            self.lost["clips cut to the end of their media"] += 1
            values["duration"] = room
        if values["duration"] * rate >= 1.0:
            self.later(meta, lambda: self.edit(where, lambda: track.add_clip(source, **values)))

    def later(self, meta: dict[str, Any], place: Callable[[], object]) -> None:
        """Place a clip after every lane is read: by the order mixtree wrote, else as met."""
        self.placing.append((float(meta.get("order", len(self.placing))), len(self.placing), place))

    def place_clips(self) -> None:
        """Place the clips read, in their order."""
        for _, _, place in sorted(self.placing, key=lambda row: row[:2]):
            place()

    def midi(
        self, clip: otio.schema.Clip, track: MidiTrack, meta: dict[str, Any], position: float, length: float, where: str
    ) -> None:
        start, duration = meta.get("start", position), meta.get("duration", length)
        offset = meta.get("offset", _seconds(clip.source_range.start_time) if clip.source_range else 0.0)
        c = self.edit(where, lambda: track.add_midi_clip(start, duration, offset))
        for pitch, velocity, at, d in meta.get("notes", []):
            self.edit(where, lambda p=pitch, v=velocity, a=at, d=d: c.add_note(p, v, a, d))
        for time, kind, value, number in meta.get("events", []):
            self.edit(where, lambda t=time, k=kind, v=value, n=number: c.add_event(t, k, v, n))

    # -- media -------------------------------------------------------------------------
    def source(self, ref: Any, available: Any, where: str) -> Source:
        url = getattr(ref, "target_url", None) if isinstance(ref, otio.schema.ExternalReference) else None
        key = url or f"missing:{where}"
        if key in self.sources:
            return self.sources[key]
        rate = self.project.sample_rate
        frames = max(1, round(_seconds(available.duration) * rate)) if available is not None else rate
        ident = self.project.registry.new_id()
        source: Source | None = None
        reason = "no media reference"
        path = Path(ref.name or "missing") if ref is not None and ref.name else Path("missing")
        if url:
            path = _path_of(url, self.path.parent)
            try:
                source = decode_source(ident, path, rate)
            except MediaError as exc:
                reason = exc.reason
        if source is None:
            source = offline_source(ident, path, rate, frames, 2, reason)
            self.lost[f"media offline ({path.name}: {reason})"] += 1
        self.project.apply(AddSource(source))
        self.sources[key] = source
        return source

    # -- mixer data --------------------------------------------------------------------
    def effect(self, state: Any, where: str, instrument: bool = False) -> Effect | None:
        if not isinstance(state, dict):
            return None
        try:
            return Effect.from_state(state)
        except (ValueError, TypeError, KeyError, OSError, MixtreeError) as exc:
            self.lost[f"effects offline here ({exc})"] += 1
            return OfflineEffect(state, instrument=instrument, reason=str(exc))

    def apply_mixer(self) -> None:
        """Give every track the mixer data mixtree wrote for it, then place the aliases."""
        for track, meta in self.mixer:
            self.mixer_of(track, meta)
        for host, meta, position in sorted(self.aliases, key=lambda row: row[1].get("order", 0)):
            target = self.by_old.get(meta["alias"])
            if not isinstance(target, Metatrack):
                self.lost["aliases of metatracks not in the file dropped"] += 1
                continue
            start = meta.get("start", position)
            self.edit(
                "alias", lambda h=host, t=target, s=start, m=meta: h.add_alias(t.id, s, m["duration"], m["offset"])
            )

    def mixer_of(self, track: Track, meta: dict[str, Any]) -> None:
        where = f"metadata of {track.name!r}"
        for name in _FIELDS:
            if name in meta and hasattr(type(track), name):
                value = _inf(meta[name]) if name == "volume_db" else meta[name]
                self.edit(where, lambda n=name, v=value: setattr(track, n, v))
        for entry in meta.get("effects", []):
            effect = self.effect(entry.get("state"), where)
            if effect is not None:
                self.edit(where, lambda e=effect: track.add_effect(e))
                self.lanes(effect.id, entry.get("lanes", {}), where)
        if isinstance(track, MidiTrack) and "instrument" in meta:
            self.lanes(track.instrument.id, meta["instrument"].get("lanes", {}), where)
        for entry in meta.get("sends", []):
            bus = self.by_old.get(entry.get("bus"))
            if bus is None:
                self.lost["sends to buses not in the file dropped"] += 1
                continue
            level, pre = _inf(entry["level_db"]), entry.get("pre_fader", False)
            send = self.edit(where, lambda b=bus, lv=level, pr=pre: track.add_send(b.id, lv, pr))
            self.lanes(send.id, entry.get("lanes", {}), where)
        self.lanes(track.id, meta.get("lanes", {}), where)
        if isinstance(track, Metatrack) and isinstance(meta.get("tempo_map"), dict):
            tm = _tempo_map(meta["tempo_map"])
            self.edit(where, lambda: setattr(track, "tempo_map", tm))

    def lanes(self, owner: int | None, lanes: dict[str, Any], where: str) -> None:
        for name, doc in lanes.items():
            lane = self.edit(where, lambda n=name: self.project.automate(Address(owner, n)))  # type: ignore[arg-type]
            lane.time_base = doc.get("time_base", "seconds")
            self.edit(where, lambda lane=lane, d=doc: lane.set_points([tuple(p) for p in d.get("points", [])]))
            lane.mode = doc.get("mode", "read")


def _tempo_map(doc: dict[str, Any]) -> TempoMap:
    tm = TempoMap()
    _fill_tempo(tm, doc)
    return tm


def _fill_tempo(tm: TempoMap, doc: dict[str, Any]) -> None:
    for change in doc.get("tempo", []):
        tm.set_tempo(change[0], change[1], ramp=len(change) > 2)
    for bar, n, d in doc.get("meters", []):
        tm.set_meter(bar, n, d)


def _label(effect: otio.schema.Effect) -> str:
    """Return what to call an effect in the warning (AAF keeps its operation's name aside)."""
    aaf = plain(effect.metadata.get("AAF", {}))
    operation = aaf.get("Operation", {}) if isinstance(aaf, dict) else {}
    name = operation.get("Name") if isinstance(operation, dict) else None
    return str(effect.effect_name or name or type(effect).__name__)


def _kind(item: otio.schema.Track) -> str:
    """Return how a foreign track maps: audio, metatrack (gaps then one stack) or mixed."""
    stacks = [c for c in item if isinstance(c, otio.schema.Stack)]
    if not stacks:
        return "audio"
    if len(stacks) == 1 and all(isinstance(c, otio.schema.Gap | otio.schema.Stack) for c in item):
        return "metatrack"
    return "mixed"


def _path_of(url: str, folder: Path) -> Path:
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    if parsed.scheme and len(parsed.scheme) > 1:
        return Path(url)  # not a local file: it opens offline
    path = Path(unquote(url))
    return path if path.is_absolute() else folder / path


#: The most an ``.otio`` file may hold, bytes (it is read whole, twice).
MAX_OTIO_BYTES = 256 << 20


def _refuse_what_crashes_otio(path: Path) -> None:
    """Refuse an OTIO JSON document that OpenTimelineIO's C++ reader would crash the process on.

    OpenTimelineIO 0.18 dies (SIGSEGV) on a ``media_reference`` that is a list or a plain
    mapping holding OTIO objects instead of an OTIO object itself (found by ``python -m
    fuzz``), so its type is checked first.
    """
    if path.stat().st_size > MAX_OTIO_BYTES:
        raise ProjectFileError(path, "", f"larger than {MAX_OTIO_BYTES} bytes")
    try:
        doc = json.loads(path.read_bytes())
    except (ValueError, RecursionError) as exc:
        raise ProjectFileError(path, "", f"OpenTimelineIO cannot read it: not valid JSON: {exc}") from exc
    stack: list[tuple[Any, str]] = [(doc, "")]
    while stack:
        node, where = stack.pop()
        if isinstance(node, dict):
            ref = node.get("media_reference")
            if "OTIO_SCHEMA" in node and ref is not None and not (isinstance(ref, dict) and "OTIO_SCHEMA" in ref):
                raise ProjectFileError(path, f"{where}.media_reference", "a media reference must be an OTIO object")
            stack += [(value, f"{where}.{key}") for key, value in node.items()]
        elif isinstance(node, list):
            stack += [(value, f"{where}[{k}]") for k, value in enumerate(node)]


#: How long a child reading a file with OpenTimelineIO may take before it counts as hung, s.
PROBE_SECONDS = 60.0
#: How the reading child exits: it read the file, or OpenTimelineIO raised (any other way: it crashed).
_READ, _RAISED = 0, 3
_PROBE = f"""
import os, sys
import opentimelineio as otio
try:
    otio.adapters.read_from_file(sys.argv[1])
except BaseException:
    os._exit({_RAISED})
os._exit({_READ})
"""


def _read_in_a_child(path: Path) -> str:
    """Read ``path`` with OpenTimelineIO in a child interpreter first; return why the
    child died (a crash, a hang), or ``""`` if it read it (or failed with an exception:
    the caller reads it again and reports that).

    OpenTimelineIO's C++ reader crashes the process on some malformed documents (the
    fuzzers found several shapes of them), which no exception could report; a child that
    dies takes nothing with it. The child is a new interpreter (about 0.3 s), not a fork:
    a fork of a process with threads (an engine, a web server, numba's) may inherit a
    lock another thread held and hang. Where no child can be started, the file is read
    directly.
    """
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}  # the same modules, adapters
    try:
        child = subprocess.run(
            [sys.executable, "-c", _PROBE, str(path)],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            env=env,
            timeout=PROBE_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"OpenTimelineIO did not finish reading it within {PROBE_SECONDS:g} s"
    except OSError:
        return ""
    if child.returncode < 0:
        try:
            name = signal.Signals(-child.returncode).name
        except ValueError:
            name = f"signal {-child.returncode}"
        return f"OpenTimelineIO crashed reading it ({name}): a malformed file"
    if child.returncode not in (_READ, _RAISED):  # a crash handler in the child exited for it
        return f"OpenTimelineIO crashed reading it (exit status {child.returncode}): a malformed file"
    return ""


def import_otio(path: str | Path, sample_rate: int | None = None) -> Project:
    """Read an OpenTimelineIO file (or any format an installed OTIO adapter reads) into a
    new project.

    Parameters
    ----------
    path
        ``.otio``; ``.xml`` (FCP 7), ``.aaf`` and others where their adapters are installed.
    sample_rate
        The project's rate, Hz (default: the rate a mixtree export recorded, else 48000).

    Returns
    -------
    Project
        The project; what it cannot represent is named in one `ExchangeWarning`.

    Raises
    ------
    ProjectFileError
        The file cannot be read (no adapter for it, malformed) or holds a value the
        model refuses, naming the file and the item.
    """
    path = Path(path).expanduser().resolve()
    with malformed_file(path, otio.exceptions.OTIOError):
        if not path.is_file():
            raise ProjectFileError(path, "", "no such file")
        if path.suffix.lower() == ".otio":
            _refuse_what_crashes_otio(path)
        died = _read_in_a_child(path)
        if died:
            raise ProjectFileError(path, "", died)
        try:
            timeline = otio.adapters.read_from_file(str(path))
        except (otio.exceptions.OTIOError, ValueError, KeyError, TypeError, OSError) as exc:
            raise ProjectFileError(path, "", f"OpenTimelineIO cannot read it: {exc}") from exc
        if not isinstance(timeline, otio.schema.Timeline):
            timelines = list(timeline.find_children(descended_from_type=otio.schema.Timeline)) if timeline else []
            if not timelines:
                raise ProjectFileError(path, "", "no timeline in the file")
            timeline = timelines[0]
        meta = _metadata(timeline)
        project = Project(sample_rate or int(meta.get("sample_rate", 48000)))
        reader = _Reader(project, path)
        _fill_tempo(project.tempo_map, meta)
        if isinstance(meta.get("master"), dict):
            reader.mixer.append((project.master, meta["master"]))
        for k, item in enumerate(timeline.tracks):
            reader.track(item, None, f"tracks[{k}]")
        reader.place_clips()
        reader.apply_mixer()
        if timeline.tracks.markers or any(t.markers for t in timeline.tracks):
            reader.lost["markers ignored"] += 1
        project.forget_history()
        project.version = 0
        warn_lost(path, reader.lost, stacklevel=3)
        return project
