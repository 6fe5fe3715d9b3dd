"""The audio-thread half of the engine: commands in, one block out, events back.

Everything here runs inside the device callback (or `Engine.process`): it never blocks,
never does I/O, allocates no arrays in steady state, and never raises.
"""

from __future__ import annotations

import time

import numpy as np

from mixtree.dsp.mixer import crossfade
from mixtree.dsp.windows import SOURCE
from mixtree.engine import commands as cmd
from mixtree.engine.queues import CommandQueue, EventQueue
from mixtree.engine.recorder import END, MOVE, PASS, SET, Recorder
from mixtree.engine.scheduling import request_realtime
from mixtree.render.plan import RenderPlan

#: How many recent callbacks the load statistics cover.
LOAD_HISTORY = 8192
#: How many lanes can be touched at once.
MAX_TOUCHED = 1024


class Player:
    """Renders blocks from the current plan under a transport, driven by commands.

    ``pending_plan`` is where the control side publishes a new plan (one attribute store);
    the player takes it at the next block boundary. ``params`` holds the latest value of
    each continuous parameter (a fader storm coalesces there); ``commands`` the FIFO of
    discrete commands. Automation moves arrive as ``TOUCH`` values: the lane plays them
    and, while the transport plays, they go into ``recorder`` with their frame, as does
    the end of each move (a release, a stop, a jump) and of each pass (a stop).
    """

    def __init__(self, plan: RenderPlan, xfade_frames: int, ramp_frames: int) -> None:
        self.plan = plan
        self.pending_plan = plan
        self.commands = CommandQueue(8192)
        self.params: dict[tuple[int, int], tuple[float, int]] = {}
        self.events = EventQueue(4096)
        self.xfade_frames = xfade_frames
        self.ramp_frames = ramp_frames
        self.period = 0.0  # seconds per block; the driver sets it
        # transport
        self.playing = False
        self.position = 0
        self.play_start = 0
        self.loop_on = False
        self.loop_start = 0
        self.loop_end = 0
        self._chase = False  # start the notes held across the position before the next block
        self._xf_left = 0
        self._xf_pos = 0
        self._old = np.zeros((plan.max_block, 2), dtype=np.float32)
        # automation moves: the lanes playing a manual value, and that value
        self.recorder = Recorder()
        self.touched = np.zeros(MAX_TOUCHED, np.int64)
        self.touched_value = np.zeros(MAX_TOUCHED, np.float64)
        self.n_touched = 0
        # statistics, written here, read by the control side
        self.blocks = 0
        self.swap_block = 0
        self.commands_applied = 0
        self.xruns = 0
        self.underruns = 0  # blocks in which a streamed window was not ready
        self.errors = 0
        self.loads = np.zeros(LOAD_HISTORY, dtype=np.float64)
        self.want_realtime = False  # ask for real-time scheduling at the next block (a new stream)
        self.realtime = False  # whether the stream's thread got it

    # -- the callback --------------------------------------------------------------------
    def render(self, out: np.ndarray) -> None:
        """Fill ``out`` (float32 ``(frames, 2)``) with the next block. Never raises."""
        t0 = time.perf_counter()
        if self.want_realtime:  # a stream's first block: one system call, never again
            self.want_realtime = False
            self.realtime = request_realtime()
        try:
            self._take_plan()
            self._apply_commands()
            self._apply_params()
            if self.playing or self._xf_left:
                block = self.plan.max_block
                for at in range(0, out.shape[0], block):
                    self._render(out[at : at + block])
            else:
                out.fill(0.0)
            self._report_failures()
            self._report_underruns()
            self.events.post((cmd.EV_POSITION, self.position, self.playing))
            self.events.post((cmd.EV_METERS, self.plan.serial))
        except KeyboardInterrupt:
            raise  # the one thing that may stop a block: someone pressed Ctrl-C
        except BaseException as exc:  # the stream must survive anything else, SystemExit too
            out.fill(0.0)
            self.errors += 1
            self.events.post((cmd.EV_ERROR, f"{type(exc).__name__}: {exc}"))
        if self.period > 0.0:
            self.loads[self.blocks % LOAD_HISTORY] = (time.perf_counter() - t0) / self.period
        self.blocks += 1

    def xrun(self) -> None:
        """Count an underrun the driver saw and report it."""
        self.xruns += 1
        self.events.post((cmd.EV_XRUN, self.xruns))

    # -- steps ---------------------------------------------------------------------------
    def _report_failures(self) -> None:
        plan = self.plan
        slot = plan.next_failure()
        while slot >= 0:
            reason = plan.fail_reasons[slot] or "its output turned NaN or infinite"
            self.events.post((cmd.EV_TRACK_FAILED, int(plan.track_ids[slot]), reason, int(plan.ids[slot])))
            slot = plan.next_failure()

    def _report_underruns(self) -> None:
        # a streamed window was late: count it and name its source once a block
        win = self.plan.windows
        missed = win.last_miss[0]
        if missed:
            win.last_miss[0] = 0
            self.underruns += 1
            self.events.post((cmd.EV_UNDERRUN, int(win.refs[missed - 1, SOURCE])))

    def _take_plan(self) -> None:
        new = self.pending_plan
        if new is not self.plan:
            new.adopt(self.plan, self.ramp_frames, self.xfade_frames)  # moves under way carry over
            self.plan = new
            self.swap_block = self.blocks

    def _apply_commands(self) -> None:
        queue = self.commands
        item = queue.pop()
        while item is not None:
            self._apply(item)
            self.commands_applied += 1
            item = queue.pop()

    def _apply(self, item: tuple) -> None:
        code = item[0]
        if code == cmd.PLAY:
            if not self.playing:
                self.playing = True
                self.play_start = self.position
                self._chase = True
        elif code == cmd.PAUSE or code == cmd.STOP:
            if self.playing:
                self._start_crossfade()
                self.playing = False
                self.plan.all_notes_off()
                self.end_pass()
            if code == cmd.STOP:
                self.position = self.play_start
        elif code == cmd.SEEK:
            if self.playing:
                self._start_crossfade()
            self.plan.all_notes_off()
            self._jump(item[1])
            self._chase = True
        elif code == cmd.RELEASE:
            pending = self.params.pop((cmd.TOUCH, item[1]), None)
            if pending is not None:  # the move before the release, waiting in ``params``
                self._touch(item[1], pending[0], at_once=pending[1] != 0)
            self._release(item[1])
        elif code == cmd.LOOP:
            self.loop_on, self.loop_start, self.loop_end = item[1], item[2], item[3]
        elif code == cmd.MUTE or code == cmd.SOLO:
            plan = self.plan
            if plan.set_fader(item[1], plan.mute if code == cmd.MUTE else plan.solo, item[2]):
                plan.update_faders(self.ramp_frames)

    def _apply_params(self) -> None:
        params = self.params
        plan = self.plan
        while params:
            try:
                (code, ident), (value, ramp) = params.popitem()
            except KeyError:  # pragma: no cover - emptied between the test and the pop
                break
            if code == cmd.SEND_LEVEL:
                plan.set_send_level(ident, value, ramp)
                self.commands_applied += 1
                continue
            if code == cmd.TOUCH:
                self._touch(ident, value, at_once=ramp != 0)
                self.commands_applied += 1
                continue
            if not plan.set_fader(ident, plan.volume if code == cmd.VOLUME else plan.pan, value):
                continue
            plan.update_faders(ramp)
            self.commands_applied += 1

    # -- automation moves ----------------------------------------------------------------
    def _touch(self, lane: int, value: float, at_once: bool = False) -> None:
        # a move: the lane plays it from this block (gliding there, or at once), and it is
        # recorded at this frame
        if not self.playing:
            return  # the transport stopped after the move was sent: the pass is over
        j = self._touched_at(lane)
        if j < 0:
            if self.n_touched == MAX_TOUCHED:
                return
            j = self.n_touched
            self.touched[j] = lane
            self.n_touched += 1
        self.touched_value[j] = value
        self.plan.touch_lane(lane, value, glide=not at_once)
        self.recorder.write(SET if at_once else MOVE, lane, self.position, value)

    def _release(self, lane: int) -> None:
        j = self._touched_at(lane)
        if j < 0:
            return
        self.plan.release_lane(lane)
        self.recorder.write(END, lane, self.position, 0.0)
        last = self.n_touched - 1
        self.touched[j] = self.touched[last]
        self.touched_value[j] = self.touched_value[last]
        self.n_touched = last

    def halt(self) -> None:
        """Stop the transport where it is, from the control side, for a player whose driver
        was lost: commands sent until now apply first, moves under way end with the pass.
        Only once no callback can run any more (the driver detached)."""
        self._apply_commands()
        if self.playing:
            self.playing = False
            self.plan.all_notes_off()
            self.end_pass()
        self._xf_left = 0

    def end_pass(self) -> None:
        """End every move under way, their lanes returning to their curves, and the pass
        (the transport stopped, or the engine closes). Audio-thread safe."""
        while self.n_touched:
            self._release(int(self.touched[0]))
        self.recorder.write(PASS, -1, self.position, 0.0)

    def _jump(self, frame: int) -> None:
        # a seek or loop jump: moves under way end here and go on from ``frame``
        if self.playing:
            for j in range(self.n_touched):
                self.recorder.write(END, int(self.touched[j]), self.position, 0.0)
                self.recorder.write(SET, int(self.touched[j]), frame, float(self.touched_value[j]))
        self.position = frame

    def _touched_at(self, lane: int) -> int:
        for j in range(self.n_touched):
            if self.touched[j] == lane:
                return j
        return -1

    @property
    def heard(self) -> int:
        """Return the output frame the blocks read now: the old position while a jump's
        fade-out plays, else the playhead."""
        return self._xf_pos if self._xf_left else self.position

    def _start_crossfade(self) -> None:
        self._xf_pos = self.position
        self._xf_left = self.xfade_frames

    def _render(self, out: np.ndarray) -> None:
        frames = out.shape[0]
        plan = self.plan
        done = 0
        while done < frames:
            n = frames - done
            looping = self.playing and self.loop_on and self.position < self.loop_end
            if looping:
                n = min(n, self.loop_end - self.position)
            seg = out[done : done + n]
            if self.playing:
                if self._chase:  # playback starts or jumps here: notes held across it sound
                    plan.chase(self.position)
                    self._chase = False
                plan.process(seg, self.position)
                self.position += n
            else:
                seg.fill(0.0)
            if self._xf_left:
                m = min(n, self._xf_left)
                old = self._old[:m]
                plan.process(old, self._xf_pos, tail=True)
                crossfade(seg, old, m, self.xfade_frames - self._xf_left, self.xfade_frames)
                self._xf_pos += m
                self._xf_left -= m
            done += n
            if looping and self.position >= self.loop_end:
                self._start_crossfade()
                plan.all_notes_off()
                self._jump(self.loop_start)
                self._chase = True
