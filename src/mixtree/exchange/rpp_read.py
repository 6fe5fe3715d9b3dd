"""Read a REAPER project (``.RPP``) into a new project (the mapping is in ``docs/exchange.md``).

Tracks keep their order; REAPER's folders (``ISBUS``, I_FOLDERDEPTH) become metatracks,
a folder track's own items a first child track. Items become clips (position, length,
source offset, fades, volume, mute, play rate as varispeed) or MIDI clips; track volume,
pan, mute and solo the faders; receives (``AUXRECV``) sends to buses; the tempo
envelope the tempo map; volume envelopes lanes. VST3 plugins load through the plugin
host where installed (without REAPER's saved state); everything else is named in one
`ExchangeWarning`.
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

from mixtree.effects.base import Effect
from mixtree.errors import MediaError, MixtreeError, ProjectFileError
from mixtree.exchange.plugins import vst3_named
from mixtree.exchange.report import malformed_file, warn_lost
from mixtree.exchange.rpp_parse import Block, read
from mixtree.model.operations import AddSource
from mixtree.model.pool import Source, decode_source, offline_source
from mixtree.model.project import Project
from mixtree.model.tracks import AudioTrack, BusTrack, Metatrack, MidiTrack, Track

_AUDIO = {"WAVE", "MP3", "FLAC", "VORBIS", "OPUS", "WAVPACK"}


def _float(args: list[str] | None, k: int, default: float = 0.0) -> float:
    try:
        return float(args[k]) if args is not None and len(args) > k else default
    except ValueError:
        return default


def _db(gain: float) -> float:
    return 20.0 * math.log10(gain) if gain > 0.0 else -math.inf


class _Reader:
    def __init__(self, project: Project, path: Path) -> None:
        self.project = project
        self.path = path
        self.lost: Counter[str] = Counter()
        self.sources: dict[Path, Source] = {}
        self.by_index: list[Track | None] = []
        self.receives: list[tuple[int, Block]] = []

    def edit(self, where: str, action: object) -> object:
        try:
            return action()  # type: ignore[operator]
        except ValueError as exc:
            if isinstance(exc, MixtreeError):
                raise
            raise ProjectFileError(self.path, where, str(exc)) from exc

    # -- tempo and master --------------------------------------------------------------
    def tempo(self, root: Block) -> None:
        tm = self.project.tempo_map
        tempo = root.get("TEMPO")
        if tempo:
            self.edit("TEMPO", lambda: tm.set_tempo(0.0, _float(tempo, 0, 120.0)))
            num, den = int(_float(tempo, 1, 4)), int(_float(tempo, 2, 4))
            self.edit("TEMPO", lambda: tm.set_meter(0, num, den))
        env = root.block("TEMPOENVEX")
        if env is None:
            return
        points = sorted((_float(p, 0), _float(p, 1, 120.0), int(_float(p, 2)), p) for p in env.lines("PT"))
        if not points:
            return
        beat, last_time, last_bpm, last_shape = 0.0, 0.0, tm.tempos[0].bpm, 1
        for time, bpm, shape, args in points:
            time = max(time, 0.0)
            ramp = last_shape != 1 and time > 0.0
            if last_shape not in (0, 1):
                self.lost["tempo curves played as straight ramps"] += 1
            # beats passed since the last point: a held tempo, or a ramp linear in time
            beat += (time - last_time) * ((last_bpm + bpm) / 2.0 if ramp else last_bpm) / 60.0
            where = f"line {env.line} <TEMPOENVEX> PT {time:g}"
            self.edit(where, lambda beat=beat, bpm=bpm, ramp=ramp: tm.set_tempo(beat, bpm, ramp=ramp))
            if len(args) > 3 and int(_float(args, 3)) > 0:
                packed = int(_float(args, 3))
                bar, into = tm.bar_at(beat)
                if into > 1e-9:
                    self.lost["time signature changes moved to the start of their bar"] += 1
                num, den = packed & 0xFFFF, packed >> 16
                self.edit(where, lambda bar=bar, num=num, den=den: tm.set_meter(bar, num, den))
            last_time, last_bpm, last_shape = time, bpm, shape

    def master(self, root: Block) -> None:
        volume = root.get("MASTER_VOLUME")
        master = self.project.master
        if volume:
            self.edit("MASTER_VOLUME", lambda: setattr(master, "volume_db", min(_db(_float(volume, 0, 1.0)), 24.0)))
            self.edit("MASTER_VOLUME", lambda: setattr(master, "pan", min(max(_float(volume, 1), -1.0), 1.0)))
        mutesolo = root.get("MASTERMUTESOLO")
        if mutesolo and int(_float(mutesolo, 0)) & 1:
            master.mute = True
        fx = root.block("MASTERFXLIST")
        if fx is not None:
            self.chain(fx, master, "the master")
        if any(True for _ in root.lines("MARKER")):
            self.lost["markers and regions ignored"] += sum(1 for _ in root.lines("MARKER"))

    # -- tracks ------------------------------------------------------------------------
    def tracks(self, root: Block) -> None:
        folders: list[Metatrack] = []
        for index, block in enumerate(root.blocks("TRACK")):
            where = f"line {block.line} <TRACK> #{index + 1}"
            isbus = block.get("ISBUS") or ["0", "0"]
            change = int(_float(isbus, 1)) if int(_float(isbus, 0)) else 0
            track, content = self.track(block, index, folders[-1].id if folders else None, change == 1, where)
            self.by_index.append(track)
            self.faders(block, track, where)
            receives = list(block.lines("AUXRECV"))
            if receives:
                if isinstance(track, BusTrack):
                    self.receives.append((index, block))
                else:
                    self.lost["receives into tracks that play items or hold a folder dropped"] += len(receives)
            for item in block.blocks("ITEM"):
                self.item(item, content, where)
            self.envelopes(block, track, where)
            if isinstance(track, Metatrack):
                folders.append(track)
            elif change < 0:
                del folders[max(len(folders) + change, 0) :]
        for index, block in self.receives:
            self.receive(index, block)

    def track(
        self, block: Block, index: int, parent_id: int | None, folder: bool, where: str
    ) -> tuple[Track, Track | None]:
        """Return the track a <TRACK> block makes, and the track its items go on."""
        p = self.project
        name = (block.get("NAME") or [""])[0] if block.get("NAME") else ""
        name = name or f"Track {index + 1}"
        items = list(block.blocks("ITEM"))
        kinds = {self.item_kind(i) for i in items} - {None}
        instrument = self.instrument(block)
        if instrument is not None and instrument[0] is None:
            self.lost[f"MIDI tracks play the PolySynth instead of {instrument[1]}"] += 1
        synth = instrument[0] if instrument is not None else None
        track: Track
        if folder:
            track = self.edit(where, lambda: p.add_metatrack(name, parent_id=parent_id))  # type: ignore[assignment]
            if not kinds:
                return track, None
            if "midi" in kinds:
                content = self.edit(where, lambda: p.add_midi_track(f"{name} (items)", synth, parent_id=track.id))
            else:
                content = self.edit(where, lambda: p.add_audio_track(f"{name} (items)", parent_id=track.id))
            return track, content  # type: ignore[return-value]
        if "midi" in kinds or (instrument is not None and "audio" not in kinds):
            track = self.edit(where, lambda: p.add_midi_track(name, synth, parent_id=parent_id))  # type: ignore[assignment]
            return track, track
        if any(True for _ in block.lines("AUXRECV")) and not items:
            return self.edit(where, lambda: p.add_bus(name, parent_id=parent_id)), None  # type: ignore[return-value]
        track = self.edit(where, lambda: p.add_audio_track(name, parent_id=parent_id))  # type: ignore[assignment]
        return track, track

    def faders(self, block: Block, track: Track, where: str) -> None:
        volpan = block.get("VOLPAN")
        if volpan:
            self.edit(where, lambda: setattr(track, "volume_db", min(_db(_float(volpan, 0, 1.0)), 24.0)))
            self.edit(where, lambda: setattr(track, "pan", min(max(_float(volpan, 1), -1.0), 1.0)))
        mutesolo = block.get("MUTESOLO")
        if mutesolo:
            track.mute = bool(int(_float(mutesolo, 0)))
            track.solo = bool(int(_float(mutesolo, 1)))
        color = int(_float(block.get("PEAKCOL"), 0))
        if color & 0x1000000:
            r, g, b = color & 0xFF, (color >> 8) & 0xFF, (color >> 16) & 0xFF
            track.color = f"#{r:02x}{g:02x}{b:02x}"
        mainsend = block.get("MAINSEND")
        if mainsend and int(_float(mainsend, 0)) == 0:
            self.lost["tracks not sent to their parent summed into it anyway"] += 1
        fx = block.block("FXCHAIN")
        if fx is not None:
            self.chain(fx, track, track.name)

    def instrument(self, block: Block) -> tuple[Effect | None, str] | None:
        """Return a track's instrument (None if it cannot be hosted) and its name, or None."""
        fx = block.block("FXCHAIN")
        for plugin in fx.items if fx is not None else []:
            if isinstance(plugin, Block) and plugin.args and plugin.args[0].split(":")[0].endswith("i"):
                effect = self.host(plugin)
                return (
                    effect if effect is not None and getattr(effect, "is_instrument", False) else None
                ), plugin.args[0]
        return None

    def chain(self, fx: Block, track: Track, where: str) -> None:
        bypass = False
        for entry in fx.items:
            if isinstance(entry, list):
                if entry and entry[0] == "BYPASS":
                    bypass = bool(int(_float(entry[1:], 0)))
                continue
            label = entry.args[0] if entry.args else entry.tag
            if entry.args and entry.args[0].split(":")[0].endswith("i"):
                continue  # the instrument, made with the track
            effect = self.host(entry)
            if effect is None or getattr(effect, "is_instrument", False):
                kind = label.split(":")[0] if ":" in label else entry.tag
                self.lost[f"{kind} plugins dropped ({label})"] += 1
                continue
            self.edit(where, lambda effect=effect: track.add_effect(effect))
            effect.bypass = bypass
            self.lost[f"VST3 plugins loaded at their defaults, REAPER's saved state not read ({label})"] += 1

    def host(self, block: Block) -> Effect | None:
        """Return the VST3 plugin ``block`` names, if it is installed here."""
        if block.tag != "VST" or not block.args or not block.args[0].startswith("VST3") or len(block.args) < 2:
            return None
        return vst3_named(block.args[1])

    def receive(self, index: int, block: Block) -> None:
        bus = self.by_index[index]
        for args in block.lines("AUXRECV"):
            source_index, mode = int(_float(args, 0)), int(_float(args, 1))
            source = self.by_index[source_index] if 0 <= source_index < len(self.by_index) else None
            if source is None or source is bus:
                self.lost["receives from tracks not in the project dropped"] += 1
                continue
            level = -math.inf if int(_float(args, 4)) else min(_db(_float(args, 2, 1.0)), 12.0)
            if mode == 1:
                self.lost["pre-FX sends taken pre-fader (after the effects)"] += 1
            try:
                source.add_send(bus.id, level, pre_fader=mode != 0)  # type: ignore[union-attr]
            except ValueError as exc:
                if isinstance(exc, MixtreeError):
                    raise
                self.lost[f"receives refused ({exc})"] += 1

    # -- items -------------------------------------------------------------------------
    def item_kind(self, item: Block) -> str | None:
        source = self.source_block(item)
        if source is None:
            return None
        kind = source.args[0] if source.args else ""
        return "midi" if kind == "MIDI" else "audio" if kind in _AUDIO else None

    def source_block(self, item: Block) -> Block | None:
        source = item.block("SOURCE")
        while source is not None and source.args and source.args[0] == "SECTION":
            self.lost["section or reversed sources played plain"] += 1
            source = source.block("SOURCE")
        return source

    def item(self, item: Block, track: Track | None, where: str) -> None:
        where = f"line {item.line} <ITEM>"
        source = self.source_block(item)
        if source is None:
            return  # an empty item (a note, a marker of sorts)
        kind = source.args[0] if source.args else "?"
        takes = sum(1 for _ in item.blocks("SOURCE"))
        if takes > 1:
            self.lost["alternative takes ignored"] += takes - 1
        position = max(_float(item.get("POSITION"), 0), 0.0)
        length = _float(item.get("LENGTH"), 0)
        muted = bool(int(_float(item.get("MUTE"), 0)))
        if length <= 0.0:
            return
        if kind == "MIDI" and isinstance(track, MidiTrack):
            self.midi(item, source, track, position, length, muted, where)
        elif kind in _AUDIO and isinstance(track, AudioTrack):
            self.audio(item, source, track, position, length, muted, where)
        else:
            self.lost[
                f"{kind} items dropped"
                if kind not in _AUDIO | {"MIDI"}
                else f"{kind} items on tracks of the other kind dropped"
            ] += 1

    def audio(
        self, item: Block, source: Block, track: AudioTrack, position: float, length: float, muted: bool, where: str
    ) -> None:
        file = source.get("FILE")
        if not file:
            self.lost["audio items without a file dropped"] += 1
            return
        media = self.media(Path(file[0]), length)
        rate_args = item.get("PLAYRATE")
        speed = _float(rate_args, 0, 1.0) or 1.0
        if speed != 1.0 and int(_float(rate_args, 1, 1.0)):
            self.lost["pitch-preserving play rates played as varispeed"] += 1
        if _float(rate_args, 2) != 0.0:
            self.lost["item pitch shifts ignored"] += 1
        offset = max(_float(item.get("SOFFS"), 0), 0.0)
        volpan = item.get("VOLPAN")
        gain = _float(volpan, 0, 1.0)
        if volpan and _float(volpan, 1) != 0.0:
            self.lost["item pans ignored"] += 1
        room = (media.frames / media.sample_rate - offset) / speed
        if length > room + 0.5 / media.sample_rate:
            looped = bool(int(_float(item.get("LOOP"), 0)))
            self.lost["looped items played once" if looped else "items cut to the end of their media"] += 1
            length = room
        if length * media.sample_rate < 1.0:
            return
        fade_in, fade_out = self.fade(item.get("FADEIN")), self.fade(item.get("FADEOUT"))
        if fade_in + fade_out > length:
            scale = length / (fade_in + fade_out)
            fade_in, fade_out = fade_in * scale, fade_out * scale
        values = {
            "start": position,
            "duration": length,
            "offset": offset,
            "speed": speed,
            "gain_db": min(_db(gain), 24.0),
            "fade_in": fade_in,
            "fade_out": fade_out,
            "muted": muted,
        }
        self.edit(where, lambda: track.add_clip(media, **values))

    def fade(self, args: list[str] | None) -> float:
        if not args:
            return 0.0
        length = max(_float(args, 1), _float(args, 2))  # the auto-fade length, when longer, is what plays
        if length > 0.0 and int(_float(args, 0)) not in (0, 1):
            self.lost["fade shapes played linear"] += 1
        return max(length, 0.0)

    def media(self, path: Path, length: float) -> Source:
        resolved = (path if path.is_absolute() else self.path.parent / path).resolve()
        if resolved in self.sources:
            return self.sources[resolved]
        ident = self.project.registry.new_id()
        rate = self.project.sample_rate
        try:
            source = decode_source(ident, resolved, rate)
        except MediaError as exc:
            source = offline_source(ident, resolved, rate, max(1, round(length * rate)), 2, exc.reason)
            self.lost[f"media offline ({path.name}: {exc.reason})"] += 1
        self.project.apply(AddSource(source))
        self.sources[resolved] = source
        return source

    def midi(
        self, item: Block, source: Block, track: MidiTrack, position: float, length: float, muted: bool, where: str
    ) -> None:
        has = source.get("HASDATA")
        ppq = int(_float(has, 1, 960)) or 960
        tm = self.project.tempo_map
        zero = tm.beat_at(position)
        clip = self.edit(where, lambda: track.add_midi_clip(position, length, 0.0))
        if muted:
            self.lost["muted MIDI items played"] += 1
        tick = 0
        sounding: dict[tuple[int, int], tuple[int, int]] = {}
        for line in source.items:
            if not isinstance(line, list) or not line or line[0] not in ("E", "e", "X", "x") or len(line) < 3:
                continue
            try:
                tick += int(line[1])
                status, data = int(line[2], 16), [int(x, 16) for x in line[3:5]]
            except ValueError:
                raise ProjectFileError(
                    self.path, f"line {source.line} <SOURCE MIDI>", f"bad event {' '.join(line)}"
                ) from None
            kind, channel = status & 0xF0, status & 0x0F
            if kind == 0x90 and len(data) == 2 and data[1] > 0:
                sounding[(channel, data[0])] = (tick, data[1])
            elif kind in (0x80, 0x90) and len(data) == 2 and (channel, data[0]) in sounding:
                began, velocity = sounding.pop((channel, data[0]))
                start = tm.seconds_at(zero + began / ppq) - position
                end = tm.seconds_at(zero + tick / ppq) - position
                if end > start >= 0.0:
                    self.edit(where, lambda k=data[0], v=velocity, s=start, d=end - start: clip.add_note(k, v, s, d))  # type: ignore[attr-defined]
            elif kind == 0xB0 and len(data) == 2 and data[0] != 123:
                at = tm.seconds_at(zero + tick / ppq) - position
                if at >= 0.0:
                    self.edit(where, lambda a=at, n=data[0], v=data[1]: clip.add_event(a, "cc", v, n))  # type: ignore[attr-defined]
            elif kind not in (0x80, 0x90, 0xB0):
                self.lost["MIDI events other than notes and controllers dropped"] += 1
        if len(sounding):
            self.lost["notes never released dropped"] += len(sounding)
        if (
            bool(int(_float(item.get("LOOP"), 0)))
            and tick
            and tm.seconds_at(zero + tick / ppq) - position < length - 1e-9
        ):
            self.lost["looped items played once"] += 1

    # -- envelopes ---------------------------------------------------------------------
    def envelopes(self, block: Block, track: Track, where: str) -> None:
        for env in block.items:
            if not isinstance(env, Block) or not env.tag.endswith("ENV") and not env.tag.endswith("ENV2"):
                continue
            points = list(env.lines("PT"))
            active = int(_float(env.get("ACT"), 0, 1.0))
            if not points or not active:
                continue
            if env.tag not in ("VOLENV2", "VOLENV"):
                self.lost[f"{env.tag} envelopes dropped"] += 1
                continue
            rows = []
            for p in points:
                time = _float(p, 0)
                if time < 0.0:
                    continue
                shape = "hold" if int(_float(p, 2)) == 1 else "linear"
                rows.append((time, min(max(_db(_float(p, 1, 1.0)), -144.0), 24.0), shape, 0.0))
            lane = track.automate("volume_db")
            self.edit(f"line {env.line} <{env.tag}>", lambda lane=lane, rows=rows: lane.set_points(rows))
            if env.tag == "VOLENV":
                self.lost["pre-FX volume envelopes played after the effects"] += 1


def import_rpp(path: str | Path, sample_rate: int = 48000) -> Project:
    """Read the REAPER project ``path`` into a new project.

    Parameters
    ----------
    path
        A ``.RPP`` file (REAPER's plain-text project).
    sample_rate
        The new project's rate, Hz; media are resampled to it.

    Returns
    -------
    Project
        The project, with an empty undo history; what it cannot represent is named in
        one `ExchangeWarning`.

    Raises
    ------
    ProjectFileError
        The file is not a REAPER project or is malformed (naming the line).
    """
    path = Path(path).expanduser().resolve()
    with malformed_file(path):
        root = read(path)
        project = Project(sample_rate)
        reader = _Reader(project, path)
        reader.tempo(root)
        reader.master(root)
        reader.tracks(root)
        project.forget_history()
        project.version = 0
        warn_lost(path, reader.lost, stacklevel=2)
        return project
