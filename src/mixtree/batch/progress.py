"""A rich progress bar for a batch: jobs done of all, failures, jobs per second and ETA."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, Task, TextColumn, TimeRemainingColumn
from rich.text import Text

from mixtree.batch.runner import Row


class RateColumn(TextColumn):
    """Jobs per second, from rich's speed estimate."""

    def __init__(self) -> None:
        super().__init__("")

    def render(self, task: Task) -> Text:
        """Return the rate as text (``12.3 jobs/s``)."""
        speed = task.finished_speed or task.speed
        return Text("-- jobs/s" if speed is None else f"{speed:.1f} jobs/s")


@contextmanager
def batch_progress(total: int, skipped: int, console: Console | None = None) -> Iterator[Callable[[Row], None]]:
    """Show a bar while the body runs ``total`` jobs; yield the callback each row goes to."""
    failed = 0
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[failed]}"),
        RateColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as bar:
        note = f"rendering ({skipped} done before)" if skipped else "rendering"
        task = bar.add_task(note, total=total, failed="")

        def update(row: Row) -> None:
            nonlocal failed
            failed += row.get("error") is not None
            bar.update(task, advance=1, failed=f"{failed} failed" if failed else "")

        yield update
