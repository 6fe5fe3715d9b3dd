"""The studio's bridge to the control side: it owns the engine and the project.

Edits from the page and from OSC arrive here as small requests (`Session.request`) and
become the project's own undoable operations, applied on the caller's thread under
``project.lock``. What changes (the project, the transport, meters, errors, peak
overviews ready) goes out to listeners as JSON-ready messages from the session's own
thread at `RATE` Hz; the engine's events arrive through `Engine.subscribe`, so nothing
polls the audio thread and nothing here runs on it.
"""

from __future__ import annotations

import math
import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mixtree.engine.commands import Event
from mixtree.engine.engine import Engine
from mixtree.errors import MixtreeError
from mixtree.model.automation import AutomationLane
from mixtree.model.clip import Clip
from mixtree.model.history import Inverse
from mixtree.model.midi import MidiClip
from mixtree.model.operations import AddClip, AddMidiClip, Batch, RemoveClip, SetAttribute, SetAttributes
from mixtree.model.project import Project
from mixtree.model.structure import tempo_map_of
from mixtree.model.tracks import AudioTrack, Metatrack, MidiTrack, Track
from mixtree.studio.peaks import PeakStore, cache_dir
from mixtree.studio.state import notes_bytes, notes_key, project_state

#: Messages per second to the page (transport and meters).
RATE = 30.0
#: MIDI clips whose notes, packed for the page, are kept.
NOTES_KEPT = 32

Message = dict[str, Any]
Listener = Callable[[list[Message]], None]


class Session:
    """The engine playing ``project``, and what the studio's faces may do with it.

    Parameters
    ----------
    project
        The project (saved or not).
    driver, device, blocksize
        As for `Engine`; with ``"sounddevice"`` and no usable device the session plays
        through the null driver and says so in ``notice``.
    """

    def __init__(
        self,
        project: Project,
        driver: str = "sounddevice",
        device: int | str | None = None,
        blocksize: int = 256,
    ) -> None:
        self.project = project
        self.notice = ""
        # every row of the page has a meter: plain groups get slots of their own
        self.engine = Engine(project, driver=driver, blocksize=blocksize, device=device, meter_groups=True)
        try:
            self.engine.start()
        except Exception as exc:
            if driver != "sounddevice":
                self.engine.close()
                raise
            self.engine.close()
            self.notice = f"no audio device ({exc}): playing through the null driver (silent)"
            self.engine = Engine(project, driver="null", blocksize=blocksize, meter_groups=True).start()
        self.loop = (False, 0.0, 0.0)
        self._lock = threading.Lock()
        self._listeners: list[Listener] = []
        self._outbox: list[Message] = []  # errors and peak news since the last tick
        self._dirty = True
        self._meters: Event | None = None
        self._xruns = 0
        self._quiet = False  # silence was sent as the meters of a stopped engine
        self._notes: dict[int, tuple[str, bytes]] = {}  # clip id → (notes key, packed notes)
        self.peaks = PeakStore(self._peaks_folder, self._peaks_ready, self._peaks_failed)
        for source in list(project.pool):
            self.peaks.request(source)
        for source in project.pool.offline:
            self.error(
                f"'{source.path.name}' is offline ({source.offline}): its clips play silence until it is relinked"
            )
        self._halt = threading.Event()
        self.engine.subscribe(self._on_event)
        self._thread = threading.Thread(target=self._run, name="mixtree-studio", daemon=True)
        self._thread.start()

    # -- life cycle ----------------------------------------------------------------------
    def close(self) -> None:
        """Stop sending, stop the engine and the peak worker."""
        self._halt.set()
        self._thread.join()
        self.engine.unsubscribe(self._on_event)
        self.engine.close()
        self.peaks.close()

    def listen(self, listener: Listener) -> None:
        """Call ``listener(messages)`` from the session's thread at `RATE` Hz while there is news."""
        self._listeners.append(listener)
        self._dirty = True  # a newcomer needs the whole project

    def resend(self) -> None:
        """Send the whole project again at the next tick (a page just connected)."""
        self._dirty = True

    def unlisten(self, listener: Listener) -> None:
        """Stop calling ``listener``."""
        if listener in self._listeners:
            self._listeners.remove(listener)

    # -- what goes out -------------------------------------------------------------------
    def _peaks_folder(self) -> Path:
        return cache_dir(self.project.path)

    def _peaks_ready(self, source_id: int) -> None:
        self._post({"type": "peaks", "source": source_id})

    def _peaks_failed(self, source_id: int, message: str) -> None:
        self._post({"type": "error", "message": f"waveform of source #{source_id}: {message}"})

    def _post(self, message: Message) -> None:
        with self._lock:
            self._outbox.append(message)

    def error(self, message: str) -> None:
        """Show ``message`` on every page (and send it to every listener)."""
        self._post({"type": "error", "message": message})

    def _on_event(self, event: Event) -> None:
        # the engine's control thread: keep what is news, the latest wins
        if event.kind == "meters":
            self._meters = event
        elif event.kind == "edit":
            self._dirty = True
            for source in list(self.project.pool):
                self.peaks.request(source)  # a source added by an edit gets its overview
        elif event.kind == "xrun":
            self._xruns = event.count
        elif event.kind in ("error", "underrun", "device_lost"):
            text = event.message or f"'{event.source}' was not read in time: it played silence"
            self.error(text)

    def _run(self) -> None:
        while not self._halt.wait(1.0 / RATE):
            try:
                messages = self.tick()
                for listener in list(self._listeners):
                    listener(messages)
            except Exception:  # one bad round must not stop the page's updates
                traceback.print_exc()

    def tick(self) -> list[Message]:
        """Return the messages due now: the project if it changed, the transport, meters,
        and the errors and peak news posted since the last call."""
        out: list[Message] = []
        if self._dirty:
            self._dirty = False
            out.append({"type": "project", "project": self.state()})
        on, start, end = self.loop
        out.append(
            {
                "type": "transport",
                "position": self.engine.position,
                "playing": self.engine.playing,
                "loop": [on, start, end],
                "xruns": self._xruns,
            }
        )
        meters, self._meters = self._meters, None
        playing = self.engine.playing
        if not playing and meters is not None:
            # a stopped engine renders nothing: its meters hold the last levels; show silence
            meters = None if self._quiet else Event("meters")
            self._quiet = True
        elif playing:
            self._quiet = False
        if meters is not None:
            out.append(
                {
                    "type": "meters",
                    "peak": {str(k): [round(v[0], 5), round(v[1], 5)] for k, v in meters.peak.items()},
                    "rms": {str(k): [round(v[0], 5), round(v[1], 5)] for k, v in meters.rms.items()},
                }
            )
        with self._lock:
            out += self._outbox
            self._outbox = []
        return out

    def state(self) -> Message:
        """Return the whole project as the page draws it (`state.project_state`)."""
        return project_state(self.project, lambda i: self.peaks.get(i) is not None, self.notice)

    def notes(self, clip_id: int) -> tuple[str, int, bytes]:
        """Return a MIDI clip's notes as the page reads them: their key (`state.notes_key`),
        how many, and the packed columns (`state.notes_bytes`); kept until they change."""
        with self.project.lock:
            clip = self.project.record(clip_id)
            if not isinstance(clip, MidiClip):
                raise ValueError(f"#{clip_id} is not a MIDI clip")
            key = notes_key(clip)
            kept = self._notes.get(clip_id)
            if kept is None or kept[0] != key:
                kept = (key, notes_bytes(clip))
                self._notes.pop(clip_id, None)
                self._notes[clip_id] = kept
                while len(self._notes) > NOTES_KEPT:
                    self._notes.pop(next(iter(self._notes)))
            return key, len(clip.notes), kept[1]

    # -- what comes in -------------------------------------------------------------------
    def request(self, message: Message) -> Message:
        """Carry out one request from a face (``{"op": …, …}``) and return its result;
        raise ``ValueError`` (or a `MixtreeError`) naming what was wrong, ``KeyError`` for
        an unknown id or a missing field."""
        op = message.get("op")
        handler = getattr(self, f"_op_{op}", None) if isinstance(op, str) else None
        if handler is None:
            raise ValueError(f"unknown request {op!r}")
        result = handler(message)
        return {"ok": True, **(result or {})}

    def _op_play(self, m: Message) -> None:
        self.engine.play()

    def _op_pause(self, m: Message) -> None:
        self.engine.pause()

    def _op_stop(self, m: Message) -> None:
        self.engine.stop()

    def _op_seek(self, m: Message) -> None:
        self.engine.seek(_number(m, "seconds"))

    def _op_loop(self, m: Message) -> None:
        on = bool(m.get("on"))
        start = _number(m, "start") if "start" in m else 0.0
        end = self.project.duration if m.get("end") is None else _number(m, "end")
        self.engine.set_loop(on, start, end)
        self.loop = (on, start, end)

    def toggle_loop(self) -> None:
        """Loop the whole project, or the last loop range, on or off."""
        on, start, end = self.loop
        if end <= start:
            start, end = 0.0, self.project.duration
        if end > start:
            self._op_loop({"on": not on, "start": start, "end": end})

    def _op_undo(self, m: Message) -> Message:
        return {"done": self.project.undo()}

    def _op_redo(self, m: Message) -> Message:
        return {"done": self.project.redo()}

    def _op_save(self, m: Message) -> Message:
        path = m.get("path") or None
        if path is None and self.project.path is None:
            raise ValueError("this project has no file yet: give a path to save it to")
        saved = self.project.save(Path(path).expanduser() if path else None)
        self._dirty = True
        return {"path": str(saved)}

    def _op_set(self, m: Message) -> None:
        track = self.project.track(_id(m, "track"))
        name, value = m.get("name"), m.get("value")
        e = self.engine
        if name == "volume_db":
            e.set_volume(track.id, -math.inf if value is None else _number(m, "value"))
        elif name == "pan":
            e.set_pan(track.id, _number(m, "value"))
        elif name == "mute":
            e.set_mute(track.id, bool(value))
        elif name == "solo":
            e.set_solo(track.id, bool(value))
        elif name == "speed":
            e.set_speed(track.id, _number(m, "value"))
        elif name in ("offset", "pitch") and isinstance(track, Metatrack):
            setattr(track, name, _number(m, "value"))
        elif name == "collapsed":
            track.collapsed = bool(value)
        elif name == "name":
            track.name = str(value)
        else:
            raise ValueError(f"cannot set {name!r} of {track.name!r} here")

    def _op_move_clip(self, m: Message) -> None:
        clip = self._clip(m)
        start = _number(m, "start")
        target = _id(m, "track") if "track" in m else clip.track_id
        if target == clip.track_id:
            clip.start = start
            return
        track = self.project.track(target)
        if isinstance(clip, Clip):
            if not isinstance(track, AudioTrack):
                raise ValueError(f"an audio clip cannot go to {track.name!r}: it is not an audio track")
            ops = [RemoveClip(clip.id), AddClip(target, clip)]
        else:
            if not isinstance(track, MidiTrack):
                raise ValueError(f"a MIDI clip cannot go to {track.name!r}: it is not a MIDI track")
            ops = [Inverse(AddMidiClip(clip.track_id, clip)), AddMidiClip(target, clip)]
        self.project.apply(
            Batch(f"move clip #{clip.id} to {track.name!r}", [*ops, SetAttribute(clip.id, "start", start)])
        )

    def _op_trim_clip(self, m: Message) -> None:
        clip = self._clip(m)
        values = {k: getattr(type(clip), k).check(_number(m, k)) for k in ("start", "duration", "offset") if k in m}
        self.project.apply(SetAttributes(clip.id, values))

    def _op_fade(self, m: Message) -> None:
        clip = self._clip(m)
        if not isinstance(clip, Clip):
            raise ValueError("only audio clips have fades")
        values = {k: getattr(Clip, k).check(_number(m, k)) for k in ("fade_in", "fade_out") if k in m}
        self.project.apply(SetAttributes(clip.id, values))

    def _op_set_points(self, m: Message) -> None:
        lane = self.project.record(_id(m, "lane"))
        if not isinstance(lane, AutomationLane):
            raise ValueError(f"#{m['lane']} is not an automation lane")
        given = m.get("points", [])
        pairs = isinstance(given, list) and all(isinstance(p, list) and len(p) == 2 for p in given)
        if not pairs:
            raise ValueError(f"points must be a list of [time, value] pairs, not {given!r:.80}")
        points = []
        old = {round(p.time, 9): p for p in lane.points}
        for p in given:
            time, value = _number({"time": p[0]}, "time"), _number({"value": p[1]}, "value")
            if lane.time_base == "beats":
                time = self._tempo(lane).beat_at(time)
            kept = old.get(round(time, 9))
            shape, tension = (kept.shape, kept.tension) if kept is not None else ("linear", 0.0)
            points.append((time, value, shape, tension))
        lane.set_points(points)

    def _clip(self, m: Message) -> Clip | MidiClip:
        clip = self.project.record(_id(m, "clip"))
        if not isinstance(clip, Clip | MidiClip):
            raise ValueError(f"#{m['clip']} is not a clip")
        return clip

    def _tempo(self, lane: AutomationLane) -> Any:
        owner = self.project.registry.lane_owner(lane.owner)
        return tempo_map_of(self.project, owner) if isinstance(owner, Track) else self.project.tempo_map

    # -- for OSC -------------------------------------------------------------------------
    def strips(self) -> list[Track]:
        """Return the tracks OSC numbers as strips 1, 2, …: every track in tree order."""
        return self.project.tracks


def _id(m: Message, key: str) -> int:
    value = m[key]  # a missing field: KeyError, as an unknown id
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{key} must be an id (a whole number), not {value!r:.80}")
    return value


def _number(m: Message, key: str) -> float:
    value = m.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{key} must be a number, not {value!r:.80}")
    return float(value)


def describe(exc: BaseException) -> str:
    """Return the one line the page shows for a refused request."""
    if isinstance(exc, KeyError | IndexError):
        return f"unknown id or missing field: {exc}"
    if isinstance(exc, ValueError | MixtreeError | OSError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"
