"""The automation lanes of a plan, gathered while it is compiled (compile side)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from mixtree.dsp.curves import SHAPES
from mixtree.dsp.lanes import DOMAINS, KNOT, MEMO, LaneTable, ParameterLanes, knot_lengths
from mixtree.dsp.smoothing import DENSE
from mixtree.effects.base import Effect
from mixtree.model.automation import AutomationLane, manual_value
from mixtree.model.project import Project
from mixtree.model.tempo import TempoMap
from mixtree.render.stages import NO_AUTOMATION
from mixtree.render.warps import Warps


class TimeMap(NamedTuple):
    """The timeline a slot's lanes run on: τ = a·x + b, x the child time of ``warp`` (-1:
    project time), in seconds; ``tempo`` converts its beats."""

    a: float
    b: float
    warp: int
    tempo: TempoMap


class LaneBuilder:
    """The automation lanes a plan plays, gathered into one `LaneTable`: each point's time
    becomes the output frame it is first reached on; a lane under a warp also keeps its
    times for the warp's per-frame clock.

    A lane that records (``touch``, ``latch``, ``write``) is in the table even without
    points (it then plays its parameter's manual value), so a live move can be heard
    through it; ``ids`` holds each entry's lane id."""

    def __init__(self, project: Project, warps: Warps) -> None:
        self.project = project
        self.warps = warps
        self.rate = project.sample_rate
        self.rows: list[tuple[float, float, int, float, float]] = []
        self.factors: list[float] = []  # per row: its lane's `knot_lengths` domain factor, NaN on its last
        self.lanes: list[tuple[int, int, float, int, float, float]] = []  # lo, hi, ramp, warp, scale, shift
        self.ids: list[int] = []

    def add(self, lane: AutomationLane | None, where: TimeMap, domain: str = "") -> int:
        """Add ``lane`` running on ``where`` and return its index, or -1 if it neither
        plays (points, and not ``off``) nor records. A fader's volume and pan lanes name
        their ``domain`` (``"db"``, ``"pan"``): its pieces keep the gains within bounds
        too (`knot_lengths`)."""
        if lane is None or not (lane.plays or lane.records):
            return -1
        a, b, warp, tempo = where
        lo = len(self.rows)
        if not lane.points:
            self.rows.append((0.0, manual_value(self.project, lane), 0, 0.0, 0.0))
        for p in lane.points:
            seconds = tempo.seconds_at(p.time) if lane.time_base == "beats" else p.time
            at = self.warps.frame(warp, a, b, seconds)
            if abs(at - round(at)) < 1e-6:  # on a frame but for rounding (0.7 s × 48 kHz)
                at = float(round(at))
            self.rows.append((at, p.value, SHAPES.index(p.shape), p.tension, seconds))
        self.factors += [DOMAINS[domain]] * (len(self.rows) - lo - 1) + [np.nan]
        # a warped lane's time is a × (the warp's child time, in frames) / rate + b
        self.lanes.append((lo, len(self.rows), lane.spec.ramp * self.rate, warp, a / self.rate, b))
        self.ids.append(lane.id)
        return len(self.lanes) - 1

    def index(self) -> dict[int, tuple[int, ...]]:
        """Return, by lane id, its entries in the table."""
        out: dict[int, tuple[int, ...]] = {}
        for k, ident in enumerate(self.ids):
            out[ident] = (*out.get(ident, ()), k)
        return out

    def table(self) -> LaneTable:
        """Return the lanes gathered so far as arrays (call once the warps are all in)."""
        cols = list(zip(*self.rows, strict=True)) if self.rows else [()] * 5
        per_lane = list(zip(*self.lanes, strict=True)) if self.lanes else [()] * 6
        return LaneTable(
            at=np.array(cols[0], np.float64),
            value=np.array(cols[1], np.float64),
            shape=np.array(cols[2], np.int64),
            tension=np.array(cols[3], np.float64),
            knot=knot_lengths(
                np.array(cols[0], np.float64),
                np.array(cols[1], np.float64),
                np.array(cols[2], np.int64),
                np.array(cols[3], np.float64),
                np.array(self.factors),
            ),  # fmt: skip
            lo=np.array(per_lane[0], np.int64),
            hi=np.array(per_lane[1], np.int64),
            ramp=np.array(per_lane[2], np.float64),
            pos=np.array(cols[4], np.float64),
            warp=np.array(per_lane[3], np.int64),
            scale=np.array(per_lane[4], np.float64),
            shift=np.array(per_lane[5], np.float64),
            times=self.warps.table().times,
            state=np.zeros(len(self.lanes), np.int8),
            **{name: np.zeros(len(self.lanes)) for name in ("live", "target", "step", "left", "last")},
            memo=np.full((len(self.lanes), MEMO), -1.0),
        )


class ParameterAutomation:
    """The automation arrays effects read (one row per parameter, see
    `mixtree.dsp.smoothing`), and which lane fills which of their rows: what
    `chain_stages` asks for as its ``automation``."""

    def __init__(self, lanes: LaneBuilder, maps: dict[int, TimeMap], max_block: int) -> None:
        self.lanes = lanes
        self.maps = maps
        self.max_block = max_block
        self.arrays: list[np.ndarray] = []
        self.rows: list[tuple[int, int, int]] = []
        self.held_arrays: list[np.ndarray] = []
        self.held_rows: list[tuple[int, int, int]] = []

    def __call__(self, slot: int, effect: Effect) -> np.ndarray:
        """Return the array ``effect``'s kernel on ``slot`` reads its lanes from
        (`NO_AUTOMATION` if none plays): each block, a lane's pieces or its values
        (`fill_parameters`)."""
        return self._array(slot, effect, self.arrays, self.rows, 1 + self.max_block)

    def held(self, slot: int, effect: Effect) -> np.ndarray:
        """Return the array instrument or kernel-less ``effect`` on ``slot`` reads its
        lanes from: `DENSE` rows of the block's frames from the `KNOT` at or before its
        first (they hold each value from one knot to the next: `mixtree.dsp.synth`,
        `SoloStage`)."""
        return self._array(slot, effect, self.held_arrays, self.held_rows, 1 + self.max_block + KNOT)

    def _array(
        self, slot: int, effect: Effect, arrays: list[np.ndarray], rows: list[tuple[int, int, int]], width: int
    ) -> np.ndarray:  # fmt: skip
        playing = {p: lane for p, lane in effect.lanes.items() if lane.plays or lane.records}
        if not playing:
            return NO_AUTOMATION
        ids = [p.id for p in effect.PARAMETERS]
        array = np.full((len(ids), width), np.nan)
        arrays.append(array)
        for parameter, lane in playing.items():
            k = self.lanes.add(lane, self.maps[slot])
            rows.append((k, len(arrays) - 1, ids.index(parameter)))
            array[ids.index(parameter)] = DENSE  # not NaN: automated (each block's fill writes it)
        return array

    def entries(self, held: bool = False) -> ParameterLanes:
        """Return which lane fills which row (of the instruments' arrays: ``held``, their
        values from column 1), as arrays: the row by its address (the plan keeps the
        arrays alive)."""
        rows = self.held_rows if held else self.rows
        arrays = self.held_arrays if held else self.arrays
        skip = 1 if held else 0
        lane = [k for k, _, _ in rows]
        row = [arrays[a][p, skip:].ctypes.data for _, a, p in rows]
        length = [arrays[a].shape[1] - skip for _, a, _ in rows]
        return ParameterLanes(*(np.array(c, np.int64) for c in (lane, row, length)))
