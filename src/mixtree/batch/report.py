"""What a batch render returns: every job's row, the counts and where the manifest is."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from mixtree.batch.runner import Row


@dataclass(slots=True)
class Report:
    """The outcome of `mixtree.batch.render`: ``rows`` in job order (rendered, failed and
    skipped alike), ``skipped`` (done by an earlier run), ``elapsed`` wall-clock seconds,
    the ``manifest`` and its ``parquet`` copy (None without pyarrow)."""

    rows: list[Row]
    skipped: int = 0
    elapsed: float = 0.0
    manifest: Path | None = None
    parquet: Path | None = None
    backend: str = "local"
    failures: list[Row] = field(init=False)

    def __post_init__(self) -> None:
        self.failures = [r for r in self.rows if r.get("error") is not None]

    @property
    def ok(self) -> bool:
        """Return True if every job worked."""
        return not self.failures

    @property
    def rendered(self) -> int:
        """Return how many jobs this run rendered (those that failed included)."""
        return len(self.rows) - self.skipped

    @property
    def jobs_per_second(self) -> float:
        """Return the jobs this run rendered per wall-clock second."""
        return self.rendered / self.elapsed if self.elapsed > 0 else 0.0

    def summary(self) -> str:
        """Return one line: how many rendered, failed and skipped, how fast, where the manifest is."""
        done = self.rendered - len(self.failures)
        parts = [f"{done} rendered", f"{len(self.failures)} failed", f"{self.skipped} skipped"]
        where = f"; manifest {self.manifest}" if self.manifest is not None else ""
        return f"{', '.join(parts)} in {self.elapsed:.1f} s ({self.jobs_per_second:.1f} jobs/s, {self.backend}){where}"

    def __repr__(self) -> str:
        return (
            f"Report(jobs={len(self.rows)}, failed={len(self.failures)}, skipped={self.skipped}, "
            f"elapsed={self.elapsed:.2f}, backend={self.backend!r})"
        )
