"""The fader stage: smoothed per-track gains, meters, each track summed into its parent."""

from __future__ import annotations

import math
from typing import NamedTuple

import numba as nb
import numpy as np

from mixtree.dsp.smoothing import ramp_step, step_toward
from mixtree.units import pan_gains


class Faders(NamedTuple):
    """Every slot's fader: float64 ``(slots, 2)`` left/right gains (volume, pan and
    audibility folded together) now, where they head and how far they move per frame;
    float32 ``(slots, 2)`` post-fader peak and RMS of the last block."""

    gain: np.ndarray
    target: np.ndarray
    step: np.ndarray
    peak: np.ndarray
    rms: np.ndarray


class SendRows(NamedTuple):
    """Every send, one row each: source and bus slots, pre-fader flag, and its level's
    gain now, target and per-frame step (float64)."""

    src: np.ndarray
    dst: np.ndarray
    pre: np.ndarray
    gain: np.ndarray
    target: np.ndarray
    step: np.ndarray


@nb.njit(cache=True)
def clear(track_buf: np.ndarray, frames: int) -> None:
    """Zero the first ``frames`` frames of every slot of ``track_buf``. Audio-thread safe."""
    for s in range(track_buf.shape[0]):
        for i in range(frames):
            track_buf[s, i, 0] = 0.0
            track_buf[s, i, 1] = 0.0


@nb.njit(cache=True)
def fader_targets(
    volume: np.ndarray,
    pan: np.ndarray,
    mono: np.ndarray,
    audible: np.ndarray,
    faders: Faders,
    ramp_frames: int,
) -> None:
    """Set each slot's left/right fader target from volume (linear), pan and audibility.

    A slot whose target changes ramps there linearly from its current gain over
    ``ramp_frames`` frames (0: jump). Mono slots use the constant-power pan law, stereo
    ones balance. Audio-thread safe: no allocation.
    """
    gain, target, step = faders.gain, faders.target, faders.step
    for s in range(volume.shape[0]):
        left, right = pan_gains(pan[s], mono[s])
        g = volume[s] if audible[s] else 0.0
        for ch in range(2):
            t = g * (left if ch == 0 else right)
            if t == target[s, ch]:
                continue  # unchanged: a ramp under way carries on
            target[s, ch] = t
            if ramp_frames <= 0:
                gain[s, ch] = t
                step[s, ch] = 0.0
            else:
                step[s, ch] = ramp_step(gain[s, ch], t, ramp_frames)


@nb.njit(cache=True)
def _finite(track_buf: np.ndarray, s: int, frames: int) -> bool:
    for i in range(frames):
        for ch in range(2):
            if not math.isfinite(track_buf[s, i, ch]):
                return False
    return True


@nb.njit(cache=True)
def mix_into_parents(
    track_buf: np.ndarray,
    frames: int,
    slots: np.ndarray,
    parent: np.ndarray,
    faders: Faders,
    failed: np.ndarray,
) -> None:
    """Add each slot of ``slots`` into its parent's buffer through its fader; meter it.

    Gains ramp per frame, so the result does not depend on block size; the faders' peak
    and RMS receive the block's post-fader levels. A slot whose buffer holds NaN or
    infinity is flagged in ``failed`` and, like every flagged slot, contributes nothing.
    Audio-thread safe: no allocation.
    """
    gain, target, step, peak, rms = faders
    for j in range(slots.shape[0]):
        s = slots[j]
        p = parent[s]
        if not failed[s] and not _finite(track_buf, s, frames):
            failed[s] = True
        if failed[s]:
            for ch in range(2):
                peak[s, ch] = 0.0
                rms[s, ch] = 0.0
            continue
        for ch in range(2):
            g = gain[s, ch]
            tgt = target[s, ch]
            st = step[s, ch]
            pk = 0.0
            sq = 0.0
            if g == tgt and g == 0.0:
                peak[s, ch] = 0.0
                rms[s, ch] = 0.0
                continue
            for i in range(frames):
                if g != tgt:
                    g = step_toward(g, tgt, st)
                v = np.float32(g) * track_buf[s, i, ch]
                track_buf[p, i, ch] += v
                a = abs(v)
                if a > pk:
                    pk = a
                sq += v * v
            gain[s, ch] = g
            peak[s, ch] = pk
            rms[s, ch] = math.sqrt(sq / frames) if frames else 0.0


@nb.njit(cache=True)
def write_output(
    track_buf: np.ndarray,
    frames: int,
    slot: int,
    faders: Faders,
    failed: np.ndarray,
    out: np.ndarray,
) -> None:
    """Write ``slot`` (the master) through its fader into ``out`` ``(frames, 2)``; meter it.

    Same smoothing and non-finite guard as `mix_into_parents`: a failed master writes
    silence. Audio-thread safe: writes into ``out`` only.
    """
    gain, target, step, peak, rms = faders
    if not failed[slot] and not _finite(track_buf, slot, frames):
        failed[slot] = True
    if failed[slot]:
        for i in range(frames):
            out[i, 0] = 0.0
            out[i, 1] = 0.0
        return
    for ch in range(2):
        g = gain[slot, ch]
        tgt = target[slot, ch]
        st = step[slot, ch]
        pk = 0.0
        sq = 0.0
        for i in range(frames):
            if g != tgt:
                g = step_toward(g, tgt, st)
            v = np.float32(g) * track_buf[slot, i, ch]
            out[i, ch] = v
            a = abs(v)
            if a > pk:
                pk = a
            sq += v * v
        gain[slot, ch] = g
        peak[slot, ch] = pk
        rms[slot, ch] = math.sqrt(sq / frames) if frames else 0.0


@nb.njit(cache=True)
def crossfade(out: np.ndarray, old: np.ndarray, frames: int, done: int, length: int) -> None:
    """Blend ``old`` out and ``out`` in over frames ``done..done+frames`` of a ``length`` fade.

    Equal-power (sine/cosine) so uncorrelated material keeps its loudness through the
    jump. ``out`` holds the new stream and receives the blend. Audio-thread safe.
    """
    for i in range(frames):
        x = (done + i + 0.5) / length
        if x > 1.0:
            x = 1.0
        fi = np.float32(math.sin(x * math.pi / 2.0))
        fo = np.float32(math.cos(x * math.pi / 2.0))
        for ch in range(2):
            out[i, ch] = out[i, ch] * fi + old[i, ch] * fo


@nb.njit(cache=True)
def mix_sends(
    track_buf: np.ndarray,
    frames: int,
    which: np.ndarray,
    sends: SendRows,
    audible: np.ndarray,
    failed: np.ndarray,
    faders: Faders,
) -> None:
    """Add the sends whose rows ``which`` lists into their buses.

    A pre-fader send takes the track's buffer after its effects; a post-fader one also
    follows the track's fader and pan, ramping exactly as `mix_into_parents` will in this
    block. Send levels ramp per frame like faders. Sends of silent (muted, soloed-away)
    or failed tracks carry nothing. Call before `mix_into_parents`. Audio-thread safe.
    """
    send_src, send_dst, send_pre, send_gain, send_target, send_step = sends
    gain, target, step = faders.gain, faders.target, faders.step
    for j in range(which.shape[0]):
        k = which[j]
        s = send_src[k]
        d = send_dst[k]
        sg = send_gain[k]
        st = send_target[k]
        ss = send_step[k]
        open_ = audible[s] and not failed[s]
        for ch in range(2):
            g = gain[s, ch]
            lv = sg
            for i in range(frames):
                if lv != st:
                    lv = step_toward(lv, st, ss)
                if send_pre[k]:
                    f = 1.0 if open_ else 0.0
                else:
                    if g != target[s, ch]:
                        g = step_toward(g, target[s, ch], step[s, ch])
                    f = g if not failed[s] else 0.0
                track_buf[d, i, ch] += np.float32(lv * f) * track_buf[s, i, ch]
            if ch == 1:
                send_gain[k] = lv


@nb.njit(cache=True)
def blend_slots(
    track_buf: np.ndarray, old_buf: np.ndarray, frames: int, carry: np.ndarray, done: int, length: int
) -> None:
    """Crossfade each slot from ``old_buf`` (slot ``carry[s]`` of the previous plan) into
    ``track_buf`` over frames ``done..done+frames`` of a ``length``-frame linear fade.

    Used for a plan's first blocks, so that moving clips or changing a metatrack's
    timing while playing glides instead of jumping. Linear (equal-gain), because most
    tracks sound the same in both plans and must pass through at unity. Audio-thread safe.
    """
    for s in range(track_buf.shape[0]):
        o = carry[s]
        for i in range(frames):
            x = (done + i + 0.5) / length
            if x > 1.0:
                x = 1.0
            fi = np.float32(x)
            fo = np.float32(1.0 - x)
            for ch in range(2):
                old = old_buf[o, i, ch] if o >= 0 else np.float32(0.0)
                track_buf[s, i, ch] = track_buf[s, i, ch] * fi + old * fo
