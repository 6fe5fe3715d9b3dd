"""The warps of a plan (metatracks with automated speed), gathered while the tree is walked,
and the way back from a time inside them to output frames (compile side)."""

from __future__ import annotations

import math

import numpy as np

from mixtree.dsp.warp import WarpTable, integral_inverse
from mixtree.model.project import Project
from mixtree.model.structure import speed_curve
from mixtree.model.tracks import Metatrack

#: The farthest frame a time maps to: a time a warp never reaches lands here.
NEVER = float(2**62)


class Warps:
    """Every warp a plan plays, parents before children (see `mixtree.dsp.warp`).

    A time inside them is given as (warp, a, b, τ): τ = a·x + b, where x is the child
    time of ``warp`` in seconds (warp -1: project time).
    """

    def __init__(self, project: Project, max_block: int) -> None:
        self.project = project
        self.rate = project.sample_rate
        self.max_block = max_block
        self.rows: list[tuple[int, float, float, float]] = []  # parent, a, b, offset
        self.points: list[np.ndarray] = []  # per warp: at, value, shape, tension, area as rows
        self._table: WarpTable | None = None

    def add(self, m: Metatrack, parent: int, a: float, b: float) -> int:
        """Add ``m``, sitting at (parent, a, b), if its speed is automated; return the warp
        its children's time is (-1 if its speed is constant)."""
        curve = speed_curve(self.project, m)
        if curve is None:
            return -1
        self.rows.append((parent, a, b, m.offset))
        self.points.append(np.array([curve.at, curve.value, curve.shape, curve.tension, curve.area]))
        self._table = None
        return len(self.rows) - 1

    def table(self) -> WarpTable:
        """Return the warps gathered so far, with their per-block buffers."""
        if self._table is None:
            counts = [p.shape[1] for p in self.points]
            hi = np.cumsum(counts, dtype=np.int64)
            cols = np.concatenate(self.points, axis=1) if self.points else np.zeros((5, 0))
            n = len(self.rows)
            self._table = WarpTable(
                parent=np.array([r[0] for r in self.rows], np.int64),
                a=np.array([r[1] for r in self.rows], np.float64),
                b=np.array([r[2] for r in self.rows], np.float64),
                offset=np.array([r[3] for r in self.rows], np.float64),
                lo=hi - np.array(counts, np.int64),
                hi=hi,
                at=cols[0].copy(),
                value=cols[1].copy(),
                shape=cols[2].astype(np.int64),
                tension=cols[3].copy(),
                area=cols[4].copy(),
                times=np.zeros((n, self.max_block)),
                rates=np.zeros((n, self.max_block)),
            )
        return self._table

    def fastest(self, warp: int) -> float:
        """Return the most child time per output time ``warp`` (and the warps above it)
        ever runs at: the product of their fastest speeds and scales."""
        top = 1.0
        while warp >= 0:
            parent, a, _, _ = self.rows[warp]
            top *= abs(a) * max(1.0, float(np.max(np.abs(self.points[warp][1]))))
            warp = parent
        return top

    def seconds(self, warp: int, a: float, b: float, tau: float) -> float:
        """Return the first project time at which time ``tau`` of the map (warp, a, b) is
        reached (±`NEVER` / rate if never)."""
        x = (tau - b) / a
        if warp < 0:
            return x
        t = self.table()
        while warp >= 0:
            lo, hi = int(t.lo[warp]), int(t.hi[warp])
            x = integral_inverse(t.at, t.value, t.shape, t.tension, t.area, lo, hi, x)
            if math.isinf(x):
                return math.copysign(NEVER, x) / self.rate
            x = (x - t.b[warp]) / t.a[warp]
            warp = int(t.parent[warp])
        return float(x)

    def frame(self, warp: int, a: float, b: float, tau: float) -> float:
        """Return the output frame (fractional) at which ``tau`` of the map is reached."""
        return self.seconds(warp, a, b, tau) * self.rate
