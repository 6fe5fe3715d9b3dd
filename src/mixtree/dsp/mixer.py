"""The fader stage: every slot's gain for every frame (smoothed manual moves or automation),
meters, each track summed into its parent, sends into buses."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from mixtree.dsp.delays import DelayLines
from mixtree.dsp.gain import pan_gains
from mixtree.dsp.jit import njit
from mixtree.dsp.lanes import (
    DRAWN,
    MAX_KNOT,
    LaneTable,
    ParameterLanes,
    drawn_value,
    fill_lane,
    fill_parameters,
    parabola,
    piece,
    piece_right,
)
from mixtree.dsp.smoothing import glide_into, ramp_step, step_toward
from mixtree.units import SILENCE_DB


class Faders(NamedTuple):
    """Every slot's fader: float64 ``(slots, 2)`` left/right gains (volume, pan and
    audibility folded together) now, where they head and how far they move per frame;
    float32 ``(slots, 2)`` post-fader peak and RMS of the last block. An automated slot's
    gains are its audibility only (0 or 1, gliding), its lanes give the rest per frame.

    ``last`` holds the gains each slot's last frame played (NaN before its first block);
    a new plan takes them over (`RenderPlan.adopt`): a slot without lanes glides on from
    there, an automated one crossfades from them to its lanes over ``handover_left``
    frames (of ``handover_frames``), so switching lanes or modes while playing does not
    click. ``memo`` ``(slots, MEMO)``: the piece each automated slot played last
    (`_pieces`; its `START` -1 before one)."""

    gain: np.ndarray
    target: np.ndarray
    step: np.ndarray
    peak: np.ndarray
    rms: np.ndarray
    last: np.ndarray
    handover: np.ndarray
    handover_left: np.ndarray
    handover_frames: np.ndarray
    memo: np.ndarray


#: Columns of `Faders.memo`: the piece an automated slot played last (`_pieces`), its
#: first frame and the frame after its last, the parabolas' coefficients of its gain,
#: left, right and mute and of its volume and pan lanes, the manual volume and pan it
#: was worked out with; then, from `LANE_PIECES`, its volume, pan and mute lanes' own
#: pieces (`LANE_PIECE` columns each, `_lane_piece`): the slot's is where all three
#: overlap.
START, END, GAIN, LEFT, RIGHT, MUTE, VOLUME, PAN, FIXED_VOLUME, FIXED_PAN = 0, 1, 2, 5, 8, 11, 14, 17, 20, 21
LANE_PIECES = 22
#: Columns of a lane's own piece in `Faders.memo`: its first frame, the frame after its
#: last, its segment (the point, twice it plus one under its glide), where its right end
#: was worked out; from `L_PARABOLAS` the parabolas of its three values (`_lane_values`),
#: and from `L_RIGHT` those values at its right end, which the lane's next piece, if it
#: starts there on the same segment, takes as its left end.
L_START, L_END, L_SEGMENT, L_AT_RIGHT, L_PARABOLAS, L_RIGHT = 0, 1, 2, 3, 4, 13
LANE_PIECE = 16
MEMO = LANE_PIECES + 3 * LANE_PIECE
#: Columns of a deferred piece (`Mix.pieces`): the memo's first 14 (`START` to the mute's
#: parabola), then the block's frames it covers (`FROM` up to `TO`), the audibility it
#: plays at and whether it is a balance.
FROM, TO, AUDIBLE, BALANCE = 14, 15, 16, 17
PIECE = 18


def faders_for(slots: int) -> Faders:
    """Return the fader state of a plan of ``slots`` slots, at rest (control side)."""
    z = np.zeros((slots, 2))
    return Faders(
        z, z.copy(), z.copy(), np.zeros((slots, 2), np.float32), np.zeros((slots, 2), np.float32),
        np.full((slots, 2), np.nan), z.copy(), np.zeros(slots), np.ones(slots), np.full((slots, MEMO), -1.0),
    )  # fmt: skip


class SendRows(NamedTuple):
    """Every send, one row each: source and bus slots, pre-fader flag, and its level's
    gain now, target and per-frame step (float64); ``lane``: its level's automation lane
    (int32, -1: none)."""

    src: np.ndarray
    dst: np.ndarray
    pre: np.ndarray
    gain: np.ndarray
    target: np.ndarray
    step: np.ndarray
    lane: np.ndarray


class FaderLanes(NamedTuple):
    """Each slot's automation lanes (int32 indices into the plan's `LaneTable`, -1: none)."""

    volume: np.ndarray
    pan: np.ndarray
    mute: np.ndarray


class Mix(NamedTuple):
    """What the fader stage works out each block, for the mixing calls after it: float32
    ``gains`` ``(slots, max_block, 2)`` each slot's left/right gain per frame (what the
    mixing multiplies the float32 audio by: half the memory of float64, whose bits it
    would drop there anyway); float64 ``opens`` ``(slots, max_block)`` what a pre-fader
    send of the slot passes per frame (audibility and mute, not the fader), written only
    for the slots bool ``pre`` marks (they feed one); bool ``live`` ``(slots, 2)`` whether
    a side passes anything this block; float64 ``levels`` ``(sends, max_block)`` each
    send's level per frame; float64 ``scratch`` ``(3, max_block)`` for lane values and
    float32 ``sides`` ``(2, max_block)`` for a slot's left and right gains. Where
    bool ``rest[s]`` is set, slot ``s``'s gains and opening hold still for the whole
    block and only their first frame is written (`still`): a fader at rest, the usual
    case, costs neither a fill nor the reads of one.

    Where int ``deferred[s]`` is set, automated slot ``s``'s gains for the block are not
    written here but worked out by the mixing, from the ``deferred[s]`` pieces
    ``pieces[s]`` keeps (float64 ``(slots, n, PIECE)``; -1, -2 on a balance: from the
    one piece its memo holds, at its audibility, `Faders.gain`), into float32 ``row``
    ``(max_block, 2)``, just before it adds the slot (`mix_into_parents`, which keeps
    its `Faders.last` too): the same values, read from the cache instead of a sweep
    through memory. Only slots bool ``may_defer`` marks are: those that feed no send and
    are not the master (nothing else reads their gains). ``clock[0]`` holds the block's
    first frame."""

    gains: np.ndarray
    opens: np.ndarray
    pre: np.ndarray
    live: np.ndarray
    levels: np.ndarray
    scratch: np.ndarray
    sides: np.ndarray
    rest: np.ndarray
    may_defer: np.ndarray
    deferred: np.ndarray
    pieces: np.ndarray
    row: np.ndarray
    clock: np.ndarray


def mix_buffers(slots: int, sends: SendRows, max_block: int) -> Mix:
    """Return the fader stage's working memory for a plan of ``slots`` slots and
    ``sends`` (control side)."""
    pre = np.zeros(slots, np.bool_)
    pre[sends.src[sends.pre]] = True
    may_defer = np.ones(slots, np.bool_)
    may_defer[sends.src] = False
    may_defer[:1] = False  # the master (`write_output`)
    return Mix(
        gains=np.zeros((slots, max_block, 2), np.float32),
        opens=np.zeros((slots, max_block)),
        pre=pre,
        live=np.zeros((slots, 2), np.bool_),
        levels=np.zeros((sends.src.shape[0], max_block)),
        scratch=np.zeros((3, max_block)),
        sides=np.zeros((2, max_block), np.float32),
        rest=np.zeros(slots, np.bool_),
        may_defer=may_defer,
        deferred=np.zeros(slots, np.int64),
        pieces=np.zeros((slots, max(8, max_block // 256), PIECE)),  # (more in a block: written, not deferred)
        row=np.zeros((max_block, 2), np.float32),
        clock=np.zeros(1, np.int64),
    )


@njit(cache=True, inline="always")
def still(mix: Mix, s: int) -> int:
    """Return what a frame's index is multiplied by to read slot ``s``'s gains and
    opening (`Mix`): 0 where they hold still this block (only frame 0 is written), else 1."""
    return 0 if mix.rest[s] else 1


@njit(cache=True)
def clear(track_buf: np.ndarray, frames: int) -> None:
    """Zero the first ``frames`` frames of every slot of ``track_buf``. Audio-thread safe."""
    for s in range(track_buf.shape[0]):
        for i in range(frames):
            track_buf[s, i, 0] = 0.0
            track_buf[s, i, 1] = 0.0


@njit(cache=True, inline="always")
def _automated(lanes: FaderLanes, s: int) -> bool:
    return lanes.volume[s] >= 0 or lanes.pan[s] >= 0 or lanes.mute[s] >= 0


@njit(cache=True)
def fader_targets(
    volume: np.ndarray,
    pan: np.ndarray,
    mono: np.ndarray,
    audible: np.ndarray,
    faders: Faders,
    lanes: FaderLanes,
    ramp_frames: int,
) -> None:
    """Set each slot's left/right fader target from volume (linear), pan and audibility
    (an automated slot's from its audibility alone: its lanes give the rest).

    A slot whose target changes ramps there linearly from its current gain over
    ``ramp_frames`` frames (0: jump). Mono slots use the constant-power pan law, stereo
    ones balance. Audio-thread safe: no allocation.
    """
    gain, target, step = faders.gain, faders.target, faders.step
    for s in range(volume.shape[0]):
        left, right = pan_gains(pan[s], mono[s])
        g = volume[s] if audible[s] else 0.0
        if _automated(lanes, s):
            left = right = 1.0
            g = 1.0 if audible[s] else 0.0
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


#: Natural log of 10 over 20: a dB value times this, through exp, is a gain (faster than 10**).
_DB_LN = math.log(10.0) / 20.0


@njit(cache=True, inline="always")
def _db_gain(db: float) -> float:
    return 0.0 if db <= SILENCE_DB else math.exp(db * _DB_LN)


@njit(cache=True)
def fader_stage(
    frames: int,
    position: int,
    volume: np.ndarray,
    pan: np.ndarray,
    mono: np.ndarray,
    audible: np.ndarray,
    faders: Faders,
    lanes: LaneTable,
    fader_lanes: FaderLanes,
    mix: Mix,
    sends: SendRows,
    parameters: ParameterLanes,
) -> None:
    """Work out what the block starting at ``position`` plays through every fader
    (`fader_gains`), send (`send_levels`) and automated effect parameter
    (`fill_parameters`: the kernels' rows), in one call from Python: each array a call
    takes is unboxed again every time, some 0.2 µs, and several times that once the
    block's audio has pushed it out of the cache. Audio-thread safe: no allocation."""
    fader_gains(frames, position, volume, pan, mono, audible, faders, lanes, fader_lanes, mix)
    send_levels(frames, position, sends, lanes, mix)
    if parameters.lane.shape[0]:
        fill_parameters(lanes, parameters, position, frames, True)


@njit(cache=True)
def fader_gains(
    frames: int,
    position: int,
    volume: np.ndarray,
    pan: np.ndarray,
    mono: np.ndarray,
    audible: np.ndarray,
    faders: Faders,
    lanes: LaneTable,
    fader_lanes: FaderLanes,
    mix: Mix,
) -> None:
    """Work out every slot's gain for each frame of the block starting at ``position``.

    A slot without lanes glides its gains toward their targets, a step a frame, so the
    result does not depend on block size; at rest there, it writes its first frame alone
    (`Mix.rest`). An automated slot takes its volume (dB), pan
    and mute lanes (the manual value where it has no lane) times its gliding
    audibility: exactly at the ends of their shared pieces and linear between
    (`_pieces`), or frame by frame while a move is recorded (`_per_frame`). Audio-thread
    safe: no allocation.
    """
    gains, opens, pre, live, sides, rest = mix.gains, mix.opens, mix.pre, mix.live, mix.sides, mix.rest
    may_defer, deferred, pieces = mix.may_defer, mix.deferred, mix.pieces
    mix.clock[0] = position
    # arrays taken out of their tuples once: handing a tuple of arrays to a function costs
    # a reference count of each (some 6 ns an array), too much to pay per slot
    gain, target, last, memo, handover_left = faders.gain, faders.target, faders.last, faders.memo, faders.handover_left
    step = faders.step
    state, warp, lane_last = lanes.state, lanes.warp, lanes.last
    at, value, shape, tension, knot = lanes.at, lanes.value, lanes.shape, lanes.tension, lanes.knot
    lo, hi, ramp = lanes.lo, lanes.hi, lanes.ramp
    volume_lane, pan_lane, mute_lane = fader_lanes.volume, fader_lanes.pan, fader_lanes.mute
    pairs = gains.reshape(gains.shape[0], -1)  # left, right of a frame side by side (`_memo_frames`)
    for s in range(volume.shape[0]):
        kv, kp, km = volume_lane[s], pan_lane[s], mute_lane[s]
        rest[s] = False
        deferred[s] = 0
        if kv < 0 and kp < 0 and km < 0:
            if gain[s, 0] == target[s, 0] and gain[s, 1] == target[s, 1]:
                # both sides at rest (the usual case): the first frame holds for all
                left, right = gain[s, 0], gain[s, 1]
                gains[s, 0, 0], gains[s, 0, 1] = left, right
                opens[s, 0] = 1.0 if audible[s] else 0.0
                rest[s] = True
                live[s, 0], live[s, 1] = left != 0.0, right != 0.0
                last[s, 0], last[s, 1] = left, right
                continue
            for ch in range(2):
                g = gain[s, ch]
                tgt = target[s, ch]
                st = step[s, ch]
                live[s, ch] = g != 0.0 or tgt != 0.0
                if g == tgt:  # at rest (the usual case): a fill the compiler vectorises
                    for i in range(frames):
                        gains[s, i, ch] = g
                else:
                    for i in range(frames):
                        if g != tgt:
                            g = step_toward(g, tgt, st)
                        gains[s, i, ch] = g
                gain[s, ch] = g
                last[s, ch] = g
            if pre[s]:
                o = 1.0 if audible[s] else 0.0
                for i in range(frames):
                    opens[s, i] = o
            continue
        live[s, 0] = live[s, 1] = True
        drawn = (
            (kv < 0 or (state[kv] == DRAWN and warp[kv] < 0))
            and (kp < 0 or (state[kp] == DRAWN and warp[kp] < 0))
            and (km < 0 or (state[km] == DRAWN and warp[km] < 0))
        )  # every lane plays its drawn curve on output time: `_pieces` can run them
        if not drawn:
            a = _per_frame(s, frames, position, volume[s], pan[s], mono[s], faders, lanes, kv, kp, km, mix)
        elif (
            memo[s, START] <= position and position + frames <= memo[s, END] and gain[s, 0] == target[s, 0]
            and memo[s, FIXED_VOLUME] == volume[s] and memo[s, FIXED_PAN] == pan[s]
        ):  # fmt: skip
            # the usual block: inside the piece played last, the audibility at rest
            a = gain[s, 0]
            balance = kp >= 0 and not mono[s]
            if may_defer[s] and handover_left[s] == 0.0:  # the mixing works them out, from the memo
                deferred[s] = -2 if balance else -1
            else:
                _memo_frames(pairs[s], opens[s], sides, memo[s], 0, frames, position, a, balance, pre[s])
            _memo_lanes(lane_last, memo, s, kv, kp, km, position + frames - 1)
        else:
            defer = may_defer[s] and handover_left[s] == 0.0 and gain[s, 0] == target[s, 0]
            a, deferred[s] = _pieces(
                s, frames, position, volume[s], pan[s], mono[s], gain[s, 0], target[s, 0], step[s, 0], at, value,
                shape, tension, knot, lo, hi, ramp, lane_last, memo, pairs[s], opens[s], pre[s], sides, kv, kp, km,
                pieces[s] if defer else pieces[s, :0],
            )  # fmt: skip
        gain[s, 0] = gain[s, 1] = a
        if deferred[s]:
            continue  # (the mixing keeps its `last` too)
        left_over = handover_left[s]
        if left_over > 0.0:
            _hand_over(gains, s, frames, faders.handover, left_over, faders.handover_frames[s])
            handover_left[s] = max(0.0, left_over - frames)
        last[s, 0] = gains[s, frames - 1, 0]
        last[s, 1] = gains[s, frames - 1, 1]


@njit(cache=True, inline="always")
def _pieces(
    s: int, frames: int, position: int, volume: float, pan: float, mono: bool, a: float, tgt: float, st: float,
    at: np.ndarray, value: np.ndarray, shape: np.ndarray, tension: np.ndarray, knot: np.ndarray, lo: np.ndarray,
    hi: np.ndarray, ramp: np.ndarray, lane_last: np.ndarray, memos: np.ndarray, pairs: np.ndarray, opens: np.ndarray,
    opening: bool, sides: np.ndarray, kv: int, kp: int, km: int, deferring: np.ndarray,
) -> tuple[float, int]:  # fmt: skip
    """Work out automated slot ``s``'s gains piece by piece (`mixtree.dsp.lanes.piece`):
    the volume's gain, the pan's left/right gains (its position on stereo material,
    whose balance law has a corner) and the mute are worked out exactly at the ends and
    the middle of each lane's own pieces, and follow the parabola through those three
    between (a fader's lanes have pieces short enough for it: `knot_lengths`). The
    slot's piece is where its lanes' pieces overlap, their parabolas re-based to its
    first frame (`_rebased`); it goes into the slot's memo, beside each lane's own
    (`_lane_piece`), where the next blocks find them (`fader_gains`).
    Starts from audibility ``a`` gliding to ``tgt`` by ``st`` a frame; returns where it
    got to, and how many pieces it left in ``deferring`` instead of writing their frames
    into ``pairs`` (`Mix.pieces`: as many as it holds, none if it is empty; with more in
    the block, every frame is written after all). (It takes the plan's arrays, not its
    tuples: inlined into the slot loop without reference counting.)"""
    balance = kp >= 0 and not mono
    kept = 0 if deferring.shape[0] else -1  # -1: frames written
    fixed_left = fixed_right = 0.0
    if kp < 0:  # (the pan's own gains, where it has no lane)
        fixed_left, fixed_right = pan_gains(pan, mono)
    i = 0
    while i < frames:
        n = position + i
        memo = memos[s]
        if not (memo[START] <= n < memo[END] and memo[FIXED_VOLUME] == volume and memo[FIXED_PAN] == pan):
            start, end = n - MAX_KNOT, n + MAX_KNOT  # wider than any piece: narrowed by each lane's
            cv, cp, cm = LANE_PIECES, LANE_PIECES + LANE_PIECE, LANE_PIECES + 2 * LANE_PIECE
            if kv >= 0:
                if not memo[cv + L_START] <= n < memo[cv + L_END]:
                    _lane_piece(memo, cv, 0, at, value, shape, tension, knot, lo, hi, ramp, kv, n, mono)
                start, end = max(start, int(memo[cv + L_START])), min(end, int(memo[cv + L_END]))
            if kp >= 0:
                if not memo[cp + L_START] <= n < memo[cp + L_END]:
                    _lane_piece(memo, cp, 1, at, value, shape, tension, knot, lo, hi, ramp, kp, n, mono)
                start, end = max(start, int(memo[cp + L_START])), min(end, int(memo[cp + L_END]))
            if km >= 0:
                if not memo[cm + L_START] <= n < memo[cm + L_END]:
                    _lane_piece(memo, cm, 2, at, value, shape, tension, knot, lo, hi, ramp, km, n, mono)
                start, end = max(start, int(memo[cm + L_START])), min(end, int(memo[cm + L_END]))
            x0 = float(start)
            if kv >= 0:
                _rebased(memo, GAIN, cv, 0, x0)
                _rebased(memo, VOLUME, cv, 1, x0)
            else:
                memo[GAIN], memo[GAIN + 1], memo[GAIN + 2] = volume, 0.0, 0.0
                memo[VOLUME] = memo[VOLUME + 1] = memo[VOLUME + 2] = 0.0
            if kp >= 0:
                _rebased(memo, LEFT, cp, 0, x0)
                _rebased(memo, RIGHT, cp, 1, x0)
                _rebased(memo, PAN, cp, 2, x0)
            else:
                memo[LEFT], memo[LEFT + 1], memo[LEFT + 2] = fixed_left, 0.0, 0.0
                memo[RIGHT], memo[RIGHT + 1], memo[RIGHT + 2] = fixed_right, 0.0, 0.0
                memo[PAN] = memo[PAN + 1] = memo[PAN + 2] = 0.0
            if km >= 0:
                _rebased(memo, MUTE, cm, 0, x0)
            else:
                memo[MUTE] = memo[MUTE + 1] = memo[MUTE + 2] = 0.0
            memo[START], memo[END] = x0, float(end)
            memo[FIXED_VOLUME], memo[FIXED_PAN] = volume, pan
        stop = min(int(memos[s, END]) - position, frames)
        while i < stop and a != tgt:  # the audibility glides (rarely): frame by frame (never deferred)
            a = step_toward(a, tgt, st)
            _memo_frames(pairs, opens, sides, memos[s], i, i + 1, position, a, balance, opening)
            i += 1
        if kept == deferring.shape[0] > 0:  # more pieces than a slot keeps: those kept written now
            for k in range(kept):
                p = deferring[k]
                _memo_frames(pairs, opens, sides, p, int(p[FROM]), int(p[TO]), position, a, balance, opening)
            kept = -1
        if kept >= 0:
            _defer(deferring, kept, memos[s], i, stop, a, balance)
            kept += 1
        else:
            _memo_frames(pairs, opens, sides, memos[s], i, stop, position, a, balance, opening)
        i = stop
    _memo_lanes(lane_last, memos, s, kv, kp, km, position + frames - 1)
    return a, max(kept, 0)


@njit(cache=True, inline="always")
def _defer(pieces: np.ndarray, k: int, memo: np.ndarray, i: int, stop: int, a: float, balance: bool) -> None:
    # the piece in ``memo`` (a slot's row), over frames i..stop at audibility a, into
    # row k of the slot's ``pieces`` (`Mix`), for the mixing to work out
    for c in range(FROM):
        pieces[k, c] = memo[c]
    pieces[k, FROM], pieces[k, TO], pieces[k, AUDIBLE], pieces[k, BALANCE] = i, stop, a, balance


@njit(cache=True, inline="always")
def _lane_piece(
    memo: np.ndarray, c: int, which: int, at: np.ndarray, value: np.ndarray, shape: np.ndarray, tension: np.ndarray,
    knot: np.ndarray, lo: np.ndarray, hi: np.ndarray, ramp: np.ndarray, k: int, n: int, mono: bool,
) -> None:  # fmt: skip
    # the piece of a slot's lane k (``which``: its volume 0, pan 1 or mute 2) holding frame
    # n (`piece`) into the slot's ``memo`` from column c (`LANE_PIECE` columns): the
    # parabolas through its values (`_lane_values`) at its ends and middle, exact there;
    # its left end is the last piece's right end where it starts there, on that segment
    start, end, j, glide = piece(at, shape, tension, knot, lo[k], hi[k], ramp[k], n, int(memo[c + L_SEGMENT]) // 2)
    x0 = float(start)
    x1 = piece_right(at, lo[k], hi[k], j, end)
    h = 0.5 * (x1 - x0)
    segment = 2.0 * j + glide
    r = c + L_RIGHT
    if memo[c + L_AT_RIGHT] == x0 and memo[c + L_SEGMENT] == segment:
        p0, q0, w0 = memo[r], memo[r + 1], memo[r + 2]  # (a function of the frame alone: not worked out again)
    else:
        p0, q0, w0 = _lane_values(which, at, value, shape, tension, lo[k], hi[k], ramp[k], j, glide, x0, mono)
    p1, q1, w1 = _lane_values(which, at, value, shape, tension, lo[k], hi[k], ramp[k], j, glide, x0 + h, mono)
    p2, q2, w2 = _lane_values(which, at, value, shape, tension, lo[k], hi[k], ramp[k], j, glide, x1, mono)
    memo[c + L_START], memo[c + L_END], memo[c + L_SEGMENT], memo[c + L_AT_RIGHT] = x0, float(end), segment, x1
    f = c + L_PARABOLAS
    memo[f] = p0
    memo[f + 1], memo[f + 2] = parabola(p0, p1, p2, h)
    if which != 2:  # (a mute has one value, a volume two, a pan three)
        memo[f + 3] = q0
        memo[f + 4], memo[f + 5] = parabola(q0, q1, q2, h)
    if which == 1:
        memo[f + 6] = w0
        memo[f + 7], memo[f + 8] = parabola(w0, w1, w2, h)
    memo[r], memo[r + 1], memo[r + 2] = p2, q2, w2


@njit(cache=True, inline="always")
def _lane_values(
    which: int, at: np.ndarray, value: np.ndarray, shape: np.ndarray, tension: np.ndarray, lo: int, hi: int,
    ramp: float, j: int, glide: bool, x: float, mono: bool,
) -> tuple[float, float, float]:  # fmt: skip
    # a fader lane's values at frame x on point j's segment (`drawn_value`): the volume's
    # gain and dB; the pan's left and right gains (on stereo material, whose balance law
    # has a corner, its position twice) and position; the mute
    v = drawn_value(at, value, shape, tension, lo, hi, ramp, j, glide, x)
    if which == 0:
        return _db_gain(v), v, 0.0
    if which == 1:
        if not mono:
            return v, v, v
        left, right = pan_gains(v, True)
        return left, right, v
    return v, 0.0, 0.0


@njit(cache=True, inline="always")
def _rebased(memo: np.ndarray, col: int, c: int, q: int, x: float) -> None:
    # parabola q of the lane piece at column c (u from the lane's first frame) as one whose
    # u counts from frame x, into columns col..col + 2: the slot's piece, from x, plays
    # its lanes' own parabolas, not worked out again where only one lane's piece ended
    f = c + L_PARABOLAS + 3 * q
    y0, b, cc = memo[f], memo[f + 1], memo[f + 2]
    d = x - memo[c + L_START]
    memo[col] = y0 + d * (b + d * cc)
    memo[col + 1] = b + 2.0 * d * cc
    memo[col + 2] = cc


@njit(cache=True, inline="always")
def _memo_sides(
    sides: np.ndarray, memo: np.ndarray, i: int, stop: int, position: int, a: float, balance: bool
) -> None:  # fmt: skip
    # frames i..stop of a slot's left and right gains into the two rows of ``sides``, from
    # the piece in ``memo`` (a slot's row of it, `_pieces`, or a deferred piece), times the
    # audibility ``a``; on a balance (``balance``) its left holds the pan's position.
    # Without a mute lane (its parabola all 0) the opening is ``a`` alone: the same
    # values, three operations a frame fewer. In float32, like the samples they scale:
    # twice the frames a vector instruction takes, a few units in the last place of a
    # float32 (a gain's frame index, under `MAX_KNOT` from the piece's start, is exact).
    f = np.float32
    g0, gb, gc = f(memo[GAIN]), f(memo[GAIN + 1]), f(memo[GAIN + 2])
    l0, lb, lc = f(memo[LEFT]), f(memo[LEFT + 1]), f(memo[LEFT + 2])
    r0, rb, rc = f(memo[RIGHT]), f(memo[RIGHT + 1]), f(memo[RIGHT + 2])
    m0, mb, mc = f(memo[MUTE]), f(memo[MUTE + 1]), f(memo[MUTE + 2])
    u0, open_, one = f(position - int(memo[START])), f(a), f(1.0)
    flat = m0 == 0.0 and mb == 0.0 and mc == 0.0
    # indices as unsigned: a loop from a variable start on signed ones keeps numba's
    # negative-index wraparound, which stops the compiler vectorising it (4x)
    if balance and flat:
        for m in range(i, stop):
            u = u0 + f(m)
            g = open_ * (g0 + u * (gb + u * gc))
            p = min(one, max(-one, l0 + u * (lb + u * lc)))
            sides[0, np.uint64(m)] = g * min(one, one - p)
            sides[1, np.uint64(m)] = g * min(one, one + p)
    elif balance:
        for m in range(i, stop):
            u = u0 + f(m)
            g = open_ * (one - (m0 + u * (mb + u * mc))) * (g0 + u * (gb + u * gc))
            p = min(one, max(-one, l0 + u * (lb + u * lc)))
            sides[0, np.uint64(m)] = g * min(one, one - p)
            sides[1, np.uint64(m)] = g * min(one, one + p)
    elif flat:
        for m in range(i, stop):
            u = u0 + f(m)
            g = open_ * (g0 + u * (gb + u * gc))
            sides[0, np.uint64(m)] = g * (l0 + u * (lb + u * lc))
            sides[1, np.uint64(m)] = g * (r0 + u * (rb + u * rc))
    else:
        for m in range(i, stop):
            u = u0 + f(m)
            g = open_ * (one - (m0 + u * (mb + u * mc))) * (g0 + u * (gb + u * gc))
            sides[0, np.uint64(m)] = g * (l0 + u * (lb + u * lc))
            sides[1, np.uint64(m)] = g * (r0 + u * (rb + u * rc))


@njit(cache=True, inline="always")
def _memo_frames(
    pairs: np.ndarray, opens: np.ndarray, sides: np.ndarray, memo: np.ndarray, i: int, stop: int, position: int,
    a: float, balance: bool, opening: bool,
) -> None:  # fmt: skip
    # frames i..stop of a slot's gains into ``pairs`` (left and right of a frame side by
    # side; `_memo_sides`), and its ``opens`` where a pre-fader send reads them
    # (``opening``). The sides go to the two rows of ``sides`` first, then are
    # interleaved: the compiler vectorises both loops, not one that stores to every
    # other float (3x).
    _memo_sides(sides, memo, i, stop, position, a, balance)
    if opening:
        m0, mb, mc = memo[MUTE], memo[MUTE + 1], memo[MUTE + 2]
        u0 = float(position - int(memo[START]))
        for m in range(i, stop):
            u = u0 + m
            opens[np.uint64(m)] = a * (1.0 - (m0 + u * (mb + u * mc)))
    for m in range(i, stop):
        pairs[np.uint64(2 * m)] = sides[0, np.uint64(m)]
        pairs[np.uint64(2 * m + 1)] = sides[1, np.uint64(m)]


@njit(cache=True, inline="always")
def _deferred(
    pairs: np.ndarray, sides: np.ndarray, opens: np.ndarray, memo: np.ndarray, a: float, pieces: np.ndarray,
    count: int, frames: int, position: int, apart: bool,
) -> None:  # fmt: skip
    # a deferred slot's gains for the block (`Mix`): from its memo (``count`` -1, -2 on a
    # balance, at audibility ``a``) or its ``count`` pieces; left in ``sides`` (``apart``)
    # or, interleaved, in ``pairs`` (``opens``: scratch for `_memo_frames`, not written)
    for k in range(1 if count < 0 else count):
        piece_ = memo if count < 0 else pieces[k]
        i, stop = (0, frames) if count < 0 else (int(piece_[FROM]), int(piece_[TO]))
        at = a if count < 0 else piece_[AUDIBLE]
        balance = count == -2 if count < 0 else piece_[BALANCE] != 0.0
        if apart:
            _memo_sides(sides, piece_, i, stop, position, at, balance)
        else:
            _memo_frames(pairs, opens, sides, piece_, i, stop, position, at, balance, False)


@njit(cache=True, inline="always")
def _memo_lanes(last: np.ndarray, memo: np.ndarray, s: int, kv: int, kp: int, km: int, n: int) -> None:
    # what a move recorded next starts from: slot s's lanes at frame n, from its memo
    u = float(n - int(memo[s, START]))
    if kv >= 0:
        last[kv] = memo[s, VOLUME] + u * (memo[s, VOLUME + 1] + u * memo[s, VOLUME + 2])
    if kp >= 0:
        last[kp] = memo[s, PAN] + u * (memo[s, PAN + 1] + u * memo[s, PAN + 2])
    if km >= 0:
        last[km] = memo[s, MUTE] + u * (memo[s, MUTE + 1] + u * memo[s, MUTE + 2])


@njit(cache=True)
def _per_frame(
    s: int, frames: int, position: int, fixed_volume: float, fixed_pan: float, mono: bool, faders: Faders,
    lanes: LaneTable, kv: int, kp: int, km: int, mix: Mix,
) -> float:  # fmt: skip
    """Work out automated slot ``s``'s gains frame by frame, from lanes that are recording
    a move or run on a warped time. Returns the audibility the slot glided to."""
    gains, opens, scratch = mix.gains, mix.opens, mix.scratch
    vol, pn, mt = scratch[0], scratch[1], scratch[2]
    if kv >= 0:
        fill_lane(lanes, kv, position, frames, vol)
    if kp >= 0:
        fill_lane(lanes, kp, position, frames, pn)
    if km >= 0:
        fill_lane(lanes, km, position, frames, mt)
    fixed_gain = fixed_volume
    fixed_left, fixed_right = pan_gains(fixed_pan, mono)
    a = faders.gain[s, 0]
    tgt = faders.target[s, 0]
    st = faders.step[s, 0]
    for i in range(frames):
        if a != tgt:
            a = step_toward(a, tgt, st)
        open_ = a if km < 0 else a * (1.0 - mt[i])
        g = open_ * (_db_gain(vol[i]) if kv >= 0 else fixed_gain)
        if kp >= 0:
            left, right = pan_gains(pn[i], mono)
        else:
            left, right = fixed_left, fixed_right
        gains[s, i, 0] = g * left
        gains[s, i, 1] = g * right
        opens[s, i] = open_
    return a


@njit(cache=True, inline="always")
def _hand_over(gains: np.ndarray, s: int, frames: int, start: np.ndarray, left: float, length: float) -> None:
    # crossfade from the gains the previous plan played to this plan's, linearly
    for i in range(min(frames, int(left))):
        w = (left - i) / length
        for ch in range(2):
            gains[s, i, ch] += (start[s, ch] - gains[s, i, ch]) * w


@njit(cache=True)
def send_levels(frames: int, position: int, sends: SendRows, lanes: LaneTable, mix: Mix) -> None:
    """Work out every send's level (linear) for each frame of the block: gliding to its
    target, or from its lane (dB). Audio-thread safe: no allocation."""
    levels = mix.levels
    for k in range(sends.src.shape[0]):
        lane = sends.lane[k]
        if lane >= 0:
            fill_lane(lanes, lane, position, frames, levels[k])
            for i in range(frames):
                levels[k, i] = _db_gain(levels[k, i])
            continue
        sends.gain[k] = glide_into(levels[k], frames, sends.gain[k], sends.target[k], sends.step[k])


#: A float32's exponent bits: all set in an infinity or a NaN, and only there.
_EXPONENT = 0x7F800000


@njit(cache=True, inline="always")
def _finite(track_buf: np.ndarray, s: int, frames: int) -> bool:
    # on the bits, with no early exit: a loop the compiler vectorises
    bits = track_buf[s, :frames].reshape(2 * frames).view(np.int32)
    bad = 0
    for k in range(bits.shape[0]):
        bad |= (bits[k] & _EXPONENT) == _EXPONENT
    return bad == 0


@njit(cache=True)
def mix_into_parents(
    track_buf: np.ndarray,
    frames: int,
    slots: np.ndarray,
    parent: np.ndarray,
    mix: Mix,
    faders: Faders,
    failed: np.ndarray,
    meters: bool,
) -> None:
    """Add each slot of ``slots`` into its parent's buffer through its per-frame gains
    (`fader_gains`; a deferred slot's worked out here: `Mix`); with ``meters``, meter it
    into the faders' peak and RMS. A slot whose buffer holds NaN or infinity is flagged
    in ``failed`` and, like every flagged slot, contributes nothing. Audio-thread safe:
    no allocation.
    """
    live, deferred, pieces, row, sides = mix.live, mix.deferred, mix.pieces, mix.row, mix.sides
    unused = mix.scratch[0]  # (`_deferred`'s opening: never written there)
    peak, rms, last = faders.peak, faders.rms, faders.last
    pairs = row.reshape(-1)
    position = mix.clock[0]
    for j in range(slots.shape[0]):
        s = slots[j]
        p = parent[s]
        if not failed[s] and not _finite(track_buf, s, frames):
            failed[s] = True
        step = still(mix, s)
        gains = mix.gains[s]
        apart = False  # its gains left in the rows of ``sides`` (not interleaved: read once)
        if deferred[s]:
            apart = meters and live[s, 0] and live[s, 1] and not failed[s]
            _deferred(
                pairs, sides, unused, faders.memo[s], faders.gain[s, 0], pieces[s], deferred[s], frames,
                position, apart,
            )  # fmt: skip
            if apart:
                last[s, 0], last[s, 1] = sides[0, frames - 1], sides[1, frames - 1]
            else:
                gains = row
                last[s, 0], last[s, 1] = row[frames - 1, 0], row[frames - 1, 1]
        if live[s, 0] and live[s, 1] and not failed[s]:
            if apart:  # (``sides`` as (frames, 2))
                pl, pr, ql, qr = _add_metered(track_buf, p, s, sides.T, 1, frames)
                peak[s, 0], peak[s, 1] = pl, pr
                rms[s, 0] = math.sqrt(ql / frames) if frames else 0.0
                rms[s, 1] = math.sqrt(qr / frames) if frames else 0.0
            elif meters:
                pl, pr, ql, qr = _add_metered(track_buf, p, s, gains, step, frames)
                peak[s, 0], peak[s, 1] = pl, pr
                rms[s, 0] = math.sqrt(ql / frames) if frames else 0.0
                rms[s, 1] = math.sqrt(qr / frames) if frames else 0.0
            elif step == 0:
                _add_still(track_buf[p], track_buf[s], gains[0, 0], gains[0, 1], frames)
            else:
                _add(track_buf[p], track_buf[s], gains, frames)
            continue
        for ch in range(2):
            if failed[s] or not live[s, ch]:
                peak[s, ch] = 0.0
                rms[s, ch] = 0.0
                continue
            pk = 0.0
            sq = 0.0
            for i in range(frames):
                v = np.float32(gains[i * step, ch]) * track_buf[s, i, ch]
                track_buf[p, i, ch] += v
                a = abs(v)
                if a > pk:
                    pk = a
                sq += v * v
            peak[s, ch] = pk
            rms[s, ch] = math.sqrt(sq / frames) if frames else 0.0


@njit(cache=True, inline="always")
def _add_metered(
    buf: np.ndarray, p: int, s: int, gains: np.ndarray, step: int, frames: int
) -> tuple[float, float, float, float]:  # fmt: skip
    # slot s into its parent p through ``gains`` (its own, (frames, 2), float32 values)
    # with both sides live, metered: the products and sums of the side-by-side loop, two
    # frames a step so that four peaks and four sums of squares run side by side (2.3x:
    # each sum waits on its last); returns the left and right peaks and sums of squares
    pa = pb = pc = pd = np.float32(0.0)
    qa = qb = qc = qd = 0.0
    for j in range(frames // 2):
        i = 2 * j
        gl0, gr0 = np.float32(gains[i * step, 0]), np.float32(gains[i * step, 1])
        gl1, gr1 = np.float32(gains[(i + 1) * step, 0]), np.float32(gains[(i + 1) * step, 1])
        v0, v1 = gl0 * buf[s, i, 0], gr0 * buf[s, i, 1]
        v2, v3 = gl1 * buf[s, i + 1, 0], gr1 * buf[s, i + 1, 1]
        buf[p, i, 0] += v0
        buf[p, i, 1] += v1
        buf[p, i + 1, 0] += v2
        buf[p, i + 1, 1] += v3
        pa, pb, pc, pd = max(pa, abs(v0)), max(pb, abs(v1)), max(pc, abs(v2)), max(pd, abs(v3))
        qa += v0 * v0
        qb += v1 * v1
        qc += v2 * v2
        qd += v3 * v3
    if frames % 2:
        i = frames - 1
        v0 = np.float32(gains[i * step, 0]) * buf[s, i, 0]
        v1 = np.float32(gains[i * step, 1]) * buf[s, i, 1]
        buf[p, i, 0] += v0
        buf[p, i, 1] += v1
        pa, pb = max(pa, abs(v0)), max(pb, abs(v1))
        qa += v0 * v0
        qb += v1 * v1
    return max(pa, pc), max(pb, pd), qa + qc, qb + qd


@njit(cache=True, inline="always")
def _add(out: np.ndarray, x: np.ndarray, gains: np.ndarray, frames: int) -> None:
    # ``out += gains · x`` over ``(frames, 2)``, both sides as one run (it vectorises):
    # the products and sums of the metering loop, without its meters
    n = 2 * frames
    out, x, gains = out[:frames].reshape(n), x[:frames].reshape(n), gains[:frames].reshape(n)
    for k in range(n):
        out[k] += np.float32(gains[k]) * x[k]


@njit(cache=True, inline="always")
def _add_still(out: np.ndarray, x: np.ndarray, left: float, right: float, frames: int) -> None:
    # `_add` through gains that hold still: the same products, both sides as one run
    # (2.7x a loop over frames that stores to each side)
    gl, gr = np.float32(left), np.float32(right)
    n = 2 * frames
    out, x = out[:frames].reshape(n), x[:frames].reshape(n)
    for k in range(n):
        out[k] += (gl if k & 1 == 0 else gr) * x[k]


@njit(cache=True)
def write_output(
    track_buf: np.ndarray,
    frames: int,
    slot: int,
    mix: Mix,
    faders: Faders,
    failed: np.ndarray,
    out: np.ndarray,
) -> None:
    """Write ``slot`` (the master) through its per-frame gains into ``out`` ``(frames, 2)``;
    meter it. Same non-finite guard as `mix_into_parents`: a failed master writes
    silence. Audio-thread safe: writes into ``out`` only.
    """
    if not failed[slot] and not _finite(track_buf, slot, frames):
        failed[slot] = True
    if failed[slot]:
        for i in range(frames):
            out[i, 0] = 0.0
            out[i, 1] = 0.0
        return
    gains = mix.gains
    step = still(mix, slot)
    for ch in range(2):
        pk = 0.0
        sq = 0.0
        for i in range(frames):
            v = np.float32(gains[slot, i * step, ch]) * track_buf[slot, i, ch]
            out[i, ch] = v
            a = abs(v)
            if a > pk:
                pk = a
            sq += v * v
        faders.peak[slot, ch] = pk
        faders.rms[slot, ch] = math.sqrt(sq / frames) if frames else 0.0


@njit(cache=True)
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


@njit(cache=True)
def mix_sends(
    track_buf: np.ndarray,
    frames: int,
    which: np.ndarray,
    sends: SendRows,
    mix: Mix,
    failed: np.ndarray,
    line_of: np.ndarray,
    lines: DelayLines,
) -> None:
    """Add the sends whose rows ``which`` lists into their buses, at their per-frame levels
    (`send_levels`): a pre-fader send takes the track's buffer after its effects through
    its audibility and mute alone, a post-fader one through its per-frame gains too. A
    send with a delay line (``line_of[k]``, -1: none) carries the track's signal through
    it (latency compensation). Sends of failed tracks carry nothing. Call before
    `mix_into_parents`. Audio-thread safe.
    """
    gains, opens, levels = mix.gains, mix.opens, mix.levels
    for j in range(which.shape[0]):
        k = which[j]
        s = sends.src[k]
        d = sends.dst[k]
        if failed[s]:
            continue
        pre = sends.pre[k]
        line = line_of[k]
        step = still(mix, s)
        if line < 0:
            for ch in range(2):
                for i in range(frames):
                    f = opens[s, i * step] if pre else gains[s, i * step, ch]
                    track_buf[d, i, ch] += np.float32(levels[k, i] * f) * track_buf[s, i, ch]
            continue
        ring = lines.ring[line]
        n = ring.shape[0]
        p = lines.pos[line]
        for i in range(frames):
            for ch in range(2):
                x = ring[p, ch]
                ring[p, ch] = track_buf[s, i, ch]
                f = opens[s, i * step] if pre else gains[s, i * step, ch]
                track_buf[d, i, ch] += np.float32(levels[k, i] * f) * x
            p += 1
            if p == n:
                p = 0
        lines.pos[line] = p


@njit(cache=True)
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
