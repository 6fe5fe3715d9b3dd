"""The compressor: a soft-knee gain computer with attack/release ballistics, batched."""

from __future__ import annotations

import math

import numpy as np

from mixtree.dsp.approx import exp, ln
from mixtree.dsp.denormals import STATE_FLOOR
from mixtree.dsp.jit import njit
from mixtree.dsp.rows import SLOT, auto_of, lanes_of, params_of, ramps_of, state_of
from mixtree.dsp.smoothing import BYPASSED, CUR, STEADY, advance, automate_rows, begin_row, lane_points, value_at

#: Averaging time of the RMS detector, seconds.
RMS_WINDOW = 0.010
#: The gain computer runs once per this many frames; the gain is interpolated between.
GROUP = 8

# state: [gain reduction envelope dB, mean square, frames into the group, group peak,
#         gain at the group's start, gain at its end], then scratch for `_groups`
ENVELOPE, MEAN_SQUARE, COUNT, PEAK, GAIN_FROM, GAIN_TO = range(6)
#: Whole groups `_groups` takes at once (its scratch: a level and a gain per group).
CHUNK = 64
SCRATCH = 6
STATE_SIZE = SCRATCH + 2 * CHUNK
# parameters, in the order of Compressor.PARAMETERS
THRESHOLD_DB, RATIO, KNEE_DB, ATTACK, RELEASE, MAKEUP_DB, DETECTION = range(7)


@njit(cache=True, inline="always")
def reduction(over_db: float, slope: float, knee_db: float) -> float:
    """Return the gain change in dB for a level ``over_db`` above the threshold.

    ``slope`` is ``1/ratio - 1``. Below the knee nothing changes; above it the excess is
    scaled by ``slope``; inside a knee of width ``knee_db`` the two meet along a
    quadratic (Giannoulis, Massberg and Reiss, 2012). Written without data-dependent
    branches: a noisy level would otherwise mispredict them at every group.
    """
    if knee_db > 0.0:
        d = min(max(over_db + 0.5 * knee_db, 0.0), knee_db)
        return slope * (d * d * (0.5 / knee_db) + max(over_db - 0.5 * knee_db, 0.0))
    return slope * max(over_db, 0.0)


@njit(cache=True)
def static_curve(level_db: float, threshold_db: float, ratio: float, knee_db: float) -> float:
    """Return the output level in dB for an input level, before makeup gain (see `reduction`)."""
    return level_db + reduction(level_db - threshold_db, 1.0 / ratio - 1.0, knee_db)


#: Natural-log factors of the decibel conversions (``exp`` is cheaper than ``10 **``).
_DB_TO_LN = math.log(10.0) / 20.0
_POWER_TO_DB = 10.0 / math.log(10.0)
_AMPLITUDE_TO_DB = 20.0 / math.log(10.0)


@njit(cache=True, inline="always")
def _detect(left: float, right: float, rms: bool, rms_coef: float, ms: float, peak: float) -> tuple[float, float]:
    # One frame into the stereo-linked detector: the mean square (RMS) or the group's peak.
    if rms:
        return rms_coef * ms + (1.0 - rms_coef) * 0.5 * (left * left + right * right), peak
    return ms, max(peak, abs(left), abs(right))


@njit(cache=True, inline="always")
def _smooth(target: float, env: float, att: float, rel: float) -> float:
    # A group's end: the gain reduction its level asks for (`reduction`), through the
    # attack or release smoother; flushed below `STATE_FLOOR` (it decays toward 0 in
    # silence, and a group ends on the same frame whatever the block size, so results do
    # not depend on it).
    coef = att if target < env else rel
    env = coef * env + (1.0 - coef) * target
    return 0.0 if abs(env) < STATE_FLOOR else env


#: What the gain computer works with: threshold, slope, knee, the smoother's attack and
#: release coefficients, and the attack and release times those were made from.
Computer = tuple[float, float, float, float, float, float, float]


@njit(cache=True, inline="always")
def _computer(pr: np.ndarray, rate: float) -> Computer:
    # the gain computer from the parameters: the smoother's per-group coefficients too
    attack, release = pr[ATTACK, CUR], pr[RELEASE, CUR]
    att = math.exp(-GROUP / (max(attack, 1e-5) * rate))
    rel = math.exp(-GROUP / (max(release, 1e-5) * rate))
    return pr[THRESHOLD_DB, CUR], 1.0 / pr[RATIO, CUR] - 1.0, pr[KNEE_DB, CUR], att, rel, attack, release


@njit(cache=True, inline="always")
def _automate(pr: np.ndarray, auto: np.ndarray, lanes: int, frame: int, rate: float, computer: Computer) -> Computer:
    # A group's last frame: the lanes' values there, and the gain computer's from them (the
    # smoother's coefficients cost two exponentials: made again only when their times move).
    if not automate_rows(pr, auto, lanes, frame):
        return computer
    threshold, slope, knee, att, rel, attack, release = computer
    if pr[ATTACK, CUR] == attack and pr[RELEASE, CUR] == release:
        return pr[THRESHOLD_DB, CUR], 1.0 / pr[RATIO, CUR] - 1.0, pr[KNEE_DB, CUR], att, rel, attack, release
    return _computer(pr, rate)


#: The parameters a lane may move without the gain computer made again: those outside
#: its curve and smoother (`_outside`).
_OUTSIDE = (1 << THRESHOLD_DB) | (1 << MAKEUP_DB)


@njit(cache=True, inline="always")
def _outside(
    level: np.ndarray, gain: np.ndarray, n: int, i: int, env: float, pr: np.ndarray, auto: np.ndarray, lanes: int,
    computer: Computer,
) -> tuple[Computer, float]:  # fmt: skip
    # `_groups`' smoother over ``n`` groups' levels (dB) when no lane moves more than the
    # threshold and the makeup (`_OUTSIDE`): every group's gain reduction target first,
    # with the threshold at its last frame (a loop the compiler vectorises, the lanes read
    # a piece at a time: `lane_points`), then the one recursion, the makeup at the same
    # frames; each group's arithmetic is `_automate`'s and `_smooth`'s, in the same order.
    # Leaves each group's gain (dB as a natural log) in ``gain``, the lanes' last values in
    # ``pr``; returns the gain computer with them and the envelope.
    threshold, slope, knee, att, rel, attack, release = computer
    last = i + GROUP - 1  # the first group's last frame, where the lanes are read
    if (lanes >> THRESHOLD_DB) & 1:
        lane_points(auto, THRESHOLD_DB, last, GROUP, n, gain)  # (each group's threshold, for now)
        threshold = gain[n - 1]
        pr[THRESHOLD_DB, CUR] = threshold
        for g in range(n):
            gain[g] = reduction(level[g] - gain[g], slope, knee)
    else:
        for g in range(n):
            gain[g] = reduction(level[g] - threshold, slope, knee)
    if (lanes >> MAKEUP_DB) & 1:
        lane_points(auto, MAKEUP_DB, last, GROUP, n, level)  # each group's makeup, over its level
        pr[MAKEUP_DB, CUR] = level[n - 1]
    else:
        makeup = pr[MAKEUP_DB, CUR]
        for g in range(n):
            level[g] = makeup
    for g in range(n):
        env = _smooth(gain[g], env, att, rel)
        gain[g] = (env + level[g]) * _DB_TO_LN
    return (threshold, slope, knee, att, rel, attack, release), env


@njit(cache=True, inline="always")
def _groups(
    buf: np.ndarray,
    s: int,
    i: int,
    n: int,
    st: np.ndarray,
    rms: bool,
    rms_coef: float,
    pr: np.ndarray,
    auto: np.ndarray,
    lanes: int,
    rate: float,
    computer: Computer,
) -> Computer:
    # ``n`` (≤ `CHUNK`) whole steady groups from frame ``i``, one stage at a time over all
    # of them: the detector, then every level's logarithm (a loop the compiler vectorises),
    # the smoother (the one recursion: its targets worked out before it, `_outside`,
    # unless a lane moves the curve or the smoother itself, which it then reads at each
    # group's end), every gain's exponential (vectorised), the glides. The arithmetic is the per-frame path's,
    # operation for operation, so the two agree to the bit and results stay independent of
    # the block size. Reads and leaves the envelope, mean square and gains in ``st``;
    # returns the gain computer as the last group left it.
    level = st[SCRATCH : SCRATCH + n]
    gain = st[SCRATCH + CHUNK : SCRATCH + CHUNK + n]
    ms = st[MEAN_SQUARE]
    for g in range(n):
        j0 = i + g * GROUP
        if rms:
            for j in range(j0, j0 + GROUP):
                ms, _ = _detect(float(buf[s, j, 0]), float(buf[s, j, 1]), True, rms_coef, ms, 0.0)
            level[g] = max(ms, 1e-24)
            ms = 0.0 if ms < STATE_FLOOR else ms
        else:
            peak = 0.0
            for j in range(j0, j0 + GROUP):
                u = np.uint64(j)  # (unsigned: numba's negative-index wraparound would stop it vectorising)
                _, peak = _detect(float(buf[s, u, 0]), float(buf[s, u, 1]), False, rms_coef, 0.0, peak)
            level[g] = max(peak, 1e-12)
            ms = 0.0 if ms < STATE_FLOOR else ms
    to_db = _POWER_TO_DB if rms else _AMPLITUDE_TO_DB
    for g in range(n):
        level[g] = to_db * ln(level[g])
    env = st[ENVELOPE]
    if lanes & ~_OUTSIDE:  # a lane moves the curve or the smoother: the gain computer made at each group
        for g in range(n):
            computer = _automate(pr, auto, lanes, i + g * GROUP + GROUP - 1, rate, computer)
            threshold, slope, knee, att, rel, _, _ = computer
            env = _smooth(reduction(level[g] - threshold, slope, knee), env, att, rel)
            gain[g] = (env + pr[MAKEUP_DB, CUR]) * _DB_TO_LN
    else:
        computer, env = _outside(level, gain, n, i, env, pr, auto, lanes, computer)
    for g in range(n):
        gain[g] = exp(gain[g])
    g_from, g_to = st[GAIN_FROM], st[GAIN_TO]
    for g in range(n):
        glide = (g_to - g_from) / GROUP
        j0 = i + g * GROUP
        for k in range(GROUP):
            w = g_from + glide * (k + 1)
            u = np.uint64(j0 + k)  # (unsigned, as in the detector)
            buf[s, u, 0] = buf[s, u, 0] * w
            buf[s, u, 1] = buf[s, u, 1] * w
        g_from, g_to = g_to, gain[g]
    st[ENVELOPE], st[MEAN_SQUARE], st[GAIN_FROM], st[GAIN_TO] = env, ms, g_from, g_to
    return computer


@njit(cache=True, error_model="numpy")
def compressor_kernel(buf: np.ndarray, frames: int, rows: np.ndarray, rate: float) -> None:
    """Compress each row's track buffer in place, stereo-linked. Audio-thread safe.

    Parameters: threshold_db, ratio, knee_db, attack, release (s), makeup_db, detection
    (0 peak, 1 RMS), then the active amount. The detector runs every frame; the gain
    computer (static curve, then one-pole attack and release on the gain reduction in
    dB) runs once per `GROUP` frames, and the gain glides linearly between its results,
    so the logarithms and exponentials (`mixtree.dsp.approx`) are paid once per group.
    Automation is read there too, at each group's last frame. Steady rows (automated or
    not, unless their detection is) run their whole groups a chunk at a time (`_groups`).
    The envelope and the mean square are flushed below `STATE_FLOOR` at each group's end.
    """
    rms_coef = math.exp(-1.0 / (RMS_WINDOW * rate))
    for r in range(rows.shape[0]):
        s = rows[r, SLOT]
        pr = params_of(rows, r)
        st = state_of(rows, r)
        active_row = pr.shape[0] - 1
        auto = auto_of(rows, r)
        mode = begin_row(pr, ramps_of(rows, r), auto)
        if mode == BYPASSED:
            continue
        lanes = lanes_of(rows, r)
        env = st[ENVELOPE]
        ms = st[MEAN_SQUARE]
        count = int(st[COUNT])
        peak = st[PEAK]
        g_from = st[GAIN_FROM]
        g_to = st[GAIN_TO]
        if g_from == 0.0 and g_to == 0.0:  # at rest: unity until the first group ends
            g_from = g_to = exp(pr[MAKEUP_DB, CUR] * _DB_TO_LN)
        rms = pr[DETECTION, CUR] >= 0.5
        steady = mode == STEADY
        computer = _computer(pr, rate)
        chunks = steady and not (lanes >> DETECTION) & 1  # (a detector switching mid-chunk: per frame)
        i = 0
        while i < frames:
            if chunks and count == 0 and frames - i >= GROUP:
                n = min((frames - i) // GROUP, CHUNK)
                st[ENVELOPE], st[MEAN_SQUARE], st[GAIN_FROM], st[GAIN_TO] = env, ms, g_from, g_to
                computer = _groups(buf, s, i, n, st, rms, rms_coef, pr, auto, lanes, rate, computer)
                env, ms, g_from, g_to = st[ENVELOPE], st[MEAN_SQUARE], st[GAIN_FROM], st[GAIN_TO]
                i += n * GROUP
                continue
            # Run up to the end of the current group, then (if it ended) the gain computer.
            end = min(frames, i + GROUP - count)
            if steady:
                # The gain glides from the previous groups' results, so the detector and
                # the gain are two independent loops (the gain's and the peak's vectorise).
                for j in range(i, end):
                    ms, peak = _detect(float(buf[s, j, 0]), float(buf[s, j, 1]), rms, rms_coef, ms, peak)
                glide = (g_to - g_from) / GROUP
                for j in range(i, end):
                    g = g_from + glide * (count + 1 + j - i)
                    buf[s, j, 0] = buf[s, j, 0] * g
                    buf[s, j, 1] = buf[s, j, 1] * g
                count += end - i
            else:
                for j in range(i, end):
                    for p in range(active_row):
                        value_at(pr, auto, p, j)
                    wet_amount = advance(pr, active_row)
                    left = float(buf[s, j, 0])
                    right = float(buf[s, j, 1])
                    ms, peak = _detect(left, right, rms, rms_coef, ms, peak)
                    count += 1
                    g = g_from + (g_to - g_from) / GROUP * count
                    w = 1.0 + wet_amount * (g - 1.0)
                    buf[s, j, 0] = left * w
                    buf[s, j, 1] = right * w
                computer = _computer(pr, rate)
            i = end
            if count == GROUP:
                if lanes:  # once a group: the gain computer reads them here
                    computer = _automate(pr, auto, lanes, end - 1, rate, computer)
                threshold, slope, knee, att, rel, _, _ = computer
                if rms:
                    level = _POWER_TO_DB * ln(max(ms, 1e-24))
                else:
                    level = _AMPLITUDE_TO_DB * ln(max(peak, 1e-12))
                env = _smooth(reduction(level - threshold, slope, knee), env, att, rel)
                ms = 0.0 if ms < STATE_FLOOR else ms  # (flushed as the envelope is)
                g_from = g_to
                g_to = exp((env + pr[MAKEUP_DB, CUR]) * _DB_TO_LN)
                count = 0
                peak = 0.0
                rms = pr[DETECTION, CUR] >= 0.5
        st[ENVELOPE] = env
        st[MEAN_SQUARE] = ms
        st[COUNT] = count
        st[PEAK] = peak
        st[GAIN_FROM] = g_from
        st[GAIN_TO] = g_to
