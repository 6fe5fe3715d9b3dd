"""Write a project as a DAWproject 1.0 file (a ZIP of project.xml, metadata.xml and media).

The mapping is in ``docs/exchange.md``. Times are written in seconds (the model's unit,
so they round-trip exactly); the tempo map and lanes drawn in beats keep their beats.
What DAWproject has no place for (clip gain, reverse, fade curves, metatrack pitch,
the settings of mixtree's own devices) goes to
``mixtree/extras.json`` and ``mixtree/devices/*.json`` inside the archive, which other
applications ignore and `mixtree.exchange.dawproject_read` reads back.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import zipfile
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

import numpy as np

from mixtree.dsp.curves import lane_value, shape_code
from mixtree.effects.base import Effect
from mixtree.effects.compressor import Compressor
from mixtree.effects.filters import EQ3
from mixtree.errors import SaveError
from mixtree.io.atomic import sync_folder
from mixtree.model.automation import AutomationLane
from mixtree.model.project import Project
from mixtree.model.structure import walk
from mixtree.model.tracks import AudioTrack, BusTrack, MasterTrack, Metatrack, MidiTrack, Track

#: How far (in the parameter's unit: dB, pan, …) a densified curve may stray from the
#: curve it stands for, between its points.
CURVE_TOLERANCE = 0.01
#: Where mixtree's own data lives inside the archive.
EXTRAS = "mixtree/extras.json"

_EXPRESSIONS = {"cc": "channelController", "pitch_bend": "pitchBend", "program": "programChange"}
_ROLES = {AudioTrack: "regular", MidiTrack: "regular", BusTrack: "effect", Metatrack: "submix", MasterTrack: "master"}
_CONTENT = {AudioTrack: "audio", MidiTrack: "notes", BusTrack: "audio", Metatrack: "tracks", MasterTrack: "audio notes"}


def num(value: float) -> str:
    """Return ``value`` as the shortest text that reads back as the same float."""
    return repr(float(value))


def _bool(value: bool) -> str:
    return "true" if value else "false"


class _Writer:
    def __init__(self, project: Project, embed: bool, folder: Path) -> None:
        self.project = project
        self.embed = embed
        self.folder = folder
        self.count = 0
        self.files: dict[str, bytes | Path] = {}
        self.media: dict[int, str] = {}  # source id -> archive path or external path
        self.channel: dict[int, str] = {}  # track id -> channel id
        self.track_ids: dict[int, str] = {}  # track id -> Track element id
        self.lanes_id: dict[int, str] = {}  # metatrack id -> its arrangement Lanes id
        self.params: dict[tuple[int, str], str] = {}  # (owner id, parameter) -> parameter element id
        self.extras: dict[str, Any] = {"clips": {}, "tracks": {}, "pans": {}}

    def nid(self) -> str:
        self.count += 1
        return f"id{self.count}"

    # -- structure ---------------------------------------------------------------------
    def project_xml(self) -> Element:
        p = self.project
        root = Element("Project", version="1.0")
        SubElement(root, "Application", name="mixtree", version=_version())
        tracks = [*walk(p.top_tracks), p.master]
        for t in tracks:
            self.track_ids[t.id] = self.nid()
            self.channel[t.id] = self.nid()
            if isinstance(t, Metatrack):
                self.lanes_id[t.id] = self.nid()
        self.transport(root)
        structure = SubElement(root, "Structure")
        for t in p.top_tracks:
            self.track(structure, t, self.channel[p.master.id])
        self.track(structure, p.master, None)
        arrangement = SubElement(root, "Arrangement", id=self.nid())
        lanes = SubElement(arrangement, "Lanes", timeUnit="seconds", id=self.nid())
        for t in p.top_tracks:
            self.track_lanes(lanes, t)
        self.track_lanes(lanes, p.master)
        self.tempo_automation(arrangement)
        SubElement(root, "Scenes")
        if any(self.extras.values()):
            self.files[EXTRAS] = json.dumps(self.extras, indent=1, sort_keys=True).encode()
        return root

    def transport(self, root: Element) -> None:
        tm = self.project.tempo_map
        transport = SubElement(root, "Transport")
        self.tempo_id = self.nid()
        self.meter_id = self.nid()
        SubElement(transport, "Tempo", unit="bpm", value=num(tm.tempos[0].bpm), min="1.0", max="1000.0")
        transport[-1].set("id", self.tempo_id)
        transport[-1].set("name", "Tempo")
        m = tm.meters[0]
        SubElement(transport, "TimeSignature", numerator=str(m.numerator), denominator=str(m.denominator))
        transport[-1].set("id", self.meter_id)

    def tempo_automation(self, arrangement: Element) -> None:
        tm = self.project.tempo_map
        if len(tm.tempos) > 1:
            points = SubElement(arrangement, "TempoAutomation", id=self.nid(), timeUnit="beats", unit="bpm")
            SubElement(points, "Target", parameter=self.tempo_id)
            for k, c in enumerate(tm.tempos):
                ramp = k + 1 < len(tm.tempos) and tm.tempos[k + 1].ramp
                SubElement(
                    points, "RealPoint", time=num(c.beat), value=num(c.bpm), interpolation="linear" if ramp else "hold"
                )
        if len(tm.meters) > 1:
            points = SubElement(arrangement, "TimeSignatureAutomation", id=self.nid(), timeUnit="beats")
            SubElement(points, "Target", parameter=self.meter_id)
            for m in tm.meters:
                SubElement(
                    points,
                    "TimeSignaturePoint",
                    time=num(tm.beat_of_bar(m.bar)),
                    numerator=str(m.numerator),
                    denominator=str(m.denominator),
                )

    def track(self, parent: Element, t: Track, destination: str | None) -> None:
        el = SubElement(parent, "Track", contentType=_CONTENT[type(t)], loaded="true", id=self.track_ids[t.id])
        el.set("name", t.name)
        if t.color is not None:
            el.set("color", t.color)
        channel = SubElement(el, "Channel", audioChannels="2", role=_ROLES[type(t)], solo=_bool(t.solo))
        channel.set("id", self.channel[t.id])
        if destination is not None:
            channel.set("destination", destination)
        self.devices(channel, t)
        self.param(SubElement(channel, "Mute", value=_bool(t.mute), name="Mute"), t.id, "mute")
        pan = SubElement(channel, "Pan", unit="normalized", min="0.0", max="1.0", value=num((t.pan + 1.0) / 2.0))
        self.param(pan, t.id, "pan")
        if t.sends:
            sends = SubElement(channel, "Sends")
            for s in t.sends:
                send = SubElement(
                    sends, "Send", destination=self.channel[s.bus_id], type="pre" if s.pre_fader else "post"
                )
                send.set("id", self.nid())
                self.param(SubElement(send, "Volume", unit="decibel", value=num(s.level_db)), s.id, "level_db")
        self.param(
            SubElement(channel, "Volume", unit="decibel", value=num(t.volume_db), name="Volume"), t.id, "volume_db"
        )
        extra = self.track_extra(t)
        if extra:
            self.extras["tracks"][el.get("id")] = extra
        if isinstance(t, Metatrack):
            for child in t.children:
                self.track(el, child, self.channel[t.id])

    def track_extra(self, t: Track) -> dict[str, Any]:
        extra: dict[str, Any] = {}
        if isinstance(t, Metatrack):
            for name, neutral in (("pitch", 0.0), ("preserve_pitch", False)):
                if getattr(t, name) != neutral:
                    extra[name] = getattr(t, name)
            if t.tempo_map is not None:
                from mixtree.model.document import tempo_document

                extra["tempo_map"] = tempo_document(t.tempo_map)
            if "speed" in t.lanes:
                extra["speed_lane"] = _lane_doc(t.lanes["speed"])
        if (t.pan + 1.0) / 2.0 * 2.0 - 1.0 != t.pan:  # normalized pan does not come back bit for bit
            extra["pan"] = t.pan
        if isinstance(t, BusTrack) and t.solo_safe:
            extra["solo_safe"] = True
        if t.collapsed:
            extra["collapsed"] = True
        return extra

    def param(self, el: Element, owner: int, name: str) -> None:
        ident = self.nid()
        el.set("id", ident)
        self.params[(owner, name)] = ident

    # -- devices -----------------------------------------------------------------------
    def devices(self, channel: Element, t: Track) -> None:
        chain: list[tuple[Effect, str]] = [(e, "audioFX") for e in t.effects]
        if isinstance(t, MidiTrack):
            chain.insert(0, (t.instrument, "instrument"))
        if not chain:
            return
        devices = SubElement(channel, "Devices")
        for effect, role in chain:
            self.device(devices, effect, role)

    def device(self, devices: Element, effect: Effect, role: str) -> None:
        state = effect.get_state()
        fmt = state.get("format")
        tag = {EQ3: "Equalizer", Compressor: "Compressor"}.get(type(effect))  # type: ignore[call-overload]
        if tag is None:
            tag = {"vst3": "Vst3Plugin", "clap": "ClapPlugin"}.get(fmt, "BuiltinDevice") if fmt else "BuiltinDevice"
        name = str(state.get("name") or type(effect).__name__)
        el = SubElement(devices, tag, deviceName=name, deviceRole=role, loaded="true", id=self.nid(), name=name)
        el.set("deviceID", str(state.get("uri") or f"mixtree.{state['type']}"))
        params = SubElement(el, "Parameters")
        for spec in effect.parameters:
            value = effect.get_parameter(spec.id)
            if spec.choices:
                sub = SubElement(params, "EnumParameter", count=str(len(spec.choices)), name=spec.id)
                sub.set("value", str(spec.choices.index(value) if isinstance(value, str) else int(value)))
                sub.set("labels", " ".join(spec.choices))
            else:
                sub = SubElement(params, "RealParameter", unit=_unit(spec.unit), name=spec.id, value=num(value))
                sub.set("min", num(spec.min))
                sub.set("max", num(spec.max))
            self.param(sub, effect.id, spec.id)  # type: ignore[arg-type]
        SubElement(el, "Enabled", value=_bool(not effect.bypass), id=self.nid(), name="On/Off")
        path = f"mixtree/devices/{el.get('id')}.json"
        self.files[path] = json.dumps(state, sort_keys=True).encode()
        SubElement(el, "State", path=path)
        if isinstance(effect, EQ3):
            low, high = effect.get_parameter("low_freq"), effect.get_parameter("high_freq")
            for kind, freq, gain in (
                ("lowShelf", low, "low_db"),
                ("bell", math.sqrt(float(low) * float(high)), "mid_db"),
                ("highShelf", high, "high_db"),
            ):
                band = SubElement(el, "Band", type=kind)
                SubElement(band, "Freq", unit="hertz", value=num(freq), id=self.nid())
                SubElement(band, "Gain", unit="decibel", value=num(effect.get_parameter(gain)), id=self.nid())
        if isinstance(effect, Compressor):
            get = effect.get_parameter
            SubElement(el, "Attack", unit="seconds", value=num(get("attack")), id=self.nid())
            SubElement(el, "AutoMakeup", value="false", id=self.nid())
            SubElement(el, "OutputGain", unit="decibel", value=num(get("makeup_db")), id=self.nid())
            SubElement(el, "Ratio", unit="linear", value=num(get("ratio")), id=self.nid())
            SubElement(el, "Release", unit="seconds", value=num(get("release")), id=self.nid())
            SubElement(el, "Threshold", unit="decibel", value=num(get("threshold_db")), id=self.nid())

    # -- arrangement -------------------------------------------------------------------
    def track_lanes(self, parent: Element, t: Track) -> None:
        ident = self.lanes_id.get(t.id) or self.nid()
        lanes = SubElement(parent, "Lanes", track=self.track_ids[t.id], id=ident)
        self.automation(lanes, t)
        if isinstance(t, AudioTrack) and (t.clips or t.aliases):
            clips = SubElement(lanes, "Clips", id=self.nid())
            for c in t.clips:
                self.audio_clip(clips, c)
            for a in t.aliases:
                clip = SubElement(clips, "Clip", time=num(a.start), duration=num(a.duration), playStart=num(a.offset))
                clip.set("reference", self.lanes_id[a.metatrack_id])
        if isinstance(t, MidiTrack) and t.midi_clips:
            clips = SubElement(lanes, "Clips", id=self.nid())
            for m in t.midi_clips:
                self.midi_clip(clips, m)
        if isinstance(t, Metatrack):
            inner = lanes
            if t.offset != 0.0 or t.speed != 1.0:
                # The children's timeline as one clip whose warps carry offset and speed
                # exactly: time 0 → content 0, time 1 → content ``speed``.
                clips = SubElement(lanes, "Clips", id=self.nid())
                end = self.project.content_end(t)
                clip = SubElement(
                    clips, "Clip", time=num(t.offset), duration=num(max(end / t.speed, 1e-9)), playStart="0.0"
                )
                clip.set("name", t.name)
                warps = SubElement(clip, "Warps", contentTimeUnit="seconds", timeUnit="seconds", id=self.nid())
                inner = SubElement(warps, "Lanes", timeUnit="seconds", id=self.nid())
                SubElement(warps, "Warp", time="0.0", contentTime="0.0")
                SubElement(warps, "Warp", time="1.0", contentTime=num(t.speed))
            for child in t.children:
                self.track_lanes(inner, child)

    def audio_clip(self, clips: Element, c: Any) -> None:
        clip = SubElement(clips, "Clip", time=num(c.start), duration=num(c.duration))
        clip.set("fadeTimeUnit", "seconds")
        clip.set("fadeInTime", num(c.fade_in))
        clip.set("fadeOutTime", num(c.fade_out))
        if c.muted:
            clip.set("enable", "false")
        source = c.source
        extra: dict[str, Any] = {}
        if c.speed == 1.0:
            clip.set("playStart", num(c.offset))
            content = self.audio(clip, source)
        else:
            clip.set("playStart", num(c.offset / c.speed))
            content = SubElement(clip, "Warps", contentTimeUnit="seconds", timeUnit="seconds", id=self.nid())
            self.audio(content, source)
            SubElement(content, "Warp", time="0.0", contentTime="0.0")
            SubElement(content, "Warp", time="1.0", contentTime=num(c.speed))
            extra["offset"] = c.offset
        for name, neutral in (("gain_db", 0.0), ("reversed", False), ("fade_curve", "linear")):
            value = getattr(c, name)
            if value != neutral:
                extra[name] = None if isinstance(value, float) and math.isinf(value) else value
        if extra:
            self.extras["clips"][content.get("id")] = extra

    def audio(self, parent: Element, source: Any) -> Element:
        audio = SubElement(parent, "Audio", channels=str(source.original_channels), id=self.nid())
        audio.set("sampleRate", str(source.original_rate))
        audio.set("duration", num(source.duration))
        SubElement(audio, "File", **self.file_of(source))
        return audio

    def file_of(self, source: Any) -> dict[str, str]:
        if source.id in self.media:
            return _file_attrs(self.media[source.id], self.embed and not source.offline)
        if not self.embed or source.offline:
            self.media[source.id] = str(source.path)
            return _file_attrs(str(source.path), False)
        taken = {p.lower() for p in self.files}
        stem, suffix = source.path.stem, source.path.suffix
        name, k = f"audio/{stem}{suffix}", 1
        while name.lower() in taken:
            k += 1
            name = f"audio/{stem}-{k}{suffix}"
        self.files[name] = source.path
        self.media[source.id] = name
        return _file_attrs(name, True)

    def midi_clip(self, clips: Element, m: Any) -> None:
        clip = SubElement(clips, "Clip", time=num(m.start), duration=num(m.duration), playStart=num(m.offset))
        # With controller events the content is lanes: the notes, then one Points per controller.
        holder = SubElement(clip, "Lanes", id=self.nid()) if m.events else clip
        notes = SubElement(holder, "Notes", id=self.nid())
        for n in m.notes:
            note = SubElement(notes, "Note", time=num(n.start), duration=num(n.duration), channel="0", key=str(n.pitch))
            note.set("vel", num(n.velocity / 127.0))
        lanes: dict[tuple[str, int], Element] = {}
        for e in m.events:
            if (e.kind, e.number) not in lanes:
                points = SubElement(holder, "Points", id=self.nid(), unit="normalized")
                target = SubElement(points, "Target", expression=_EXPRESSIONS[e.kind], channel="0")
                if e.kind == "cc":
                    target.set("controller", str(e.number))
                lanes[(e.kind, e.number)] = points
            value = (e.value + 8192) / 16383.0 if e.kind == "pitch_bend" else e.value / 127.0
            SubElement(lanes[(e.kind, e.number)], "RealPoint", time=num(e.time), value=num(value), interpolation="hold")

    # -- automation --------------------------------------------------------------------
    def automation(self, lanes: Element, t: Track) -> None:
        owned: list[AutomationLane] = [lane for name, lane in t.lanes.items() if name != "speed"]
        for s in t.sends:
            owned += list(s.lanes.values())
        for e in [*t.effects, *([t.instrument] if isinstance(t, MidiTrack) else [])]:
            owned += list(e.lanes.values())
        for lane in owned:
            if lane.points and (lane.owner, lane.parameter) in self.params:
                self.points(lanes, lane)

    def points(self, lanes: Element, lane: AutomationLane) -> None:
        spec = lane.spec
        unit = "decibel" if spec.unit == "dB" else "normalized" if lane.parameter == "pan" else _unit(spec.unit)
        el = SubElement(lanes, "Points", id=self.nid(), timeUnit=lane.time_base, unit=unit)
        SubElement(el, "Target", parameter=self.params[(lane.owner, lane.parameter)])
        dense = densify(lane)
        if lane.parameter == "pan" and any((v + 1.0) / 2.0 * 2.0 - 1.0 != v for _, v, _ in dense):
            self.extras["pans"][el.get("id")] = [v for _, v, _ in dense]  # normalized pans lose bits
        for time, value, shape in dense:
            if spec.choices:
                if lane.parameter == "mute":
                    SubElement(el, "BoolPoint", time=num(time), value=_bool(value >= 0.5))
                else:
                    SubElement(el, "EnumPoint", time=num(time), value=str(int(value)))
                continue
            shown = (value + 1.0) / 2.0 if lane.parameter == "pan" else value
            SubElement(el, "RealPoint", time=num(time), value=num(shown), interpolation=shape)


def densify(lane: AutomationLane, tolerance: float = CURVE_TOLERANCE) -> list[tuple[float, float, str]]:
    """Return ``lane``'s points as (time, value, 'hold' | 'linear'): hold and linear
    segments as they are, every other shape as linear pieces that stray from it by at
    most ``tolerance`` (the parameter's unit) between their points."""
    points = lane.points
    at, value, shape, tension = lane.arrays()
    n = len(points)
    out: list[tuple[float, float, str]] = []
    for k, p in enumerate(points):
        if shape_code(p.shape) <= 1 or k + 1 == n:
            out.append((p.time, p.value, "hold" if p.shape == "hold" else "linear"))
            continue
        t0, t1 = p.time, points[k + 1].time
        pieces = 1
        while True:
            grid = np.linspace(t0, t1, pieces + 1)
            vals = [lane_value(at, value, shape, tension, 0, n, float(x)) for x in grid[:-1]]
            vals.append(points[k + 1].value)
            if pieces >= 4096 or _within(lane, grid, vals, tolerance):
                break
            pieces *= 2
        out.append((p.time, p.value, "linear"))
        for i in range(1, pieces):
            out.append((float(grid[i]), float(vals[i]), "linear"))
    return out


def _within(lane: AutomationLane, grid: np.ndarray, vals: list[float], tolerance: float) -> bool:
    """Return True if straight lines through ``vals`` at ``grid`` stay within ``tolerance``
    of the lane, checked at 8 places inside each piece."""
    at, value, shape, tension = lane.arrays()
    n = len(at)
    for i in range(len(grid) - 1):
        for u in np.arange(1, 8) / 8.0:
            x = grid[i] + (grid[i + 1] - grid[i]) * u
            line = vals[i] + (vals[i + 1] - vals[i]) * u
            if abs(lane_value(at, value, shape, tension, 0, n, float(x)) - line) > tolerance:
                return False
    return True


def _lane_doc(lane: AutomationLane) -> dict[str, Any]:
    return {"mode": lane.mode, "time_base": lane.time_base, "points": [list(p) for p in lane.points]}


def _file_attrs(path: str, inside: bool) -> dict[str, str]:
    return {"path": path} if inside else {"path": path, "external": "true"}


def _unit(unit: str) -> str:
    return {"dB": "decibel", "Hz": "hertz", "s": "seconds", "st": "semitones", "%": "percent"}.get(unit, "linear")


def _version() -> str:
    from mixtree import __version__

    return __version__


def _metadata(project: Project) -> bytes:
    root = Element("MetaData")
    if project.path is not None:
        SubElement(root, "Title").text = project.path.stem
    return _xml_bytes(root)


def _xml_bytes(root: Element) -> bytes:
    return b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + tostring(root, encoding="utf-8")


def to_bytes(project: Project, embed: bool = True, folder: Path | None = None) -> dict[str, bytes | Path]:
    """Return the archive's entries: project.xml, metadata.xml, media and mixtree's extras."""
    writer = _Writer(project, embed, folder or Path.cwd())
    root = writer.project_xml()
    return {"project.xml": _xml_bytes(root), "metadata.xml": _metadata(project), **writer.files}


def export_dawproject(project: Project, path: str | Path, embed: bool = True) -> Path:
    """Write ``project`` to the DAWproject file ``path``, atomically.

    Parameters
    ----------
    project
        The project to write.
    path
        The ``.dawproject`` file to write.
    embed
        Copy every medium into the archive (True), or refer to each by its absolute path
        (``external="true"``), so the file stays small but works on this machine only.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    SaveError
        The file cannot be written (naming it and why); an old file there stays whole.
    """
    path = Path(path).expanduser().resolve()
    entries = to_bytes(project, embed, path.parent)
    # Written beside the target and renamed over it: media stream from their files, and a
    # failure leaves any old file whole.
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with tmp.open("wb") as f:
            with zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED) as z:
                for name, data in entries.items():
                    if isinstance(data, Path):
                        z.write(data, name, compress_type=zipfile.ZIP_STORED)
                    else:
                        z.writestr(name, data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        raise SaveError(path, exc.strerror or str(exc)) from exc
    finally:
        with contextlib.suppress(OSError):  # nothing of ours to remove
            tmp.unlink(missing_ok=True)
    sync_folder(path.parent)
    return path
