"""Batch rendering: thousands of renders and parameter sweeps, on every core or on Ray.

``grid(project, {"Drums.volume_db": [-12, -6, 0], "Verb.mix": [0.1, 0.3]}, out="renders/{index:05d}.flac")``
makes the jobs, ``render(jobs)`` runs them on a local process pool (``cluster="ray"``: as
Ray tasks) and returns a `Report`; a manifest (`mixtree.batch.manifest`) records one row
per job, and a re-run skips what is done.

Parts: `jobs` (`Job`, `grid`), `addresses` (``"Track.param"`` to automation addresses),
`runner` (one job in a worker), `local` (the process pool), `ray_backend`, `manifest`,
`loudness`, `progress`, `report`, `run` (`render`).
"""

from mixtree.batch.addresses import resolve, set_parameter
from mixtree.batch.jobs import Job, Snapshot, grid
from mixtree.batch.manifest import read_rows
from mixtree.batch.report import Report
from mixtree.batch.run import render

__all__ = ["Job", "Report", "Snapshot", "grid", "read_rows", "render", "resolve", "set_parameter"]
