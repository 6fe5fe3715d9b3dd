"""Read a DAWproject 1.0 file into a new project (the mapping is in ``docs/exchange.md``).

The archive is read defensively (`mixtree.exchange.archive`); the project is built
through the model's public calls, so every value is checked as an edit would be.
Whatever has no counterpart here is counted and named in one `ExchangeWarning`.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

from mixtree.effects.base import Effect
from mixtree.errors import MediaError, ProjectFileError
from mixtree.exchange.archive import Archive, normal
from mixtree.exchange.dawproject_devices import DeviceReading, Param
from mixtree.exchange.dawproject_write import EXTRAS
from mixtree.exchange.report import malformed_file, warn_lost
from mixtree.exchange.timeline import Timeline
from mixtree.io.atomic import write_atomically
from mixtree.model.automation import Address
from mixtree.model.operations import AddSource
from mixtree.model.pool import Source, decode_source, offline_source
from mixtree.model.project import Project
from mixtree.model.structure import children_tempo_map, tempo_map_of
from mixtree.model.tempo import TempoMap
from mixtree.model.tracks import AudioTrack, BusTrack, Metatrack, MidiTrack, Track
from mixtree.units import SILENCE_DB


@dataclass
class _Read(DeviceReading):
    project: Project
    archive: Archive
    media_dir: Path
    allow_outside: bool
    lost: Counter[str] = field(default_factory=Counter)
    tracks: dict[str, Track] = field(default_factory=dict)  # Track or Channel id -> track
    buses: dict[str, BusTrack] = field(default_factory=dict)  # channel id -> bus
    params: dict[str, Param] = field(default_factory=dict)
    sources: dict[str, Source] = field(default_factory=dict)
    lanes_of: dict[str, Track] = field(default_factory=dict)  # Lanes id -> track
    aliases: list[tuple[AudioTrack, str, float, float, float]] = field(default_factory=list)
    sends: list[tuple[Track, Element]] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)
    ids: dict[str, Element] = field(default_factory=dict)  # every element with an id
    tempo_id: str | None = None
    meter_id: str | None = None

    # -- transport ---------------------------------------------------------------------
    def transport(self, root: Element) -> None:
        transport = root.find("Transport")
        tm = self.project.tempo_map
        if transport is not None:
            tempo = transport.find("Tempo")
            if tempo is not None:
                self.tempo_id = tempo.get("id")
                if tempo.get("value") is not None:
                    self.edit(tempo, lambda: tm.set_tempo(0.0, self.number(tempo, "value")))
            meter = transport.find("TimeSignature")
            if meter is not None:
                self.meter_id = meter.get("id")
                n, d = int(self.number(meter, "numerator")), int(self.number(meter, "denominator"))
                self.edit(meter, lambda: tm.set_meter(0, n, d))
        arrangement = root.find("Arrangement")
        if arrangement is None:
            return
        tempo_points = arrangement.find("TempoAutomation")
        if tempo_points is not None:
            self.tempo_automation(tempo_points, Timeline(tempo_points.get("timeUnit", "beats"), 0.0, tm))
        meter_points = arrangement.find("TimeSignatureAutomation")
        if meter_points is not None:
            self.meter_automation(meter_points, Timeline(meter_points.get("timeUnit", "beats"), 0.0, tm))

    def tempo_automation(self, points: Element, tl: Timeline) -> None:
        tm = self.project.tempo_map
        rows = sorted(
            (
                (self.number(p, "time"), self.number(p, "value"), p.get("interpolation", "hold"), p)
                for p in points.iter("RealPoint")
            ),
            key=lambda r: r[0],
        )
        linear_before = False
        for time, bpm, interpolation, p in rows:
            beat = tl.beats(time)
            ramp = linear_before and beat > 0.0
            self.edit(p, lambda beat=beat, bpm=bpm, ramp=ramp: tm.set_tempo(max(beat, 0.0), bpm, ramp=ramp))
            linear_before = interpolation == "linear"

    def meter_automation(self, points: Element, tl: Timeline) -> None:
        tm = self.project.tempo_map
        for p in points.iter("TimeSignaturePoint"):
            bar, into = tm.bar_at(max(tl.beats(self.number(p, "time")), 0.0))
            if into > 1e-9:
                self.lost["time signature changes moved to the start of their bar"] += 1
            n, d = int(self.number(p, "numerator")), int(self.number(p, "denominator"))
            self.edit(p, lambda bar=bar, n=n, d=d: tm.set_meter(bar, n, d))

    # -- structure ---------------------------------------------------------------------
    def structure(self, root: Element) -> None:
        structure = root.find("Structure")
        if structure is None:
            return
        master_seen = False
        for el in structure:
            if el.tag == "Track":
                self.track(el, None)
            elif el.tag == "Channel":
                role = el.get("role", "regular")
                if role == "master" and not master_seen:
                    self.channel(el, self.project.master)
                    master_seen = True
                elif role == "effect":
                    bus = self.edit(el, lambda el=el: self.project.add_bus(el.get("name") or "Bus"))
                    self.channel(el, bus)
                else:
                    self.lost[f"{role} channels outside a track"] += 1
        for track, send in self.sends:
            self.send(track, send)

    def track(self, el: Element, parent: Metatrack | None) -> None:
        channel = el.find("Channel")
        role = channel.get("role", "regular") if channel is not None else "regular"
        children = el.findall("Track")
        content = (el.get("contentType") or "").split()
        name = el.get("name") or "Track"
        parent_id = parent.id if parent is not None else None
        p = self.project
        if role == "master" and parent is None and not children:
            track: Track = p.master
        elif children or "tracks" in content or role == "submix":
            track = self.edit(el, lambda: p.add_metatrack(name, parent_id=parent_id))
        elif role == "effect":
            track = self.edit(el, lambda: p.add_bus(name, parent_id=parent_id))
        elif role == "vca":
            self.lost["VCA tracks ignored"] += 1
            return
        elif content == ["notes"]:
            instrument, device = self.instrument(channel)
            track = self.edit(el, lambda: p.add_midi_track(name, instrument, parent_id=parent_id))
            if instrument is not None and device is not None:
                self.device_params(device, instrument)
        else:
            if "video" in content:
                self.lost["video tracks played as (silent) audio tracks"] += 1
            track = self.edit(el, lambda: p.add_audio_track(name, parent_id=parent_id))
        if el.get("id"):
            self.tracks[el.get("id", "")] = track
        if el.get("color"):
            try:
                track.color = el.get("color")
            except ValueError:
                self.lost["track colours not in #rrggbb form"] += 1
        if channel is not None:
            self.channel(channel, track)
        self.track_extras(el, track)
        for child in children:
            self.track(child, track)  # type: ignore[arg-type]

    def channel(self, el: Element, track: Track) -> None:
        if el.get("id"):
            self.tracks[el.get("id", "")] = track
            if isinstance(track, BusTrack):
                self.buses[el.get("id", "")] = track
        volume, pan, mute = el.find("Volume"), el.find("Pan"), el.find("Mute")
        if volume is not None:
            self.edit(volume, lambda: setattr(track, "volume_db", self.volume_db(volume)))
            self.param(volume, track, "volume_db", "db")
        if pan is not None:
            self.edit(pan, lambda: setattr(track, "pan", self.pan(pan)))
            self.param(pan, track, "pan", "pan")
        if mute is not None:
            self.edit(mute, lambda: setattr(track, "mute", self.flag(mute)))
            self.param(mute, track, "mute", "bool")
        if el.get("solo") is not None:
            self.edit(el, lambda: setattr(track, "solo", self.flag(el, "solo")))
        devices = el.find("Devices")
        if devices is not None:
            for device in devices:
                self.device(device, track)
        sends = el.find("Sends")
        if sends is not None:
            self.sends += [(track, s) for s in sends.findall("Send")]

    def volume_db(self, el: Element) -> float:
        value = self.number(el, "value", 1.0 if el.get("unit") == "linear" else 0.0)
        return to_db(value, el.get("unit", "decibel"))

    def pan(self, el: Element) -> float:
        value = self.number(el, "value", 0.5)
        if el.get("unit", "normalized") == "normalized":
            low, high = self.number(el, "min", 0.0), self.number(el, "max", 1.0)
            if (low, high) == (0.0, 1.0):
                return min(max(value * 2.0 - 1.0, -1.0), 1.0)
            return min(max((value - low) / (high - low) * 2.0 - 1.0, -1.0), 1.0)
        return min(max(value, -1.0), 1.0)

    def send(self, track: Track, el: Element) -> None:
        bus = self.buses.get(el.get("destination", ""))
        if bus is None:
            self.lost["sends to something other than an effect (bus) channel dropped"] += 1
            return
        volume = el.find("Volume")
        level = self.volume_db(volume) if volume is not None else 0.0
        if not self.flag(el.find("Enable"), default=True):
            level = -math.inf
        pan = el.find("Pan")
        if pan is not None and self.pan(pan) != 0.0:
            self.lost["send pans ignored"] += 1
        send = self.edit(el, lambda: track.add_send(bus.id, min(level, 12.0), pre_fader=el.get("type") == "pre"))
        if volume is not None:
            self.param(volume, send, "level_db", "db")

    def track_extras(self, el: Element, track: Track) -> None:
        extra = self.extras.get("tracks", {}).get(el.get("id", ""))
        if not isinstance(extra, dict):
            return
        for name in ("pitch", "preserve_pitch", "solo_safe", "collapsed", "pan"):
            if name in extra:
                self.edit(el, lambda name=name: setattr(track, name, extra[name]))
        if isinstance(track, Metatrack) and isinstance(extra.get("tempo_map"), dict):
            tm = TempoMap()
            for change in extra["tempo_map"].get("tempo", []):
                tm.set_tempo(change[0], change[1], ramp=len(change) > 2)
            for bar, n, d in extra["tempo_map"].get("meters", []):
                tm.set_meter(bar, n, d)
            self.edit(el, lambda: setattr(track, "tempo_map", tm))

    # -- arrangement -------------------------------------------------------------------
    def arrangement(self, root: Element) -> None:
        arrangement = root.find("Arrangement")
        if arrangement is None:
            return
        lanes = arrangement.find("Lanes")
        if lanes is not None:
            self.lanes(lanes, None, Timeline(lanes.get("timeUnit", "beats"), 0.0, self.project.tempo_map))
        if arrangement.find("Markers") is not None:
            self.lost["markers ignored"] += 1
        for alias in self.aliases:
            self.alias(*alias)

    def lanes(self, el: Element, track: Track | None, tl: Timeline) -> None:
        tl = tl.with_unit(el.get("timeUnit"))
        ref = el.get("track")
        if ref is not None:
            found = self.tracks.get(ref)
            if found is None:
                raise self.fail(el, f"track={ref!r} names no track or channel of <Structure>")
            if found is not track:
                track = found
                tm = tempo_map_of(self.project, track)
                tl = Timeline(tl.unit, tl.anchor, tm)
        if el.get("id") and track is not None:
            self.lanes_of[el.get("id", "")] = track
        for child in el:
            self.timeline(child, track, tl)

    def timeline(self, el: Element, track: Track | None, tl: Timeline) -> None:
        if el.tag == "Lanes":
            self.lanes(el, track, tl)
        elif el.tag == "Points":
            self.points(el, tl.with_unit(el.get("timeUnit")))
        elif el.tag == "Clips":
            for clip in el.findall("Clip"):
                if track is None:
                    self.lost["clips on no track dropped"] += 1
                elif isinstance(track, Metatrack):
                    self.metatrack_clip(clip, track, tl)
                else:
                    self.clip(clip, track, tl.with_unit(el.get("timeUnit")), None)
        elif el.tag == "Notes" and isinstance(track, MidiTrack):
            self.lost["notes outside clips dropped"] += 1
        else:
            self.lost[f"{el.tag} content ignored"] += 1

    def metatrack_clip(self, clip: Element, m: Metatrack, tl: Timeline) -> None:
        warps = clip.find("Warps")
        inner = warps.find("Lanes") if warps is not None else None
        if warps is None or inner is None or clip.get("reference"):
            self.lost["clips on group tracks dropped"] += 1
            return
        if m.offset != 0.0 or m.speed != 1.0:
            self.lost["second timeline clips on one group track dropped"] += 1
            return
        points = [(self.number(w, "time"), self.number(w, "contentTime")) for w in warps.findall("Warp")]
        if len(points) < 2 or points[-1][0] == points[0][0]:
            raise self.fail(warps, "a group's timeline needs two warp points at different times")
        (t0, c0), (t1, c1) = points[0], points[-1]
        if len(points) > 2:
            self.lost["group timelines with more than two warps played at their mean speed"] += 1
        time, play_start = self.number(clip, "time"), self.number(clip, "playStart", 0.0)
        warp_tl = tl.inner(time, play_start, warps.get("timeUnit") or clip.get("contentTimeUnit") or tl.unit)
        if warp_tl.unit == "seconds" and (t0, c0, t1, play_start) == (0.0, 0.0, 1.0, 0.0):
            speed, offset = c1, tl.seconds(time)  # how mixtree writes a metatrack: exact
        else:
            s0, s1 = warp_tl.seconds(t0), warp_tl.seconds(t1)
            if s1 == s0 or c1 == c0:
                raise self.fail(warps, "a group's timeline needs warps that move")
            speed = (c1 - c0) / (s1 - s0)
            offset = s0 - c0 / speed
        self.edit(clip, lambda: setattr(m, "speed", speed))
        self.edit(clip, lambda: setattr(m, "offset", offset))
        child_tm = children_tempo_map(self.project, m)
        self.lanes(inner, m, Timeline(warps.get("contentTimeUnit", "seconds"), 0.0, child_tm))

    def clip(self, el: Element, track: Track, tl: Timeline, window: tuple[float, float] | None) -> None:
        time = self.number(el, "time")
        duration = self.number(el, "duration", -1.0)
        play_start = self.number(el, "playStart", 0.0)
        unit = el.get("contentTimeUnit") or tl.unit
        inner = tl.inner(time, play_start, unit)
        start = tl.seconds(time)
        if duration < 0.0:
            raise self.fail(el, "a clip without a duration")
        length = tl.span(time, duration)
        loop_start, loop_end = el.get("loopStart"), el.get("loopEnd")
        if loop_start is not None and loop_end is not None:
            loop = self.number(el, "loopEnd") - self.number(el, "loopStart")
            if duration > loop * (1 + 1e-9) + 1e-9:
                self.lost["looped clips played once"] += 1
        if el.get("playStop") is not None:
            length = min(length, inner.relative(self.number(el, "playStop")) - inner.relative(play_start))
        span, kept = (start, start + length), length
        if window is not None and (start < window[0] or start + length > window[1]):
            span = (max(span[0], window[0]), min(span[1], window[1]))
            kept = span[1] - span[0]
            if kept <= 0.0:
                return
        muted = not self.flag(el, "enable", default=True)
        fade_tl = tl.with_unit(el.get("fadeTimeUnit"))
        fade_in = fade_tl.span(0.0, self.number(el, "fadeInTime", 0.0)) if fade_tl.unit == "beats" else None
        fades = (
            fade_in if fade_in is not None else self.number(el, "fadeInTime", 0.0),
            fade_tl.span(0.0, self.number(el, "fadeOutTime", 0.0))
            if fade_tl.unit == "beats"
            else self.number(el, "fadeOutTime", 0.0),
        )
        content = [c for c in el if c.tag != "markers"]
        ref = el.get("reference")
        if ref is not None:
            target = self.ids.get(ref)
            if target is None:
                raise self.fail(el, f"reference={ref!r} names no element of the project")
            if target.tag != "Lanes":  # shared content: play it here too
                content = [target]
            elif isinstance(track, AudioTrack):
                self.aliases.append((track, ref, span[0], kept, play_start))
                return
            else:
                self.lost["references to group lanes on MIDI or bus tracks dropped"] += 1
                return
        if not content:
            return
        body = content[0]
        if isinstance(track, MidiTrack) and body.tag == "Lanes" and body.find("Notes") is not None:
            points = body.findall("Points")
            self.midi_clip(el, body.find("Notes"), track, inner, (span[0], kept), start, play_start, points)  # type: ignore[arg-type]
            return
        if body.tag in ("Clips", "Lanes"):
            for sub in body.iter("Clip") if body.tag == "Lanes" else body.findall("Clip"):
                self.clip(sub, track, Timeline(inner.unit, inner.anchor, inner.tempo), span)
            if fades != (0.0, 0.0):
                self.lost["fades of container clips dropped"] += 1
            return
        if isinstance(track, MidiTrack):
            if body.tag != "Notes":
                self.lost[f"{body.tag} clips on MIDI tracks dropped"] += 1
                return
            self.midi_clip(el, body, track, inner, (span[0], kept), start, play_start)
            return
        if not isinstance(track, AudioTrack):
            self.lost["clips on bus or master tracks dropped"] += 1
            return
        if body.tag == "Audio":
            audio, speed, offset = body, 1.0, inner.relative(play_start)
            key = body.get("id", "")
        elif body.tag == "Warps":
            audio = body.find("Audio")
            if audio is None:
                self.lost["warped clips without audio dropped"] += 1
                return
            speed, offset = self.warp(body, inner, play_start)
            key = body.get("id", "")
        else:
            self.lost[f"{body.tag} clips on audio tracks dropped"] += 1
            return
        offset += (span[0] - start) * speed
        source = self.source(audio)
        extra = self.extras.get("clips", {}).get(key, {}) if key else {}
        if "offset" in extra:
            offset = float(extra["offset"])
        values: dict[str, Any] = {
            "start": span[0],
            "duration": kept,
            "offset": max(offset, 0.0),
            "speed": speed,
            "fade_in": fades[0] if span[0] == start else 0.0,
            "fade_out": fades[1] if span[1] == start + length else 0.0,
            "muted": muted,
        }
        for name in ("gain_db", "reversed", "fade_curve"):
            if name in extra:
                values[name] = -math.inf if extra[name] is None else extra[name]
        self.place(el, track, source, values)

    def place(self, el: Element, track: AudioTrack, source: Source, values: dict[str, Any]) -> None:
        rate = source.sample_rate
        room = (source.frames / rate - values["offset"]) / values["speed"]
        if values["duration"] > room:
            if values["duration"] - room > 1.0 / rate:
                self.lost["clips cut to the end of their media"] += 1
            values["duration"] = room
            if values["duration"] * rate < 1.0:
                return
        if values["fade_in"] + values["fade_out"] > values["duration"]:
            scale = values["duration"] / (values["fade_in"] + values["fade_out"])
            values["fade_in"] *= scale
            values["fade_out"] *= scale
        self.edit(el, lambda: track.add_clip(source, **values))

    def warp(self, warps: Element, inner: Timeline, play_start: float) -> tuple[float, float]:
        """Return (speed, source offset at the clip's start) of an audio clip's warps."""
        unit = warps.get("timeUnit") or inner.unit
        wtl = inner.with_unit(unit) if unit != inner.unit else inner
        if warps.get("contentTimeUnit", "seconds") != "seconds":
            raise self.fail(warps, "audio warps count their content in seconds")
        points = [(self.number(w, "time"), self.number(w, "contentTime")) for w in warps.findall("Warp")]
        if len(points) < 2:
            raise self.fail(warps, "warps need at least two <Warp> points")
        (t0, c0), (t1, c1) = points[0], points[-1]
        if wtl.unit == "seconds" and (t0, c0, t1) == (0.0, 0.0, 1.0):
            return c1, play_start * c1  # how mixtree writes a varispeed clip
        s0, s1 = wtl.relative(t0), wtl.relative(t1)
        if s1 == s0:
            raise self.fail(warps, "two warp points at one time")
        speed = (c1 - c0) / (s1 - s0)
        if len(points) > 2:
            self.lost["clips warped by more than two points played at their mean speed"] += 1
        audio = warps.find("Audio")
        if audio is not None and audio.get("algorithm") not in (None, "", "varispeed", "repitch", "resample"):
            if abs(speed - 1.0) > 1e-9:
                self.lost["time-stretched clips played as varispeed (the pitch follows)"] += 1
        here = wtl.relative(play_start) if unit == inner.unit else inner.relative(play_start)
        return speed, c0 + (here - s0) * speed

    def midi_clip(
        self,
        el: Element,
        notes: Element,
        track: MidiTrack,
        inner: Timeline,
        span: tuple[float, float],  # start and duration, seconds
        start: float,
        play_start: float,
        points: list[Element] | None = None,
    ) -> None:
        offset = inner.relative(play_start) + (span[0] - start)
        clip = self.edit(el, lambda: track.add_midi_clip(span[0], span[1], max(offset, 0.0)))
        channels: set[str] = set()
        for n in notes.findall("Note"):
            at, length = self.number(n, "time"), self.number(n, "duration")
            begin = inner.relative(at)
            if begin < 0.0:
                continue
            velocity = min(max(round(self.number(n, "vel", 0.787402) * 127.0), 1), 127)
            key = int(self.number(n, "key"))
            self.edit(n, lambda k=key, v=velocity, b=begin, a=at, d=length: clip.add_note(k, v, b, inner.span(a, d)))
            channels.add(n.get("channel", "0"))
            if len(n):
                self.lost["note expressions ignored"] += 1
        if len(channels) > 1:
            self.lost["MIDI channels of notes merged"] += 1
        for lane in points or []:
            self.events(lane, clip, inner.with_unit(lane.get("timeUnit")))

    def events(self, points: Element, clip: Any, tl: Timeline) -> None:
        """Add the controller events a clip's expression ``Points`` hold to ``clip``."""
        target = points.find("Target")
        expression = target.get("expression") if target is not None else None
        kind = {"channelController": "cc", "pitchBend": "pitch_bend", "programChange": "program"}.get(expression or "")
        if target is None or kind is None:
            self.lost[f"{expression or 'untargeted'} automation inside clips dropped"] += 1
            return
        number = int(self.number(target, "controller", 0.0)) if kind == "cc" else 0
        for p in points:
            if p.tag == "Target":
                continue
            at = tl.relative(self.number(p, "time"))
            value = self.number(p, "value")
            if p.tag == "RealPoint" and points.get("unit", "normalized") == "normalized":
                value = value * 16383.0 - 8192.0 if kind == "pitch_bend" else value * 127.0
            if at >= 0.0:
                v = round(value)
                self.edit(p, lambda a=at, v=v: clip.add_event(a, kind, v, number))

    def alias(self, track: AudioTrack, ref: str, start: float, duration: float, offset: float) -> None:
        target = self.lanes_of.get(ref)
        if not isinstance(target, Metatrack):
            self.lost["clip references to anything but a group track's lanes dropped"] += 1
            return
        track.add_alias(target.id, start, duration, offset)

    # -- media -------------------------------------------------------------------------
    def source(self, audio: Element) -> Source:
        file = audio.find("File")
        if file is None:
            raise self.fail(audio, "audio without a <File>")
        path = file.get("path", "")
        key = f"{self.flag(file, 'external')}:{path}"
        if key in self.sources:
            return self.sources[key]
        rate = self.project.sample_rate
        frames = max(1, round(self.number(audio, "duration", 0.0) * rate))
        channels = 1 if self.number(audio, "channels", 2.0) == 1 else 2
        where: Path | None = None
        reason = ""
        if self.flag(file, "external"):
            folder = self.archive.path.parent.resolve()
            candidate = (folder / path).resolve()
            if candidate.is_relative_to(folder) or self.allow_outside:
                where = candidate
            else:
                reason = "outside the project's folder (not read)"
        elif normal(path) is None:
            raise self.fail(file, f"path={path!r} leaves the archive")
        elif path not in self.archive:
            reason = "not in the archive"
        else:
            where = self.extract(path)
        ident = self.project.registry.new_id()
        source: Source | None = None
        if where is not None:
            try:
                source = decode_source(ident, where, rate)
            except MediaError as exc:
                reason = exc.reason
        if source is None:
            source = offline_source(ident, where or Path(path), rate, frames, channels, reason)
            self.lost[f"media offline ({path}: {reason})"] += 1
        self.project.apply(AddSource(source))
        self.sources[key] = source
        return source

    def extract(self, name: str) -> Path:
        """Write the archive's entry ``name`` into the media folder (once) and return its path."""
        data = self.archive.read(name)
        base = Path(normal(name) or "media").name
        target = self.media_dir / base
        try:
            self.media_dir.mkdir(parents=True, exist_ok=True)
            k = 1
            while target.exists() and target.read_bytes() != data:
                k += 1
                target = self.media_dir / f"{Path(base).stem}-{k}{Path(base).suffix}"
            if not target.exists():
                write_atomically(target, data, backup=False)
        except OSError as exc:
            reason = f"cannot write it into '{self.media_dir}': {exc.strerror or exc}"
            raise ProjectFileError(self.archive.path, f"entry {name!r}", reason) from exc
        return target

    # -- automation --------------------------------------------------------------------
    def points(self, el: Element, tl: Timeline) -> None:
        target = el.find("Target")
        ident = target.get("parameter") if target is not None else None
        if ident is None:
            self.lost[
                "automation of MIDI expressions dropped"
                if target is not None
                else "automation without a target dropped"
            ] += 1
            return
        if ident == self.tempo_id:
            self.tempo_automation(el, tl)
            return
        if ident == self.meter_id:
            self.meter_automation(el, tl)
            return
        param = self.params.get(ident)
        if param is None:
            self.lost["automation of parameters mixtree does not have dropped"] += 1
            return
        owner_id = param.owner.id
        lane = self.edit(el, lambda: self.project.automate(Address(owner_id, param.name)))
        beats = tl.unit == "beats" and tl.anchor == 0.0 and tl.tempo is tempo_map_of_owner(self.project, param.owner)
        if beats:
            lane.time_base = "beats"
        rows = []
        unit = el.get("unit") or param.unit
        for p in el:
            if p.tag == "Target":
                continue
            time = self.number(p, "time")
            at = tl.anchor + time if beats else tl.seconds(time)
            if at < 0.0:
                continue
            if p.tag == "BoolPoint":
                value: float = 1.0 if self.flag(p) else 0.0
                shape = "hold"
            elif p.tag in ("RealPoint", "IntegerPoint", "EnumPoint"):
                value = self.number(p, "value")
                shape = p.get("interpolation", "linear") if p.tag == "RealPoint" else "hold"
                if param.kind == "db":
                    if unit == "linear" and shape == "linear":
                        self.lost["volume curves drawn in linear gain played as dB lines"] += 1
                    value = min(max(to_db(value, unit), SILENCE_DB), param_max(param))
                elif param.kind == "pan":
                    value = min(max(value * 2.0 - 1.0 if unit == "normalized" else value, -1.0), 1.0)
                elif param.kind == "bool":
                    value, shape = (1.0 if value >= 0.5 else 0.0), "hold"
                elif param.kind == "enum":
                    shape = "hold"
            else:
                self.lost[f"{p.tag}s dropped"] += 1
                continue
            rows.append((at, value, shape if shape in ("hold", "linear") else "linear", 0.0))
        exact = self.extras.get("pans", {}).get(el.get("id", ""))
        if param.kind == "pan" and isinstance(exact, list) and len(exact) == len(rows):
            rows = [(at, float(v), shape, tension) for (at, _, shape, tension), v in zip(rows, exact, strict=True)]
        self.edit(el, lambda: lane.set_points(rows))


def tempo_map_of_owner(project: Project, owner: Any) -> TempoMap:
    """Return the tempo map a lane of ``owner`` (track, send or effect) counts beats through."""
    if isinstance(owner, Track):
        return tempo_map_of(project, owner)
    if isinstance(owner, Effect) and owner.id is not None:
        return tempo_map_of(project, project.effect_track(owner.id))
    source = getattr(owner, "source_id", None)
    return tempo_map_of(project, project.track(source)) if source is not None else project.tempo_map


def param_max(param: Param) -> float:
    """Return the highest value a dB parameter takes."""
    return 12.0 if param.name == "level_db" else 24.0


def to_db(value: float, unit: str) -> float:
    """Return a DAWproject volume ``value`` in ``unit`` (decibel or linear gain) as dB."""
    if unit == "linear":
        return 20.0 * math.log10(value) if value > 0.0 else -math.inf
    return value


def import_dawproject(
    path: str | Path, sample_rate: int = 48000, media_dir: str | Path | None = None, allow_outside: bool = False
) -> Project:
    """Read the DAWproject file ``path`` into a new project.

    Parameters
    ----------
    path
        A ``.dawproject`` file (a ZIP holding ``project.xml``).
    sample_rate
        The new project's rate, Hz; media are resampled to it.
    media_dir
        Where media embedded in the archive are written (default: the folder
        ``<name> media`` beside the file); the project's sources point there.
    allow_outside
        Read media the file refers to outside its own folder (off: they open offline).

    Returns
    -------
    Project
        The project, with an empty undo history. What has no counterpart in mixtree is
        named in one `ExchangeWarning`.

    Raises
    ------
    ProjectFileError
        The file is not a DAWproject, is malformed or hostile (unsafe entry paths, a
        zip bomb, XML entities); the message names the file and the place.
    """
    path = Path(path).expanduser().resolve()
    with malformed_file(path):
        folder = Path(media_dir) if media_dir is not None else path.parent / f"{path.stem} media"
        with Archive(path) as archive:
            if "project.xml" not in archive:
                raise ProjectFileError(path, "", "no project.xml in the archive: not a DAWproject file")
            root = archive.xml("project.xml")
            if root.tag != "Project":
                raise ProjectFileError(path, "entry 'project.xml'", f"the root element is <{root.tag}>, not <Project>")
            extras: dict[str, Any] = {}
            if EXTRAS in archive:
                try:
                    loaded = json.loads(archive.read(EXTRAS).decode("utf-8"))
                except (UnicodeDecodeError, ValueError) as exc:
                    raise ProjectFileError(path, f"entry {EXTRAS!r}", f"not valid JSON: {exc}") from exc
                extras = loaded if isinstance(loaded, dict) else {}
            project = Project(sample_rate)
            reader = _Read(project, archive, folder.expanduser().resolve(), allow_outside, extras=extras)
            reader.ids = {e.get("id", ""): e for e in root.iter() if e.get("id")}
            reader.transport(root)
            reader.structure(root)
            reader.arrangement(root)
            _speed_lanes(reader)
            scenes = root.find("Scenes")
            if scenes is not None and len(scenes):
                reader.lost["scenes (clip launcher) ignored"] += len(scenes)
        project.forget_history()
        project.version = 0
        warn_lost(path, reader.lost, stacklevel=2)
        return project


def _speed_lanes(reader: _Read) -> None:
    # A metatrack's speed lane has no DAWproject parameter: it comes back from the extras.
    for ident, extra in reader.extras.get("tracks", {}).items():
        track = reader.tracks.get(ident)
        lane = extra.get("speed_lane") if isinstance(extra, dict) else None
        if isinstance(track, Metatrack) and isinstance(lane, dict):
            auto = track.automate("speed")
            auto.time_base = lane.get("time_base", "seconds")
            auto.set_points([tuple(p) for p in lane.get("points", [])])
            auto.mode = lane.get("mode", "read")
