"""Effect stages of a plan: one batched kernel call, or one unbatchable effect at a time."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from mixtree.dsp.clips import ClipTable, read_clips
from mixtree.dsp.jit import compiled, nogil
from mixtree.dsp.lanes import KNOT
from mixtree.dsp.rows import Rows
from mixtree.dsp.windows import Windows
from mixtree.effects.base import Effect
from mixtree.render.parallel import MIN_ROWS, run_all

#: A row's automation for a block: none (see `mixtree.dsp.smoothing.value_at`).
NO_AUTOMATION = np.zeros((0, 0))

#: ``automation(slot, effect)``: the per-frame array a stage row's lanes are written to.
Automation = Callable[[int, Effect], np.ndarray]


class BatchStage:
    """Every effect of one built-in type at one chain position, run in one kernel call."""

    __slots__ = ("kernel", "slots", "effects", "rows", "rate")

    def __init__(
        self,
        kernel: Callable[..., None],
        rows: list[tuple[int, Effect]],
        rate: int,
        fresh: bool,
        instances: dict[int, tuple[int, ...]] | None = None,
        automation: Automation | None = None,
    ) -> None:
        code = getattr(kernel, "py_func", kernel).__code__
        if code.co_argcount != 4:  # the old (buf, frames, slots, params, states, ...) lists
            name = rows[0][1].__class__.__name__
            raise TypeError(f"{name}'s kernel must take (buf, frames, rows, rate), not {code.co_argcount} arguments")
        self.kernel = compiled(kernel)  # the dispatcher itself: no Python frame between
        self.slots = np.array([s for s, _ in rows], dtype=np.int32)
        self.effects = tuple(e for _, e in rows)
        # Live plans run on the effects' own arrays (an alias instance's slot on its own
        # copy, see `Effect.memory`), so state and the parameter targets the control side
        # writes carry over from plan to plan; ``fresh`` plans (offline renders) get
        # private copies at rest. The kernel sees them through a `Rows` table.
        keys = instances or {}
        memories = [e.memory(fresh, keys.get(s, ())) for s, e in rows]
        autos = [automation(s, e) if automation else NO_AUTOMATION for s, e in rows]
        self.rows = Rows([s for s, _ in rows], [(*m, a) for m, a in zip(memories, autos, strict=True)])
        self.rate = float(rate)

    def run(self, buf: np.ndarray, frames: int, position: int, failed: np.ndarray, reasons: list[str]) -> None:
        """Process the rows' track buffers in place. Audio-thread safe: one compiled call."""
        self.kernel(buf, frames, self.rows.table, self.rate)

    def part(self, slots: set[int]) -> Callable[[np.ndarray, int], None] | None:
        """Return what runs this stage's rows on ``slots`` alone, releasing the GIL (None
        if it has none there): a part for a worker thread (`ParallelChains`)."""
        mine = self.rows.subset([r for r, s in enumerate(self.slots) if int(s) in slots])
        if not mine.arrays:
            return None
        run, rate = nogil(self.kernel), self.rate
        return lambda buf, frames: run(buf, frames, mine.table, rate)  # (``mine`` keeps the arrays alive)


class ParallelChains:
    """The batched stages of one level of an offline plan, on several threads: its tracks
    split into groups, each group's chains run position by position on a thread of its
    own. A track's chain is its own, so this gives the one-thread render bit for bit.

    The plan may hand the groups its clips as well (`read_clips_first`): each group then
    adds its tracks' clips before running their chains, on its own thread."""

    __slots__ = ("groups", "slot_sets", "reads")

    def __init__(self, stages: list[BatchStage], slots: list[int], threads: int) -> None:
        cuts = [len(slots) * k // threads for k in range(threads + 1)]
        self.slot_sets = [set(slots[a:b]) for a, b in zip(cuts, cuts[1:], strict=False)]
        self.groups = [[p for p in (s.part(g) for s in stages) if p is not None] for g in self.slot_sets]
        self.reads: list[Callable[[np.ndarray, int, int], None] | None] = [None] * len(self.groups)

    def read_clips_first(self, clips: ClipTable, sources: Any, windows: Windows) -> bool:
        """Have each group add its own tracks' clips into the cleared buffers before its
        chains run; return False (and read none) if a clip sounds on a track of another
        level. A clip adds into its track's buffer alone, in the table's order, so this
        gives the bits of `read_clips` run first on one thread."""
        group_of = {s: g for g, slots in enumerate(self.slot_sets) for s in slots}
        at = np.array([group_of.get(int(s), -1) for s in clips.track], dtype=np.int64)
        if (at < 0).any():
            return False
        read = nogil(read_clips)
        self.reads = []
        for g in range(len(self.groups)):
            mine = ClipTable(*(np.ascontiguousarray(column[at == g]) for column in clips))
            if mine.track.shape[0]:
                self.reads.append(lambda buf, frames, at, t=mine: read(buf, frames, at, t, sources, windows))
            else:
                self.reads.append(None)
        return True

    def run(self, buf: np.ndarray, frames: int, position: int, failed: np.ndarray, reasons: list[str]) -> None:
        """Process every group's track buffers in place, the groups at the same time."""

        def chains(read: Callable[[np.ndarray, int, int], None] | None, parts: list[Callable[..., None]]) -> None:
            if read is not None:
                read(buf, frames, position)
            for part in parts:
                part(buf, frames)

        run_all([lambda r=r, g=g: chains(r, g) for r, g in zip(self.reads, self.groups, strict=True)])


class SoloStage:
    r"""One effect without a kernel (a user effect, a hosted plugin), on its own.

    If it raises (anything but ``KeyboardInterrupt``), its track is silenced for the
    block, flagged in ``failed`` with the reason, and the stream goes on. Under
    automation (``auto``: see `ParameterAutomation.held`) the block is processed in
    pieces between the timeline's `KNOT`\ s, each automated parameter handed its lane's
    value at the knot before each piece (`Effect.automation_value`).
    """

    __slots__ = ("slot", "effect", "rate", "auto", "automated", "started")

    def __init__(self, slot: int, effect: Effect, rate: int, auto: np.ndarray = NO_AUTOMATION) -> None:
        self.slot = slot
        self.effect = effect
        self.rate = rate
        self.auto = auto
        ids = [p.id for p in effect.parameters]
        self.automated = tuple((row, ids[row]) for row in range(auto.shape[0]) if not np.isnan(auto[row, 0]))
        self.started = False

    def run(self, buf: np.ndarray, frames: int, position: int, failed: np.ndarray, reasons: list[str]) -> None:
        """Process the track's buffer in place; never raises."""
        if failed[self.slot]:
            return
        block = buf[self.slot, :frames]
        effect = self.effect
        try:
            if not self.started:  # lanes the plan before played may have stopped
                self.started = True
                effect.automation_ended()
            if not self.automated:
                effect.process_block(block, self.rate)
                return
            skew = position % KNOT  # frame 0 of the block is this column of ``auto``
            i = 0
            while i < frames:
                knot = (skew + i) // KNOT * KNOT
                for row, pid in self.automated:
                    effect.automation_value(pid, float(self.auto[row, 1 + knot]))  # (`DENSE` rows)
                end = min(frames, knot + KNOT - skew)
                effect.process_block(block[i:end], self.rate)
                i = end
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # SystemExit from a user's effect silences its track too
            block.fill(0.0)
            failed[self.slot] = True
            reasons[self.slot] = f"{type(self.effect).__name__} raised {type(exc).__name__}: {exc}"


Stage = BatchStage | SoloStage | ParallelChains


def solo_runner(effect: Effect, instance: tuple[int, ...] | None, rate: int, fresh: bool) -> Effect | None:
    """Return what runs ``effect``, which has no kernel, on a slot: itself, its copy for
    alias ``instance`` (None if it does not play there), or for a ``fresh`` (offline)
    plan a new instance (see `Effect.fresh_copy`, `Effect.instance_copy`)."""
    if instance:
        return effect.instance_copy(instance, rate, fresh)
    return effect.fresh_copy(rate) if fresh else effect


def chain_stages(
    chains: dict[int, list[Effect]],
    rate: int,
    fresh: bool = False,
    instances: dict[int, tuple[int, ...]] | None = None,
    automation: Automation | None = None,
    held: Automation | None = None,
    threads: int = 1,
) -> tuple[Stage, ...]:
    """Return the stages running ``chains`` (slot → effects in order), position by position.

    At each chain position, effects of the same built-in type share one batched stage;
    effects without a kernel get a stage each. Tracks' chains are independent, so the
    order among stages of one position does not matter; positions run in order. With
    ``fresh``, built-in effects run on private memory at rest (see `Effect.memory`).
    ``instances`` names the slots that play an alias instance of a track (slot → instance
    key): their built-in effects run on the instance's memory, a hosted plugin on an
    instance of its own (`solo_runner`); a user's effect without a kernel is one object
    with one state, so it is not applied there. ``automation``
    gives each batched row the array its automation is written to (see `BatchStage`),
    ``held`` each effect without a kernel (see `SoloStage`). With ``threads`` (a
    ``fresh`` plan only), a level's tracks are split into that many groups whose chains
    run at the same time (`ParallelChains`; not where an effect has no kernel).
    """
    keys = instances or {}
    stages: list[Stage] = []
    depth = max((len(c) for c in chains.values()), default=0)
    for position in range(depth):
        groups: dict[type[Effect], list[tuple[int, Effect]]] = {}
        for slot, chain in chains.items():
            if position >= len(chain):
                continue
            effect = chain[position]
            if effect.offline:
                continue  # an offline placeholder passes the audio through: no stage at all
            if type(effect).kernel is None:
                runs = solo_runner(effect, keys.get(slot), rate, fresh)
                if runs is not None:
                    stages.append(SoloStage(slot, runs, rate, held(slot, effect) if held else NO_AUTOMATION))
            else:
                groups.setdefault(type(effect), []).append((slot, effect))
        for kind, rows in groups.items():
            stages.append(BatchStage(kind.kernel, rows, rate, fresh, keys, automation))  # type: ignore[arg-type]
    slots = sorted(chains)
    n = min(threads, len(slots) // MIN_ROWS) if fresh else 1
    if n > 1 and stages and all(isinstance(s, BatchStage) for s in stages):
        return (ParallelChains(stages, slots, n),)  # type: ignore[arg-type]
    return tuple(stages)
