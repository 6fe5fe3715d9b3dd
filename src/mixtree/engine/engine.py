"""The engine's control side: owns the project link, publishes plans, sends commands.

An `Engine` plays one project. Edits made to the project while it plays reach the audio
thread by themselves: fader, pan, mute and solo changes as commands, everything else as a
freshly compiled plan published by one attribute store. Old plans are dropped here, on
the control side, once the audio thread has moved past them.
"""

from __future__ import annotations

import gc
import sys
import threading
import time
import traceback
import warnings
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from mixtree.dsp.finite import zero_nonfinite
from mixtree.effects.base import Effect
from mixtree.engine import commands as cmd
from mixtree.engine.commands import Event
from mixtree.engine.drivers import Driver, open_driver
from mixtree.engine.player import Player
from mixtree.engine.reader import Reader
from mixtree.engine.recording import Passes
from mixtree.engine.watchdog import Watchdog
from mixtree.errors import QueueFullError
from mixtree.io.audio_file import MediaWarning
from mixtree.model import checks
from mixtree.model.automation import AutomationLane, manual_value
from mixtree.model.history import Inverse
from mixtree.model.operations import AddSource, Operation, SetAttribute, SetEffectParameter
from mixtree.model.pool import Source
from mixtree.model.project import Project
from mixtree.model.structure import ancestors
from mixtree.model.tracks import Metatrack, MidiTrack, Send, Track
from mixtree.render.compile import CompileOptions, compile_plan, needs_stretch
from mixtree.render.plan import RenderPlan
from mixtree.render.stretch import StretchWorker
from mixtree.units import MAX_SECONDS, db_to_gain, seconds_to_frames

#: Default time a fader or pan change takes to arrive, seconds (no zipper, no click).
FADER_RAMP = 0.010
#: Length of the crossfade that de-clicks seeks, loop jumps and pauses, seconds.
SEEK_XFADE = 0.005
#: GIL switch interval while a stream runs, seconds (CPython's default is 0.005).
SWITCH_INTERVAL = 0.0005
#: How often the control thread does its housekeeping and hands events on, seconds (a
#: UI's frame rate: more often only takes the GIL from the audio callback more often).
CONTROL_PERIOD = 0.03
#: Events kept for `Engine.events` callers while the control thread runs (the oldest go first).
BACKLOG = 4096

_FAST_ATTRIBUTES = {"volume_db", "pan", "mute", "solo"}


class Engine:
    """Plays ``project`` in real time, or block by block by hand.

    Parameters
    ----------
    project
        The project to play; its later edits reach the engine by themselves.
    driver
        ``"sounddevice"`` (PortAudio, the default) or ``"null"`` (paces blocks from a
        thread, for machines without a device).
    blocksize
        Frames per callback, 32..4096.
    device
        PortAudio device index or name substring (``sounddevice`` only).
    autosave
        Seconds between autosaves of a project that has a file (None: never); they
        happen on the control thread (or, for an engine driven by hand, in `events`).
    meter_groups
        Meter every metatrack, also one that only sums its children (which otherwise
        gets no slot of its own, so no meter): for a UI that shows every track's meter.
    realtime
        Ask the OS to run the audio thread under SCHED_FIFO (`engine.scheduling`), once
        per stream, from its first block; None (the default): with a device (PortAudio),
        not with the null driver. ``stats()["realtime"]`` says whether the thread got it
        (a JACK client's thread already has it when the server runs so).

    Every effect and instrument starts at rest, as in an offline render. A metatrack
    played through Rubber Band is re-rendered on a worker thread when its subtree is
    edited; its previous render plays until the new one is ready (the control thread
    then publishes it).

    A started engine runs its own control thread: every `CONTROL_PERIOD` it drops old
    plans, collects garbage, autosaves, publishes finished renders and hands what the
    audio thread reported to the callbacks given to `subscribe` (a UI needs no polling);
    `events` still returns the same events to a caller that polls. Housekeeping holds
    ``project.lock``, as every edit does, so it never sees an edit half made.

    A device that goes away while the engine runs (unplugged, a JACK server killed) is
    noticed by the control thread (`engine.watchdog`: the stream stops, or calls back no
    more for `watchdog.STALL_LIMIT`): the transport stops where it was, the driver is
    closed without blocking, and a ``device_lost`` event names the device. `start` opens
    it again once it is back; the project is untouched throughout.

    An engine that was never started can be driven by hand with `process`.
    """

    def __init__(
        self,
        project: Project,
        driver: str = "sounddevice",
        blocksize: int = 256,
        device: int | str | None = None,
        autosave: float | None = 30.0,
        meter_groups: bool = False,
        realtime: bool | None = None,
    ) -> None:
        if isinstance(blocksize, bool) or not isinstance(blocksize, int) or not 32 <= blocksize <= 4096:
            raise ValueError(f"blocksize must be a whole number of frames in 32..4096, not {blocksize!r}")
        if driver not in ("sounddevice", "null"):
            raise ValueError(f"driver must be 'sounddevice' or 'null', not {driver!r}")
        if autosave is not None:
            autosave = checks.number("autosave interval (seconds)", 0.0, 1e9)(autosave)
        self.project = project
        self.sample_rate = project.sample_rate
        self.blocksize = blocksize
        self.driver_name = driver
        self.device = device
        self.meter_groups = bool(meter_groups)
        self.realtime = driver == "sounddevice" if realtime is None else bool(realtime)
        self._ramp = seconds_to_frames(FADER_RAMP, self.sample_rate)
        _warm_up(self.sample_rate, blocksize)
        for effect in project.processors():
            effect.reset()  # effects and instruments start at rest, as in a render
        self._stretch = StretchWorker(ready=self._stretch_ready)
        self._stretch_done = False
        self._loop_at = -1  # where the last loop set starts (frames), for the plans' streams
        self._published = _aimed(compile_plan(project, self._options(None)), 0)
        self._retired: list[RenderPlan] = []
        self._unplayed: list[tuple[int, Any]] = []  # (block count, a plugin instance replaced then)
        self._player = Player(self._published, seconds_to_frames(SEEK_XFADE, self.sample_rate), self._ramp)
        self._player.period = blocksize / self.sample_rate
        self._driver: Driver | None = None
        self._switch_interval: float | None = None
        self._gc_was_enabled = True
        self._lock = threading.Lock()  # control-side only: edits from several threads
        self._ramp_override: int | None = None
        self.autosave_interval = autosave
        self._last_autosave = time.monotonic()
        self._last_collect = time.monotonic()
        self._passes = Passes()
        self._dropped = 0  # recorded moves lost to a full ring, reported so far
        self._broken: dict[int, list[Effect]] = {}  # silenced slots waiting for a plugin's recover()
        self._sought = (0, -2)  # (frame, blocks played when sent): the last seek, for the reader
        # fills streamed windows ahead
        self._reader = Reader(self._streamed_plans, self._loop_start, self._playhead, self._heard)
        self._subscribers: list[Callable[[Event], None]] = []
        self._backlog: deque[Event] = deque(maxlen=BACKLOG)  # for `events` callers, while the thread runs
        self._seen_version = project.version
        self._control: threading.Thread | None = None
        self._halt = threading.Event()
        self._life = threading.RLock()  # opening, losing and closing the driver
        self._watchdog: Watchdog | None = None
        self._device_label = ""  # the device found at the last start, to find it again by name
        project.subscribe(self._on_edit)

    # -- life cycle ----------------------------------------------------------------------
    def start(self) -> Engine:
        """Open the driver and start calling back; returns the engine.

        After a ``device_lost`` event this opens the device again (the same one, found by
        its name: indices may change when PortAudio lists devices again); the transport
        stays stopped. Raises `DeviceError` naming the device when it cannot be opened.
        """
        with self._life:
            if self._driver is not None:
                return self
            driver = open_driver(
                self.driver_name,
                self._player.render,
                self._player.xrun,
                self.sample_rate,
                self.blocksize,
                self._device_label if isinstance(self.device, int) and self._device_label else self.device,
            )
            self._switch_interval = sys.getswitchinterval()
            sys.setswitchinterval(SWITCH_INTERVAL)
            # The collector runs in whichever thread allocates when a threshold trips: the
            # audio thread must not pay for a full collection of a large heap. Existing objects
            # move out of its reach, automatic collection pauses, and `events` collects the
            # young generations on the control side instead.
            self._gc_was_enabled = gc.isenabled()
            gc.freeze()
            gc.disable()
            self._player.want_realtime = self.realtime  # (the stream's thread asks, at its first block)
            try:
                driver.start()
            except BaseException:
                self._restore_interpreter()
                raise
            self._driver = driver
            self._device_label = getattr(driver, "label", "") or self._device_label
            self._watchdog = Watchdog(self._player.period, self._player.blocks, time.monotonic())
            if self._control is None:
                self._halt.clear()
                self._control = threading.Thread(target=self._control_loop, name="mixtree-control", daemon=True)
                self._control.start()
        return self

    def close(self) -> None:
        """Stop the driver, restore the GIL switch interval and stop following the project;
        automation recorded until now becomes an edit."""
        if self._control is not None:
            self._halt.set()
            self._control.join()
            self._control = None
        with self._life:
            if self._driver is not None:
                self._driver.stop()
                self._driver = None
            self._restore_interpreter()
        self._stretch.close()
        while self._unplayed:
            self._unplayed.pop()[1].close()
        self._reader.close()
        for plan in (self._player.plan, self._published):  # the files they stream from (shared once adopted)
            if plan.streams is not None:
                plan.streams.close()
        self.project.unsubscribe(self._on_edit)
        self._player.end_pass()  # no callback runs any more: what was recorded is kept
        self._commit_passes()

    def _restore_interpreter(self) -> None:
        # the GIL switch interval and the collector as they were before `start`
        if self._switch_interval is not None:
            sys.setswitchinterval(self._switch_interval)
            self._switch_interval = None
            gc.unfreeze()
            if self._gc_was_enabled:
                gc.enable()

    def _watch(self) -> Event | None:
        # the control thread's look at the driver: a lost one is stopped cleanly, reported
        with self._life:
            driver, watchdog = self._driver, self._watchdog
            if driver is None or watchdog is None:
                return None
            reason = watchdog.check(driver.alive, self._player.blocks, time.monotonic())
            if reason is None:
                return None
            driver.detach()  # from now on no callback touches the player
            driver.stop()  # never blocks: a stream of a vanished device is given up
            self._driver = None
            self._watchdog = None
            self._restore_interpreter()
        label = getattr(driver, "label", "") or str(self.device)
        with self.project.lock:
            self._player.halt()
        return Event(
            "device_lost",
            device=label,
            position=self._player.position,
            message=f"audio device {label!r} lost: {reason}; playback stopped, start() opens it again",
        )

    def __enter__(self) -> Engine:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def running(self) -> bool:
        """Return True while a driver calls back."""
        return self._driver is not None and self._driver.alive

    @property
    def latency(self) -> float:
        """Return the output latency the driver reports, seconds (0 when not started)."""
        return self._driver.latency if self._driver is not None else 0.0

    def process(self, frames: int | None = None) -> np.ndarray:
        """Run one callback by hand and return its block, float32 ``(frames, 2)``.

        Only for an engine that was not started (tests, offline use).
        """
        if self._driver is not None:
            raise RuntimeError("process() drives an engine by hand; this one runs a driver")
        frames = self.blocksize if frames is None else frames
        out = np.zeros((frames, 2), dtype=np.float32)
        self._player.render(out)
        self._retire()
        return out

    # -- transport -----------------------------------------------------------------------
    def play(self) -> None:
        """Start playing from the current position (no fade: the first block is exact).
        Lanes in ``write`` start recording their parameter's manual value at once."""
        self._send((cmd.PLAY,))
        for lane in self.project.lanes:
            if lane.mode == "write":
                self._player.params[(cmd.TOUCH, lane.id)] = (manual_value(self.project, lane), 1)

    def pause(self) -> None:
        """Stop playing where the playhead is, fading out over a few milliseconds."""
        self._send((cmd.PAUSE,))

    def stop(self) -> None:
        """Stop playing and return to where playback last started."""
        self._send((cmd.STOP,))

    def seek(self, seconds: float) -> None:
        """Move the playhead to ``seconds`` (exact to the frame; crossfaded if playing)."""
        seconds = checks.number("seek position", 0.0, MAX_SECONDS)(seconds)
        frame = seconds_to_frames(seconds, self.sample_rate)
        self._sought = (frame, self._player.blocks)
        for plan in self._streamed_plans():  # the reader fetches the new position first
            if plan.streams is not None:
                plan.streams.aim(frame)
        self._reader.wake()
        self._send((cmd.SEEK, frame))

    def _playhead(self) -> int:
        # where the reader aims: a seek sent, until a block that surely took it has played
        frame, sent = self._sought
        return frame if self._player.blocks <= sent + 1 else self._player.position

    def _heard(self) -> int:
        # where the audio thread reads
        return self._player.heard

    def _streamed_plans(self) -> tuple[RenderPlan, ...]:
        # the plans whose windows the reader fills: the one playing and the one waiting
        playing, pending = self._player.plan, self._player.pending_plan
        return (playing,) if pending is playing else (pending, playing)

    def _loop_start(self) -> int:
        # where a loop jumps back to, which the reader keeps ready too (-1: no loop)
        p = self._player
        return p.loop_start if p.loop_on else -1

    def streams_ready(self, timeout: float = 5.0) -> bool:
        """Wait until the reader thread has filled every streamed window wanted now;
        return False after ``timeout`` seconds. Playback never needs this: a late window
        plays silence and is reported (an ``underrun`` event)."""
        return self._reader.ready(timeout)

    def set_loop(self, on: bool, start: float = 0.0, end: float | None = None) -> None:
        """Loop ``start``..``end`` seconds (default: the whole project) while ``on``."""
        if not on:
            self._send((cmd.LOOP, False, 0, 0))
            return
        end = self.project.duration if end is None else end
        start = checks.number("loop start", 0.0, MAX_SECONDS)(start)
        end = checks.number("loop end", 0.0, MAX_SECONDS)(end)
        if not start < end:
            raise ValueError(f"loop range must satisfy 0 <= start < end, not {start!r}..{end!r}")
        rate = self.sample_rate
        self._send((cmd.LOOP, bool(on), seconds_to_frames(start, rate), seconds_to_frames(end, rate)))
        if self._loop_at != seconds_to_frames(start, rate):
            # clips where the loop starts again keep buffers of their own (`render.streams`)
            self._loop_at = seconds_to_frames(start, rate)
            if self._published.streams is not None:
                self.publish()

    @property
    def position(self) -> float:
        """Return the playhead in seconds, as of the last block: the time whose audio the
        engine outputs now (the plugins' compensated latency behind the time it renders)."""
        return max(0, self._player.position - self._player.plan.latency) / self.sample_rate

    @property
    def plugin_latency(self) -> float:
        """Return how far the output lags the timeline through the plugins, seconds
        (compensated across the tree; `latency` is the device's)."""
        return self._player.plan.latency / self.sample_rate

    @property
    def playing(self) -> bool:
        """Return True while the transport plays."""
        return self._player.playing

    # -- mixer ---------------------------------------------------------------------------
    def set_volume(self, track_id: int, volume_db: float, ramp: float = FADER_RAMP) -> None:
        """Set a track's fader (an undoable edit) and glide there over ``ramp`` s (10 ms).
        While playing, on a volume lane that records, the move is recorded instead."""
        track = self.project.track(track_id)
        if not self._recorded(track.lanes.get("volume_db"), volume_db):
            self._with_ramp(ramp, track, "volume_db", volume_db)

    def set_pan(self, track_id: int, pan: float, ramp: float = FADER_RAMP) -> None:
        """Set a track's pan (an undoable edit) and glide there over ``ramp`` s (10 ms).
        While playing, on a pan lane that records, the move is recorded instead."""
        track = self.project.track(track_id)
        if not self._recorded(track.lanes.get("pan"), pan):
            self._with_ramp(ramp, track, "pan", pan)

    def set_mute(self, track_id: int, mute: bool) -> None:
        """Mute or unmute a track (an undoable edit; fades over 10 ms). While playing, on a
        mute lane that records, the move is recorded instead."""
        track = self.project.track(track_id)
        if not self._recorded(track.lanes.get("mute"), float(checks.flag("mute")(mute))):
            track.mute = mute

    def set_parameter(self, effect_id: int, parameter: str, value: float | str) -> None:
        """Set an effect parameter (by id or name; an undoable edit that glides over the
        parameter's ramp). While playing, on a lane that records, the move is recorded."""
        effect = self.project.effect(effect_id)
        spec = effect._spec(parameter)
        if not self._recorded(effect.lanes.get(spec.id), spec.check(value)):
            effect.set_parameter(parameter, value)

    def set_speed(self, metatrack_id: int, speed: float) -> None:
        """Set a metatrack's speed (an undoable edit). While playing, on a speed lane that
        records, the move is recorded (heard once the pass ends: speed moves are not
        played live)."""
        m = self.project.track(metatrack_id)
        if not isinstance(m, Metatrack):
            raise ValueError(f"{m!r} is not a metatrack: only metatracks have a speed")
        if not self._recorded(m.lanes.get("speed"), speed):
            m.speed = speed

    def set_send_level(self, send_id: int, level_db: float) -> None:
        """Set a send's level (an undoable edit that glides over 10 ms). While playing, on
        a level lane that records, the move is recorded instead."""
        send = self.project.record(send_id)
        if not isinstance(send, Send):
            raise ValueError(f"#{send_id} is not a send")
        if not self._recorded(send.lanes.get("level_db"), level_db):
            send.level_db = level_db

    def release(self, lane: AutomationLane) -> None:
        """End a ``touch`` move on ``lane``: it returns to its curve (``latch`` and
        ``write`` moves go on until the transport stops)."""
        if lane.mode == "touch":
            self._send((cmd.RELEASE, lane.id))

    def _recorded(self, lane: AutomationLane | None, value: float) -> bool:
        # a move on a lane that records, while playing: sent as a TOUCH, not an edit
        if lane is None or not lane.records or not self._player.playing:
            return False
        value = lane.spec.check(value)
        self._player.params[(cmd.TOUCH, lane.id)] = (float(value), 0)
        return True

    def set_solo(self, track_id: int, solo: bool) -> None:
        """Solo or unsolo a track (an undoable edit; fades over 10 ms)."""
        self.project.track(track_id).solo = solo

    def _with_ramp(self, ramp: float, track: Track, name: str, value: Any) -> None:
        ramp = checks.number("ramp", 0.0, 60.0)(ramp)
        with self._lock:
            self._ramp_override = seconds_to_frames(ramp, self.sample_rate)
            try:
                setattr(track, name, value)
            finally:
                self._ramp_override = None

    # -- events and statistics -----------------------------------------------------------
    def subscribe(self, callback: Callable[[Event], None]) -> None:
        """Call ``callback(event)`` for every event from now on: what the audio thread
        reports, errors, and ``"edit"`` (``count``: the project's ``version``) after edits.

        Callbacks run on the control thread (or on a thread that calls `events`), after
        the housekeeping and outside ``project.lock``; they should return quickly. One that
        raises is reported on stderr and stays subscribed.
        """
        self._subscribers.append(callback)

    def unsubscribe(self, callback: Callable[[Event], None]) -> None:
        """Stop calling ``callback`` (nothing happens if it was not subscribed)."""
        if callback in self._subscribers:
            self._subscribers.remove(callback)

    def events(self) -> list[Event]:
        """Return what the audio thread reported since the last call, oldest first.

        For an engine driven by hand this is also where the housekeeping runs (old plans
        dropped, autosave every ``autosave`` seconds, …); a started engine does it on its
        control thread as well, and keeps the last `BACKLOG` events for this call.
        """
        self._tick()
        out = []
        while self._backlog:
            out.append(self._backlog.popleft())
        return out

    def _control_loop(self) -> None:
        # the control thread: housekeeping and events until `close`
        while not self._halt.wait(CONTROL_PERIOD):
            try:
                self._tick()
            except Exception:  # a bug here must not end the thread: the UI would freeze
                traceback.print_exc()

    def _tick(self) -> None:
        # one round of housekeeping under the project's lock, then the events handed on
        lost = self._watch()
        with self.project.lock:
            fresh = self._housekeep()
            if lost is not None:
                fresh.append(lost)
            if self.project.version != self._seen_version:
                self._seen_version = self.project.version
                fresh.append(Event("edit", count=self._seen_version))
        if not fresh:
            return
        self._backlog.extend(fresh)
        for callback in list(self._subscribers):
            for event in fresh:
                try:
                    callback(event)
                except Exception:
                    traceback.print_exc()
                    break

    def _housekeep(self) -> list[Event]:
        # drop old plans, collect, autosave, publish finished renders; return the events
        self._retire()
        self._idle_plugins()
        if self._stretch_done:  # a stretched render made on the worker is ready to play
            self._stretch_done = False
            self.publish()
        now = time.monotonic()
        if self._driver is not None and now - self._last_collect >= 0.25:
            self._last_collect = now
            gc.collect(1)  # the young generations, here rather than on the audio thread
        if self.autosave_interval is not None and now - self._last_autosave >= self.autosave_interval:
            self._last_autosave = now
            self.project.autosave()
        out = self._commit_passes()
        if self._broken:
            self._restarted()
        self._follow_latency()
        while self._reader.warnings:  # streamed files that went away: offline, said once
            message = self._reader.warnings.pop(0)
            warnings.warn(message, MediaWarning, stacklevel=4)
            out.append(Event("error", message=message))
        while self._stretch.failures:  # renders the worker could not make
            out.append(Event("error", message=self._stretch.failures.pop(0)))
        raws = self._player.events.drain()
        last_meters = max((i for i, raw in enumerate(raws) if raw[0] == cmd.EV_METERS), default=-1)
        for i, raw in enumerate(raws):
            code = raw[0]
            if code == cmd.EV_POSITION:
                out.append(Event("position", position=raw[1], playing=raw[2]))
            elif code == cmd.EV_METERS:
                if i == last_meters:  # every block posts one; they would all read the same levels now
                    out.append(self._meters())
            elif code == cmd.EV_XRUN:
                out.append(Event("xrun", count=raw[1]))
            elif code == cmd.EV_UNDERRUN:
                name = self.project.pool.get(raw[1]).path.name if raw[1] in self.project.pool else str(raw[1])
                out.append(Event("underrun", source=name, count=self._player.underruns))
            elif code == cmd.EV_TRACK_FAILED:
                out.append(Event("error", track=raw[1], message=self._recover(raw[1], raw[2], raw[3])))
            else:
                out.append(Event("error", message=raw[1]))
        return out

    def _idle_plugins(self) -> None:
        # hosted plugins' requests of the main thread; an instance one stopped playing (it
        # was restarted) closes once the audio thread has finished a whole block past it
        blocks = self._player.blocks
        for effect in self._published.hosted:
            self._unplayed.extend((blocks, old) for old in effect.idle())
        while self._unplayed and self._player.blocks > self._unplayed[0][0] + 1:
            self._unplayed.pop(0)[1].close()

    def _follow_latency(self) -> None:
        # a plugin's latency may change with its parameters (edits that do not recompile):
        # the compensation follows with a new plan
        plan = self._published
        if plan.latency_sources and any(e.latency != n for e, n in plan.latency_sources):
            self.publish()

    def _commit_passes(self) -> list[Event]:
        # every recording pass that ended becomes one undo step (and publishes a plan)
        recorder = self._player.recorder
        self._passes.take(recorder.read())
        self._passes.commit(self.project, self._published)
        out = []
        if recorder.dropped > self._dropped:
            lost = recorder.dropped - self._dropped
            self._dropped = recorder.dropped
            out.append(
                Event(
                    "error",
                    message=f"{lost} recorded automation moves were lost: events() was not called often enough",
                )
            )
        return out

    def _recover(self, track_id: int, reason: str, slot_id: int) -> str:
        # The track (or one alias instance of it, ``slot_id``) was silenced on the audio
        # thread; clear that copy's effect memory here and let it play again from the next
        # block.
        try:
            track = self.project.track(track_id)
        except KeyError:
            return reason
        message = f"track {track.name!r} silenced: {reason}"
        plan = self._player.plan
        if slot_id != track_id and slot_id not in plan.instance_keys:
            return message  # that alias instance is gone already
        instance = plan.instance_keys.get(slot_id, ())
        processors = [*track.effects, *([track.instrument] if isinstance(track, MidiTrack) else [])]
        broken = [e for e in processors if e.broken is not None]
        if broken:  # silent until it is restarted: reported once, not at every call
            self._broken[slot_id] = broken
            return f"{message}; {broken[0]!r} waits for recover()"
        for effect in track.effects:
            effect.reset(instance)
        self._play_again(slot_id)
        return message

    def _play_again(self, slot_id: int) -> None:
        # let a silenced slot play from the next block
        plan = self._player.plan
        slot = plan.slot_of(slot_id)
        if slot >= 0:
            plan.fail_reasons[slot] = ""
            plan.reported[slot] = False
            plan.failed[slot] = False

    def _restarted(self) -> None:
        # tracks silenced by a plugin that waited for recover() play again once it has
        for slot_id, effects in list(self._broken.items()):
            if all(e.broken is None for e in effects):
                del self._broken[slot_id]
                self._play_again(slot_id)

    def _meters(self) -> Event:
        plan = self._player.plan
        ids = plan.ids.tolist()
        peak = plan.faders.peak.tolist()
        rms = plan.faders.rms.tolist()
        return Event(
            "meters",
            position=self._player.position,
            peak={i: (p[0], p[1]) for i, p in zip(ids, peak, strict=True)},
            rms={i: (r[0], r[1]) for i, r in zip(ids, rms, strict=True)},
        )

    def stats(self, since: int = 0) -> dict[str, float | int]:
        """Return DSP load (time in callback ÷ block period: mean, p99, max), xruns and counts.

        The load covers the blocks from number ``since`` on (a ``blocks`` count an earlier
        call returned), at most the last ``player.LOAD_HISTORY`` of them; the counts are totals.
        """
        p = self._player
        blocks = p.blocks
        index = np.arange(max(since, blocks - len(p.loads), 0), blocks) % len(p.loads)
        loads = p.loads[index] if index.size else np.zeros(1)
        return {
            "blocks": blocks,
            "load_mean": float(loads.mean()),
            "load_p99": float(np.percentile(loads, 99)),
            "load_max": float(loads.max()),
            "xruns": p.xruns,
            "underruns": p.underruns,
            "reader_cpu": self._reader.cpu_seconds,
            "errors": p.errors,
            "commands_applied": p.commands_applied,
            "events_dropped": p.events.dropped,
            "latency": self.latency,
            "realtime": p.realtime,
        }

    # -- plumbing ------------------------------------------------------------------------
    def _send(self, command: tuple) -> None:
        if not self._player.commands.push(command):
            raise QueueFullError(
                f"the engine's command queue is full ({self._player.commands.capacity} commands waiting): "
                "its audio thread is not taking them (is it running?)"
            )

    def _options(self, previous: RenderPlan | None) -> CompileOptions:
        return CompileOptions(
            max_block=self.blocksize,
            previous=previous,
            stretch=self._stretch,
            loop_at=self._loop_at,
            meter_groups=self.meter_groups,
        )

    def _stretch_ready(self) -> None:
        # from the stretch worker's thread: one flag store; `events` publishes
        self._stretch_done = True

    def _on_edit(self, op: Operation) -> None:
        # Called before an edit counts: raising here (a full queue) makes the project
        # revert it, so the model and what plays never disagree.
        undo = isinstance(op, Inverse)
        inner = op.op if isinstance(op, Inverse) else op
        if isinstance(inner, SetEffectParameter):
            # the live effect's targets are where the audio thread reads them already;
            # inside a metatrack played through Rubber Band, the render must be made again,
            # and a lane that records plays the manual value from the plan
            track = self.project.effect_track(inner.effect_id)
            lane = self.project.effect(inner.effect_id).lanes.get(inner.parameter)
            if any(needs_stretch(m) for m in ancestors(self.project, track)) or (lane is not None and lane.records):
                self.publish()
            return
        if isinstance(inner, SetAttribute):
            value = inner.old if undo else inner.value
            record = self.project.record(inner.ident)
            lane = getattr(record, "lanes", {}).get(inner.name)
            if lane is not None and lane.records:
                pass  # its lane plays the manual value from the plan: compile it again
            elif inner.name in _FAST_ATTRIBUTES and isinstance(record, Track):
                self._send_fast(record, inner.name, value)
                return
            elif inner.name == "level_db":
                self._player.params[(cmd.SEND_LEVEL, inner.ident)] = (db_to_gain(value), self._ramp)
                return
        self.publish()

    def _send_fast(self, track: Track, name: str, value: Any) -> None:
        plan = self._published
        if plan.slot_of(track.id) < 0 and track.id not in plan.instance_slots:
            self.publish()  # a pass-through group got a setting of its own: it needs a slot
            return
        ramp = self._ramp if self._ramp_override is None else self._ramp_override
        if name == "volume_db":
            self._player.params[(cmd.VOLUME, track.id)] = (db_to_gain(value), ramp)
        elif name == "pan":
            self._player.params[(cmd.PAN, track.id)] = (value, ramp)
        else:
            self._send((cmd.MUTE if name == "mute" else cmd.SOLO, track.id, bool(value)))

    def publish(self) -> RenderPlan:
        """Compile the project and hand the plan to the audio thread (one attribute store)."""
        with self.project.lock:
            plan = _aimed(compile_plan(self.project, self._options(self._published)), self._playhead())
            self._retired.append(self._published)
            self._published = plan
            self._player.pending_plan = plan
            if plan.streams is not None:
                self._reader.wake()
            self._retire()
        return plan

    def _retire(self) -> None:
        # Drop plans only once the audio thread has finished a whole block past the swap,
        # so the last reference to a plan never goes away on the audio thread.
        p = self._player
        plan = p.plan
        if plan is self._published and p.blocks > p.swap_block + 1 and not plan.crossfading:
            plan.release_previous()
            self._retired.clear()


def _aimed(plan: RenderPlan, position: int) -> RenderPlan:
    """Return ``plan`` ready to publish: its calls bound (`RenderPlan.bind`) and its streamed
    clips' windows wanted where they play from output frame ``position`` (a clip with an
    offset does not start reading at its file's start)."""
    plan.bind()
    if plan.streams is not None:
        plan.streams.aim(position)
    return plan


def _warm_up(sample_rate: int, blocksize: int) -> None:
    """Run every kernel the callback uses once, so none loads or compiles in the callback:
    those of every registered effect and instrument that can be made without arguments."""
    empty = Project(sample_rate=sample_rate)
    track = empty.add_audio_track("warm-up")
    for kind in Effect.registered():
        if kind.kernel is None:
            continue
        try:
            effect = kind()
            if getattr(effect, "is_instrument", False):
                keys = empty.add_midi_track(f"warm-up {kind.__name__}", instrument=effect)
                keys.add_midi_clip(0.0, 1.0).add_note(60, 100, 0.0, 0.01)
            else:
                track.add_effect(effect)
        except Exception:
            # a user's class that cannot be made bare (it needs arguments, files) warms up
            # where it is first used: no one class may stop every engine from starting
            continue
    silence = np.zeros((sample_rate, 1), dtype=np.float32)
    source = Source(empty.registry.new_id(), Path("<warm-up>"), silence, sample_rate, sample_rate, 1, "")
    empty.apply(AddSource(source))
    track.add_clip(source, duration=0.5, speed=1.5)
    track.add_clip(source, duration=0.5)
    bus = empty.add_bus("warm-up bus")
    track.add_send(bus.id, pre_fader=True)
    empty.create_metatrack([track.id])
    old = compile_plan(empty, CompileOptions(max_block=blocksize))
    plan = compile_plan(empty, CompileOptions(max_block=blocksize, previous=old))
    player = Player(plan, 16, 16)
    player.pending_plan = compile_plan(empty, CompileOptions(max_block=blocksize, previous=plan))
    out = np.zeros((blocksize, 2), dtype=np.float32)
    for command in ((cmd.PLAY,), (cmd.SEEK, 0), (cmd.MUTE, empty.master.id, False)):
        player.commands.push(command)
    player.params[(cmd.VOLUME, empty.master.id)] = (1.0, 16)
    player.render(out)
    zero_nonfinite(np.zeros((1, 2), np.float32))  # the reader thread's decoding (`io.stream`)
