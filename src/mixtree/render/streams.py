"""The control side of a plan's streamed sources: which buffers hold which frames, and filling them.

Each streamed reference (`mixtree.dsp.windows`) has ``count`` buffers of ``width``
frames, placed at multiples of ``stride`` source frames: buffer placement ``k`` holds
frames ``k·stride .. k·stride + width``. Buffers overlap by ``width - stride``, more
than a block ever reads at the reference's rate, so every block's frames lie in one
buffer. Filling a buffer copies what a neighbour already holds and decodes the rest,
so a source played front to back is decoded once, in order (and resampled exactly as a
whole decode would be).

References whose clips sound far apart in time (`SHARE_GAP`) share their buffers (a
*group*), so a file cut into hundreds of regions costs the buffers of the few that can
sound at once, not a set per region. A group has two sets of arrays, aliased under each
member's buffer rows (so each member has two sets of rows); a set belongs to one member
at a time, and only its rows are marked full. The members a group *needs* are, first,
the one sounding where the audio thread is (`Streams.heard`: the old position while a
seek's fade-out plays), then the one sounding at or next after the playhead
(`Streams.playhead`: a seek's target at once), then the one where a loop goes back to.
A needed member without a set takes the set of a member needed less or not at all,
whose rows are marked empty first: a set is never taken from a member the audio
thread may be reading, so nothing waits and nothing reads frames being replaced.

`Streams.fill_missing` fills what the last block missed, at once: the offline
renderer's way. `Streams.service` keeps every reference's buffers ahead of where it
plays by the look-ahead, and `LOOP_BUFFERS` of them where a loop starts again: the
engine's reader thread's way.
"""

from __future__ import annotations

import heapq
import math
import threading
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from mixtree.dsp.clips import ClipTable
from mixtree.dsp.resample import CUTOFF, HALF_WIDTH
from mixtree.dsp.varispeed import VarispeedTable
from mixtree.dsp.windows import (
    BASE,
    COUNT,
    END,
    FIRST,
    MISSED,
    NEED_LO,
    SILENT,
    STREAMED,
    WANT,
    Windows,
    make_windows,
    memory_windows,
)
from mixtree.errors import MediaError
from mixtree.io.audio_file import MediaWarning

if TYPE_CHECKING:
    from mixtree.model.pool import Source

#: Frames decoded at a time (the seed's streaming chunk).
CHUNK = 8192

#: Seconds of audio kept decoded ahead of each streamed clip, at speed 1 (scaled by its rate).
LOOKAHEAD = 2.0

#: Buffers start at multiples of this many source frames (at least).
STRIDE = 4 * CHUNK

#: Buffers each streamed reference keeps for where a loop starts again.
LOOP_BUFFERS = 2

#: Seconds of output between the clips of references that share buffers (look-ahead and
#: a seek's fade on either side).
SHARE_GAP = 2 * LOOKAHEAD + 0.5

SETS = 2  # sets of arrays a group has: one for where the audio is, one for where it goes


def _round_up(frames: float) -> int:
    return int(math.ceil(frames / CHUNK)) * CHUNK


@dataclass(eq=False)
class StreamRef:
    """One streamed reference: the clip row's source, its rate (source frames per output
    frame, > 0), direction and buffers."""

    source: Source
    ref: int
    rate: float
    reverse: bool
    stride: int
    width: int
    buffers: list[np.ndarray]  # writable; the plan's source list holds read-only views
    key: tuple[int, int] = (-1, 0)  # (the clip it plays, which of that clip's rows): kept across plans
    settled: tuple[int, int] = (-1, -1)  # (placement it plays in, loop_at) when all it wanted was in
    span: tuple[int, int] | None = None  # the output frames its clip sounds in (None: unknown, a warp)
    group: int = -1  # the group whose arrays it shares (-1: its own)
    count: int = 0  # buffers in a set (rows ``FIRST + s·count ..`` are set ``s``'s)
    owned: int = 0  # the set whose rows it fills (-1: none now; always 0 outside a group)


@dataclass(eq=False)
class Streams:
    """Every streamed reference of one plan, and the readers that fill their buffers.

    A source whose file could not be read any more is offline (``source.offline`` says
    why, warned once): its buffers are filled with silence until it is relinked.
    """

    windows: Windows
    refs: list[StreamRef]
    sample_rate: int
    lookahead: float = LOOKAHEAD
    report: list[str] | None = None  # where a thread collects the warnings (None: warn)
    clips: ClipTable | None = None  # the plan's tables, for `aim` and loops (set by compile)
    rows: VarispeedTable | None = None
    loop_at: int = -1  # the output frame a loop jumps back to (-1: no loop); the engine sets it
    playhead: int = 0  # where playback is or goes (a seek's target): the engine sets these two
    heard: int = -1  # the output frame the audio thread reads (-1: none, offline)
    slack: int = 0  # frames a span is widened by for `heard` (blocks in flight)
    _holders: dict[tuple[int, int], StreamRef] = field(default_factory=dict)  # by (group, set)
    _taken: dict[tuple[int, int], int] = field(default_factory=dict)  # by (group, set): when last taken
    _needs: tuple[tuple[int, int, int], dict[int, list[StreamRef]]] = ((-2, -2, -2), {})  # see `_needed`
    _loop: tuple[int, dict[int, int]] = (-1, {})  # loop_at and the source frames it plays from
    _readers: dict[object, object] = field(default_factory=dict)  # by the source's media
    _epoch: int = 0  # counts sets changing hands (`_claim`)
    _aims: int = 0  # counts `aim` calls: a seek ends a `service` call under way
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _filling: threading.Lock = field(default_factory=threading.Lock)  # held while a buffer changes

    def adopt(self, previous: Streams) -> None:
        """Start from what ``previous`` (the plan playing) holds: each reference takes the
        buffers of the same clip's row there (a new clip's, those of one of the same source
        and shape no row kept), so an edit while playing does not empty the windows
        (control side, before the plan is published)."""
        same = {(r.key, r.source.id, r.reverse, r.stride, r.width): r for r in previous.refs}
        pairs = [(r, same.pop((r.key, r.source.id, r.reverse, r.stride, r.width), None)) for r in self.refs]
        old: dict[tuple, list[StreamRef]] = {}  # what no row of the same clip took, by shape
        for r in same.values():
            old.setdefault((r.source.id, r.reverse, r.stride, r.width), []).append(r)
        win, pwin = self.windows, previous.windows
        self._readers = previous._readers  # the open files, where their decoders stand
        self.playhead, self.heard, self.loop_at = previous.playhead, previous.heard, previous.loop_at
        with previous._filling:
            for r, o in pairs:
                if not self._active(r):
                    continue
                if o is None:  # a row of a new clip: buffers of the same source, if any are left
                    match = old.get((r.source.id, r.reverse, r.stride, r.width))
                    if not match:
                        continue
                    o = match.pop(0)
                if not self._claim(r):
                    continue
                win.refs[r.ref, WANT] = pwin.refs[o.ref, WANT]
                rows = self._rows(r)
                pfirst = int(pwin.refs[o.ref, FIRST])
                full = [b for b in range(pfirst, pfirst + int(pwin.refs[o.ref, COUNT])) if pwin.bufs[b, END] >= 0]
                first = int(win.refs[r.ref, FIRST])
                for b, pb in zip(rows, full, strict=False):
                    r.buffers[b - first][...] = o.buffers[pb - pfirst]
                    win.bufs[b, BASE] = pwin.bufs[pb, BASE]
                    win.bufs[b, END] = pwin.bufs[pb, END]

    def fill_missing(self) -> bool:
        """Fill, at once, what the last block missed; return True if anything was.
        Clears the misses, so the block can be read again as if nothing had been late."""
        win = self.windows
        if win.last_miss[0] == 0:
            return False
        for r in self.refs:
            k = r.ref
            if win.refs[k, MISSED]:
                self._claim(r, force=True)  # offline: the block that missed is the one playing
                self._place(r, int(win.refs[k, NEED_LO]) // r.stride, ())
                win.refs[k, MISSED] = 0
                win.refs[k, SILENT] = 0
        win.last_miss[0] = 0
        return True

    def service(self, budget: int = 1 << 30) -> int:
        """Fill the buffer each reference needs most (where it plays, then ahead of it, by
        ``lookahead`` seconds at its rate), at most ``budget`` buffers in all; return how
        many were filled (0: every reference is ready), fewer if `aim` is called meanwhile."""
        done = 0
        aims = self._aims
        # breadth first: every reference's current placement before anyone's look-ahead
        # (each remembers where it was aimed when its wants were worked out: a seek landing
        # meanwhile leaves it unsettled, to be looked at again). What each holds is read
        # once a call (and again after a set changed hands): the reader thread holds the
        # GIL while it works this out, and the audio thread may be waiting for it
        wants = self.windows.refs[:, WANT].tolist()
        todo = []
        for r in self.refs:
            if not self._active(r):
                continue
            here = (_placement(r, wants[r.ref]), self.loop_at)  # where it plays, where a loop goes
            if r.settled != here:
                todo.append([r, here, self._all_wanted(r, wants[r.ref]), self._held(r), self._epoch])
        depth = 0
        while todo and done < budget and aims == self._aims:
            left = []
            for item in todo:
                r, here, wanted, held, epoch = item
                if depth >= len(wanted):
                    r.settled = here
                    continue
                left.append(item)
                if done >= budget or aims != self._aims:
                    continue
                if epoch != self._epoch:  # a set changed hands: what it holds may have too
                    held = item[3] = self._held(r)
                    item[4] = self._epoch
                if wanted[depth] * r.stride not in held and self._claim(r):
                    done += self._place(r, wanted[depth], wanted)
                    item[3], item[4] = self._held(r), self._epoch
            todo = left
            depth += 1
        return done

    def ready(self, r: StreamRef) -> bool:
        """Return True if every placement ``r`` wants is in a buffer."""
        held = self._held(r)
        return all(k * r.stride in held for k in self._all_wanted(r))

    def _all_wanted(self, r: StreamRef, want: int | None = None) -> list[int]:
        # where it plays (``want``, default its row's) and ahead, then where a loop would take it back to
        wanted = self._wanted(r, int(self.windows.refs[r.ref, WANT]) if want is None else want)
        if self.loop_at >= 0:
            if self._loop[0] != self.loop_at:
                self._loop = (self.loop_at, self._source_frames(self.loop_at))
            at = self._loop[1].get(r.ref)
            if at is not None:
                wanted += [k for k in self._wanted(r, at)[:LOOP_BUFFERS] if k not in wanted]
        return wanted

    def all_ready(self) -> bool:
        """Return True if every reference that holds its buffers now has its wanted placements in them."""
        return all(self.ready(r) for r in self.refs if self._active(r))

    def _active(self, r: StreamRef) -> bool:
        # a reference of its own, or a member its group needs now
        if r.group < 0:
            return True
        return r in self._needed().get(r.group, ())

    def _needed(self) -> dict[int, list[StreamRef]]:
        """Return, by group, the members it needs, most urgent first: the one sounding
        where the audio thread is, the one sounding at or next after the playhead, the
        one nearest after where a loop goes back to (cached while they stand still)."""
        here = (self.heard, self.playhead, self.loop_at)
        if self._needs[0] == here:
            return self._needs[1]
        out: dict[int, list[StreamRef]] = {}
        slack = self.slack
        for at, widen, sounding in ((self.heard, slack, True), (self.playhead, slack, False), (self.loop_at, 0, False)):
            if at < 0:
                continue
            best: dict[int, tuple[int, StreamRef]] = {}
            for r in self.refs:
                if r.group < 0:
                    continue
                lo, hi = r.span  # type: ignore[misc]
                if at >= hi + widen or (sounding and at < lo - widen):
                    continue  # ended (or, for where the audio is, not sounding there)
                distance = max(0, lo - widen - at)
                if r.group not in best or distance < best[r.group][0]:
                    best[r.group] = (distance, r)
            for g, (_, r) in best.items():
                if r not in out.setdefault(g, []):
                    out[g].append(r)
        self._needs = (here, out)
        return out

    def _rows(self, r: StreamRef) -> range:
        # the buffer rows of the set ``r`` holds
        first = int(self.windows.refs[r.ref, FIRST]) + max(r.owned, 0) * r.count
        return range(first, first + r.count)

    def _claim(self, r: StreamRef, force: bool = False) -> bool:
        """Give ``r`` a set of its group's arrays if it has none: a free one, else that of
        the member needed least (not at all, or less than ``r``; with ``force``, the one
        taken longest ago), its rows marked empty first. Return False if none can be had."""
        if r.group < 0 or r.owned >= 0:
            return True
        needs = self._needed().get(r.group, [])
        rank = {id(m): k for k, m in enumerate(needs)}
        mine = rank.get(id(r), len(needs))
        pick, worst = -1, -1
        for s in range(SETS):
            holder = self._holders.get((r.group, s))
            if holder is None:
                pick = s
                break
            need = rank.get(id(holder), len(needs))
            if force:
                need = -self._taken.get((r.group, s), 0)  # the least recently taken
            if (force or need > mine) and (pick < 0 or need > worst):
                pick, worst = s, need
        if pick < 0:
            return False
        last = self._holders.get((r.group, pick))
        if last is not None:
            with self._filling:
                rows = self._rows(last)
                self.windows.bufs[rows.start : rows.stop, END] = -1
            last.owned, last.settled = -1, (-1, -1)
            self._epoch += 1
        self._holders[(r.group, pick)] = r
        self._taken[(r.group, pick)] = max(self._taken.values(), default=0) + 1
        r.owned = pick
        return True

    def aim(self, position: int) -> None:
        """Point every streamed reference at where it plays from output frame ``position``
        (a seek is coming): rows under a warp keep theirs until the audio thread says."""
        self.playhead = position
        self._aims += 1
        for ref, frame in self._source_frames(position).items():
            self.windows.refs[ref, WANT] = frame
        for r in self.refs:
            r.settled = (-1, -1)

    def _source_frames(self, position: int) -> dict[int, int]:
        # by streamed reference, the source frame its row plays at output frame ``position``
        # (clamped to the clip, as the kernels clamp ``want``); rows under a warp are left out
        out: dict[int, int] = {}
        win, clips, rows = self.windows, self.clips, self.rows
        if clips is None or rows is None:
            return out
        for c in range(clips.track.shape[0]):
            ref = int(clips.source[c])
            if win.refs[ref, STREAMED]:
                length = int(clips.end[c] - clips.start[c])
                i = min(max(position - int(clips.start[c]), 0), length - 1)
                out[ref] = int(clips.offset[c]) + (length - 1 - i if clips.reversed[c] else i)
        for r in range(rows.track.shape[0]):
            ref = int(rows.source[r])
            if win.refs[ref, STREAMED] and rows.warp[r] < 0:
                length = float(rows.length[r])
                j = min(max(float(rows.a[r]) * (position - float(rows.t0[r])), 0.0), length)
                speed, offset = float(rows.speed[r]), float(rows.offset[r])
                out[ref] = int(offset + (length - j) * speed - 1.0 if rows.reversed[r] else offset + j * speed)
        return out

    def _wanted(self, r: StreamRef, want: int) -> list[int]:
        # placements in the order they are needed: where it plays, then ahead
        ahead = int(self.lookahead * self.sample_rate * r.rate) + r.width - r.stride
        here = _placement(r, want)
        n = min(r.count - LOOP_BUFFERS, ahead // r.stride + 2)
        if r.reverse:
            return [k for k in range(here, here - n, -1) if k >= 0]
        last = max(0, (r.source.frames - 1) // r.stride)
        return [k for k in range(here, here + n) if k <= last]

    def _held(self, r: StreamRef) -> dict[int, int]:
        # by source frame, the full buffer rows of ``r`` that start there (one C call for the rows)
        win = self.windows
        first = int(win.refs[r.ref, FIRST])
        rows = win.bufs[first : first + int(win.refs[r.ref, COUNT]), :2].tolist()
        return {base: first + i for i, (base, end) in enumerate(rows) if end >= 0}

    def _place(self, r: StreamRef, k: int, keep: list[int] | tuple[int, ...]) -> bool:
        """Fill a buffer of ``r`` with placement ``k``: an empty one, else the one furthest
        from ``k`` that holds none of ``keep``. Return False if every buffer is kept."""
        win = self.windows
        first = int(win.refs[r.ref, FIRST])
        if k * r.stride in self._held(r):
            return False
        kept = {key * r.stride for key in keep}
        pick, far = -1, -1
        for b in self._rows(r):
            if win.bufs[b, END] < 0:
                pick = b
                break
            base = int(win.bufs[b, BASE])
            if base not in kept and abs(base - k * r.stride) > far:
                pick, far = b, abs(base - k * r.stride)
        if pick < 0:
            return False
        start = k * r.stride
        buf = r.buffers[pick - first]
        with self._filling:
            win.bufs[pick, END] = -1  # readers skip it while it changes
            win.bufs[pick, BASE] = start
            self._read(r, start, buf)
            win.bufs[pick, END] = start + r.width
        return True

    def _read(self, r: StreamRef, start: int, buf: np.ndarray) -> None:
        # what a neighbouring buffer holds is copied; the rest is decoded, in order
        win = self.windows
        first = int(win.refs[r.ref, FIRST])
        have, near = 0, -1
        for b, (lo, hi) in enumerate(win.bufs[first : first + int(win.refs[r.ref, COUNT]), :2].tolist()):
            if hi >= 0 and lo <= start < hi and hi - start > have:
                have, near = min(hi - start, r.width), b
        if have:  # one copy, from the neighbour holding the most
            lo = int(win.bufs[first + near, BASE])
            buf[:have] = r.buffers[near][start - lo : start - lo + have]
        if have == r.width:
            return
        source = r.source
        if source.offline:
            buf[have:] = 0.0
            return
        try:
            reader = self._reader(source)
            reader.read(start + have, buf[have:])  # type: ignore[attr-defined]
        except MediaError as exc:
            buf[have:] = 0.0
            self._fail(source, exc.reason)
        except Exception as exc:  # (a relink to other channels, a decoder's own error): offline, not a dead reader
            buf[have:] = 0.0
            self._fail(source, f"{type(exc).__name__}: {exc}")

    def _reader(self, source: Source) -> object:
        with self._lock:
            reader = self._readers.get(source.media)
            if reader is None:
                reader = self._readers[source.media] = source.reader()
            return reader

    def _fail(self, source: Source, reason: str) -> None:
        reader = self._readers.pop(source.media, None)
        if reader is not None:
            reader.close()  # type: ignore[attr-defined]
        source.offline = reason
        message = f"'{source.path}': streaming stopped, the source is offline: {reason}"
        if self.report is not None:
            self.report.append(message)
        else:
            warnings.warn(message, MediaWarning, 2)

    def close(self) -> None:
        """Close the files the readers hold open."""
        for reader in self._readers.values():
            reader.close()  # type: ignore[attr-defined]
        self._readers.clear()

    @property
    def nbytes(self) -> int:
        """Return the bytes the buffers take (a group's arrays once)."""
        arrays = {id(b): b for r in self.refs for b in r.buffers}
        return sum(b.nbytes for b in arrays.values())


def _placement(r: StreamRef, want: int) -> int:
    # the placement whose buffer has source frame ``want`` furthest from either edge
    return max(0, want - (r.width - r.stride) // 2) // r.stride


def geometry(rate: float, max_block: int, sample_rate: int, lookahead: float) -> tuple[int, int, int]:
    """Return (stride, width, count) for a reference read at ``rate`` source frames per
    output frame in blocks of up to ``max_block``, kept ``lookahead`` seconds ahead."""
    rate = max(rate, 1e-3)
    reach = HALF_WIDTH / (CUTOFF * min(1.0, 1.0 / rate)) + 2
    overlap = _round_up(max_block * rate + 2 * reach + 2)
    stride = max(STRIDE, overlap)
    count = int(math.ceil(lookahead * sample_rate * rate / stride)) + 2 + LOOP_BUFFERS
    return stride, stride + overlap, count


@dataclass
class StreamBuilder:
    """The references a plan reads sources through, gathered while compiling it."""

    max_block: int
    sample_rate: int
    lookahead: float = LOOKAHEAD
    loop_at: int = -1  # where a loop starts again: clips sounding there do not share buffers
    arrays: list[np.ndarray | None] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    rates: list[float] = field(default_factory=list)
    reverse: list[bool] = field(default_factory=list)
    keys: list[tuple[int, int]] = field(default_factory=list)
    spans: list[tuple[int, int] | None] = field(default_factory=list)
    _shared: dict[int, int] = field(default_factory=dict)
    _rows_of: dict[int, int] = field(default_factory=dict)  # by clip id, its rows so far

    def add(
        self, source: Source, rate: float, reverse: bool, clip: int = -1, span: tuple[int, int] | None = None
    ) -> int:
        """Return the reference a row of clip ``clip`` (an id, sounding in output frames
        ``span``, None if not known) reads ``source`` through: one per source held in
        memory, one per row for a streamed source (it has a playhead of its own)."""
        data = source.data
        if data is not None and source.id in self._shared:
            return self._shared[source.id]
        nth = self._rows_of.get(clip, 0)
        self._rows_of[clip] = nth + 1
        self.keys.append((clip, nth))
        self.arrays.append(data)
        self.sources.append(source)
        self.rates.append(abs(rate))
        self.reverse.append(reverse)
        self.spans.append(span)
        if data is not None:
            self._shared[source.id] = len(self.arrays) - 1
        return len(self.arrays) - 1

    def build(self) -> tuple[list[np.ndarray], Windows, Streams | None]:
        """Return the plan's buffers (read-only views), windows and streams (None if nothing streams)."""
        if all(a is not None for a in self.arrays):
            arrays = [a for a in self.arrays if a is not None]
            return arrays, memory_windows(arrays), None
        geometries = [
            geometry(rate, self.max_block, self.sample_rate, self.lookahead) if a is None else (0, 0, 1)
            for a, rate in zip(self.arrays, self.rates, strict=True)
        ]
        groups = self._groups(geometries)
        rows = [g[2] * (SETS if i in groups else 1) for i, g in enumerate(geometries)]  # a group's members: two sets
        sizes: list[int] = []
        for a, (_, width, _), n in zip(self.arrays, geometries, rows, strict=True):
            sizes += [a.shape[0]] if a is not None else [width] * n
        win = make_windows(
            [s.frames for s in self.sources],
            rows,
            [a is None for a in self.arrays],
            sizes,
            [s.id for s in self.sources],
        )
        arrays: dict[int, list[np.ndarray]] = {}
        views: list[np.ndarray] = []
        refs: list[StreamRef] = []
        for i, (a, source, (stride, width, count)) in enumerate(
            zip(self.arrays, self.sources, geometries, strict=True)
        ):
            if a is not None:
                views.append(a)
                continue
            group = groups.get(i, -1)
            buffers = arrays.get(group) if group >= 0 else None
            if buffers is None:
                buffers = [np.zeros((width, source.channels), np.float32) for _ in range(rows[i])]
                if group >= 0:
                    arrays[group] = buffers
            for b in buffers:
                view = b.view()
                view.setflags(write=False)
                views.append(view)
            ref = StreamRef(source, i, self.rates[i], self.reverse[i], stride, width, buffers, self.keys[i])
            ref.span, ref.group, ref.count, ref.owned = self.spans[i], group, count, -1 if group >= 0 else 0
            refs.append(ref)
        slack = 2 * self.max_block + CHUNK
        return views, win, Streams(win, refs, self.sample_rate, self.lookahead, slack=slack)

    def _groups(self, geometries: list[tuple[int, int, int]]) -> dict[int, int]:
        """Return, by streamed reference, the group whose buffers it shares: references of
        one shape whose clips sound at least `SHARE_GAP` apart (a greedy colouring of
        their spans by start, which uses as few groups as any colouring can). Those that
        sound within a gap after where a loop starts again keep their own: they must be
        ready for the jump while the loop's end plays."""
        gap = int(SHARE_GAP * self.sample_rate)
        by_shape: dict[tuple, list[int]] = {}
        for i, (a, span) in enumerate(zip(self.arrays, self.spans, strict=True)):
            looped = span is not None and self.loop_at >= 0 and span[0] < self.loop_at + gap and self.loop_at < span[1]
            if a is None and span is not None and not looped:
                by_shape.setdefault((geometries[i], self.sources[i].channels), []).append(i)
        out: dict[int, int] = {}
        group = 0
        for members in by_shape.values():
            ends: list[tuple[int, int]] = []  # (where its last clip ends, group), a heap
            for i in sorted(members, key=lambda i: self.spans[i][0]):  # type: ignore[index]
                lo, hi = self.spans[i]  # type: ignore[misc]
                if ends and ends[0][0] + gap <= lo:
                    _, g = heapq.heappop(ends)
                else:
                    g, group = group, group + 1
                out[i] = g
                heapq.heappush(ends, (hi, g))
        sizes = {g: sum(1 for h in out.values() if h == g) for g in set(out.values())}
        return {i: g for i, g in out.items() if sizes[g] > 1}  # one member alone: buffers of its own
        return out
