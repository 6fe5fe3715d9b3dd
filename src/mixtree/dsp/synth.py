"""The polyphonic synth kernel: voices, envelopes, PolyBLEP oscillators, a per-voice
state-variable filter, and MIDI events applied on their exact frame. Batched over tracks.

State layout per instrument (float64): `CHANNEL` values (pitch bend in semitones, sustain
pedal, CC7 volume gain, note-on counter, release counter), then `VOICES` rows of `FIELDS`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from mixtree.dsp.jit import njit
from mixtree.dsp.lanes import KNOT
from mixtree.dsp.smoothing import CUR, advance, automate, begin_block

if TYPE_CHECKING:
    from numba.typed import List

VOICES = 32
FIELDS = 19
CHANNEL = 8
STATE_SIZE = CHANNEL + VOICES * FIELDS
BEND, SUSTAIN, VOLUME, NOTE_COUNT, RELEASE_COUNT = range(5)
# voice fields
(ACTIVE, NOTE, VEL, PHASE, STAGE, LEVEL, AGE, RELEASED, F_STAGE, F_LEVEL,
 IC1, IC2, HELD, TRI, R_STEP, F_R_STEP, G1, G2, G3) = range(FIELDS)  # fmt: skip
OFF, ATTACK, DECAY, SUSTAINING, RELEASE = range(5)
# event kinds
NOTE_OFF, NOTE_ON, CC, BEND_EVENT, PROGRAM = range(5)
# parameters, in the order of PolySynth.PARAMETERS
(WAVE, A, D, S, R, CUTOFF, RESO, F_ENV, FA, FD, FS, FR, VEL_SENS, BEND_RANGE, GAIN) = range(15)


class MidiEvents(NamedTuple):
    """The events of every row of an instrument table, sorted by frame within each row:
    row ``r``'s are ``[lo[r], hi[r])``. Kinds are `NOTE_OFF`, `NOTE_ON`, `CC`,
    `BEND_EVENT` and `PROGRAM`; data1 is the note or controller number, data2 the
    velocity or value."""

    time: np.ndarray  # int64 absolute frame
    kind: np.ndarray  # int8
    d1: np.ndarray  # int32
    d2: np.ndarray  # int32
    lo: np.ndarray  # int64 each row's first event
    hi: np.ndarray  # int64 each row's end


@njit(cache=True, inline="always")
def _blep(t: float, dt: float) -> float:
    if t < dt:
        t /= dt
        return t + t - t * t - 1.0
    if t > 1.0 - dt:
        t = (t - 1.0) / dt
        return t * t + t + t + 1.0
    return 0.0


@njit(cache=True)
def reset_channel(st: np.ndarray) -> None:
    """Put an instrument's state at rest: no voices, centred bend, full volume."""
    st[:] = 0.0
    st[VOLUME] = 1.0


@njit(cache=True)
def release_all(st: np.ndarray, pr: np.ndarray, rate: float) -> None:
    """Release every sounding voice and lift the sustain pedal (all notes off)."""
    st[SUSTAIN] = 0.0
    for v in range(VOICES):
        base = CHANNEL + v * FIELDS
        if st[base + ACTIVE] > 0.0 and st[base + STAGE] != RELEASE:
            _release(st, base, pr, rate)


@njit(cache=True, inline="always")
def _release(st: np.ndarray, base: int, pr: np.ndarray, rate: float) -> None:
    st[base + STAGE] = RELEASE
    st[base + F_STAGE] = RELEASE
    st[base + HELD] = 0.0
    frames = max(pr[R, CUR] * rate, 1.0)
    st[base + R_STEP] = st[base + LEVEL] / frames
    st[base + F_R_STEP] = st[base + F_LEVEL] / max(pr[FR, CUR] * rate, 1.0)
    st[RELEASE_COUNT] += 1.0
    st[base + RELEASED] = st[RELEASE_COUNT]


@njit(cache=True)
def _event(st: np.ndarray, pr: np.ndarray, kind: int, d1: int, d2: int, rate: float) -> None:
    if kind == NOTE_ON:
        pick = -1
        for v in range(VOICES):  # a free voice
            if st[CHANNEL + v * FIELDS + ACTIVE] == 0.0:
                pick = v
                break
        if pick < 0:  # steal the voice released first, else the oldest
            best = 1e300
            for v in range(VOICES):
                base = CHANNEL + v * FIELDS
                if st[base + STAGE] == RELEASE and st[base + RELEASED] < best:
                    best = st[base + RELEASED]
                    pick = v
        if pick < 0:
            best = 1e300
            for v in range(VOICES):
                base = CHANNEL + v * FIELDS
                if st[base + AGE] < best:
                    best = st[base + AGE]
                    pick = v
        base = CHANNEL + pick * FIELDS
        if st[base + ACTIVE] == 0.0:
            st[base + LEVEL] = 0.0
            st[base + F_LEVEL] = 0.0
            st[base + PHASE] = 0.0
            st[base + IC1] = 0.0
            st[base + IC2] = 0.0
            st[base + TRI] = 0.0
            _filter_coefficients(st, base, pr, rate)
        st[base + ACTIVE] = 1.0
        st[base + NOTE] = d1
        sens = pr[VEL_SENS, CUR]
        st[base + VEL] = 1.0 - sens + sens * d2 / 127.0
        st[base + STAGE] = ATTACK
        st[base + F_STAGE] = ATTACK
        st[base + HELD] = 0.0
        st[NOTE_COUNT] += 1.0
        st[base + AGE] = st[NOTE_COUNT]
    elif kind == NOTE_OFF:
        for v in range(VOICES):
            base = CHANNEL + v * FIELDS
            if st[base + ACTIVE] > 0.0 and st[base + NOTE] == d1 and st[base + STAGE] != RELEASE:
                if st[base + HELD] > 0.0:
                    continue
                if st[SUSTAIN] > 0.0:
                    st[base + HELD] = 1.0
                else:
                    _release(st, base, pr, rate)
    elif kind == CC:
        if d1 == 64:
            st[SUSTAIN] = 1.0 if d2 >= 64 else 0.0
            if d2 < 64:
                for v in range(VOICES):
                    base = CHANNEL + v * FIELDS
                    if st[base + HELD] > 0.0 and st[base + STAGE] != RELEASE:
                        _release(st, base, pr, rate)
        elif d1 == 7:
            st[VOLUME] = (d2 / 127.0) ** 2
        elif d1 == 120 or d1 == 123:
            release_all(st, pr, rate)
    elif kind == BEND_EVENT:
        st[BEND] = d2 / 8192.0 * pr[BEND_RANGE, CUR]


@njit(cache=True, inline="always")
def _filter_coefficients(st: np.ndarray, base: int, pr: np.ndarray, rate: float) -> None:
    # TPT state-variable filter (Zavalishin), its cutoff moved by the filter envelope
    fc = min(pr[CUTOFF, CUR] * 2.0 ** (pr[F_ENV, CUR] * st[base + F_LEVEL]), 0.45 * rate)
    g = math.tan(math.pi * fc / rate)
    a1 = 1.0 / (1.0 + g * (g + 1.0 / pr[RESO, CUR]))
    st[base + G1] = a1
    st[base + G2] = g * a1
    st[base + G3] = g * g * a1


@njit(cache=True, inline="always")
def _envelope(stage: float, level: float, a: float, d: float, s: float, r_step: float, rate: float):
    if stage == ATTACK:
        level = level + 1.0 / max(a * rate, 1.0)
        if level >= 1.0:
            level = 1.0
            stage = DECAY
    elif stage == DECAY:
        level = level - (1.0 - s) / max(d * rate, 1.0)
        if level <= s:
            level = s
            stage = SUSTAINING
    elif stage == SUSTAINING:
        level = s
    elif stage == RELEASE:
        level = level - r_step
        if level <= 0.0:
            level = 0.0
            stage = OFF
    return stage, level


@njit(cache=True)
def _render(buf: np.ndarray, s: int, lo: int, hi: int, start: int, pr: np.ndarray, st: np.ndarray, rate: float) -> None:
    # the filter follows its envelope every 16 frames, counted from frame 0 of the
    # timeline, so the result does not depend on where blocks or events fall
    wave = int(pr[WAVE, CUR])
    gain = 10.0 ** (pr[GAIN, CUR] / 20.0) * st[VOLUME]
    for v in range(VOICES):
        base = CHANNEL + v * FIELDS
        if st[base + ACTIVE] == 0.0:
            continue
        freq = 440.0 * 2.0 ** ((st[base + NOTE] - 69.0 + st[BEND]) / 12.0)
        dt = min(freq / rate, 0.49)
        phase = st[base + PHASE]
        stage = st[base + STAGE]
        level = st[base + LEVEL]
        f_stage = st[base + F_STAGE]
        f_level = st[base + F_LEVEL]
        ic1 = st[base + IC1]
        ic2 = st[base + IC2]
        tri = st[base + TRI]
        vel = st[base + VEL]
        for i in range(lo, hi):
            if (start + i) % 16 == 0:
                st[base + F_LEVEL] = f_level
                _filter_coefficients(st, base, pr, rate)
            a1 = st[base + G1]
            a2 = st[base + G2]
            a3 = st[base + G3]
            if wave == 0:
                x = math.sin(2.0 * math.pi * phase)
            elif wave == 1:
                x = 2.0 * phase - 1.0 - _blep(phase, dt)
            else:
                sq = (1.0 if phase < 0.5 else -1.0) + _blep(phase, dt) - _blep((phase + 0.5) % 1.0, dt)
                if wave == 2:
                    x = sq
                else:
                    tri = tri + 4.0 * dt * sq
                    tri *= 0.9995  # leaky, so the integrator cannot drift
                    x = tri
            phase += dt
            if phase >= 1.0:
                phase -= 1.0
            v3 = x - ic2
            v1 = a1 * ic1 + a2 * v3
            v2 = ic2 + a2 * ic1 + a3 * v3
            ic1 = 2.0 * v1 - ic1
            ic2 = 2.0 * v2 - ic2
            stage, level = _envelope(stage, level, pr[A, CUR], pr[D, CUR], pr[S, CUR], st[base + R_STEP], rate)
            f_stage, f_level = _envelope(
                f_stage, f_level, pr[FA, CUR], pr[FD, CUR], pr[FS, CUR], st[base + F_R_STEP], rate
            )
            y = np.float32(v2 * level * vel * gain)
            buf[s, i, 0] += y
            buf[s, i, 1] += y
            if stage == OFF:
                st[base + ACTIVE] = 0.0
                break
        st[base + PHASE] = phase
        st[base + STAGE] = stage
        st[base + LEVEL] = level
        st[base + F_STAGE] = f_stage
        st[base + F_LEVEL] = f_level
        st[base + IC1] = ic1
        st[base + IC2] = ic2
        st[base + TRI] = tri


@njit(cache=True)
def synth_kernel(
    buf: np.ndarray,
    frames: int,
    block_start: int,
    slots: np.ndarray,
    params: List,
    states: List,
    ramps: List,
    autos: List,
    rate: float,
    events: MidiEvents,
) -> None:
    """Add each row's instrument output for the block into its track buffer.

    Each row's events (see `MidiEvents`) are applied on their frames, the voices rendered
    between events, so timing is exact to the sample and independent of the block size.
    An automated row (``autos[r]``: float64 ``(parameters, KNOT + frames)`` from the
    `KNOT` at or before the block's first frame, NaN rows for parameters without a lane)
    takes each lane's value on every knot and holds it to the next: parameters step
    every 16 frames, wherever the blocks fall. Audio-thread safe: no allocation.
    """
    ev_time, ev_kind, ev_d1, ev_d2, row_lo, row_hi = events
    block_end = block_start + frames
    for r in range(slots.shape[0]):
        s = slots[r]
        pr = params[r]
        st = states[r]
        begin_block(pr, ramps[r])
        for p in range(pr.shape[0]):
            advance(pr, p)  # instruments glide parameters per block (no zipper at 5 ms)
        lo = row_lo[r]
        hi = row_hi[r]
        # first event at or after the block start (binary search)
        a, b = lo, hi
        while a < b:
            m = (a + b) // 2
            if ev_time[m] < block_start:
                a = m + 1
            else:
                b = m
        e = a
        auto = autos[r]
        held = auto.shape[0] > 0
        skew = block_start % KNOT  # frame 0 of the block is column skew of ``auto``
        i = 0
        while i < frames:
            if held:
                automate(pr, auto, (skew + i) // KNOT * KNOT)
            while e < hi and ev_time[e] <= block_start + i:
                _event(st, pr, ev_kind[e], ev_d1[e], ev_d2[e], rate)
                e += 1
            nxt = frames
            if e < hi and ev_time[e] < block_end:
                nxt = ev_time[e] - block_start
            if held:
                nxt = min(nxt, (skew + i) // KNOT * KNOT + KNOT - skew)
            _render(buf, s, i, nxt, block_start, pr, st, rate)
            i = nxt


@njit(cache=True)
def chase_kernel(
    position: int,
    params: List,
    states: List,
    rate: float,
    events: MidiEvents,
    held: np.ndarray,
) -> None:
    """Set each row's instrument up as playback from ``position`` should find it.

    Controllers, pitch bend and programs take the values the events before ``position``
    left; notes held across it start again there (note chase), so starting or seeking
    into a long note plays it. ``held`` is ``(rows, 128)`` scratch. Audio-thread safe.
    """
    ev_time, ev_kind, ev_d1, ev_d2, row_lo, row_hi = events
    for r in range(row_lo.shape[0]):
        pr = params[r]
        st = states[r]
        velocity = held[r]
        velocity[:] = 0
        # the controllers as a render from the start finds them, before the replay
        st[BEND] = 0.0
        st[VOLUME] = 1.0
        st[SUSTAIN] = 0.0
        for e in range(row_lo[r], row_hi[r]):
            t = ev_time[e]
            kind = ev_kind[e]
            # note-offs sort first at a frame: those at ``position`` end their notes here
            if t > position or (t == position and kind != NOTE_OFF):
                break
            d1 = ev_d1[e]
            if kind == NOTE_ON:
                velocity[d1] = ev_d2[e]
            elif kind == NOTE_OFF:
                # released under the sustain pedal: held (negative) until the pedal lifts
                velocity[d1] = -velocity[d1] if velocity[d1] > 0 and st[SUSTAIN] > 0.0 else min(velocity[d1], 0)
            else:
                _event(st, pr, kind, d1, ev_d2[e], rate)  # controllers; no voice is started here
                if kind == CC and (d1 == 120 or d1 == 123):
                    velocity[:] = 0  # all sound / all notes off
                elif kind == CC and d1 == 64 and ev_d2[e] < 64:
                    for pitch in range(128):
                        velocity[pitch] = max(velocity[pitch], 0)
        for pitch in range(128):
            v = velocity[pitch]
            if v != 0:
                _event(st, pr, NOTE_ON, pitch, abs(v), rate)
                if v < 0:
                    _event(st, pr, NOTE_OFF, pitch, 0, rate)  # the pedal is down: it holds the voice
