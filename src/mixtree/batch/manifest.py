"""The manifest: one row per job, as JSON Lines (and Parquet when pyarrow is installed).

A row is appended the moment its job ends, one whole line per write, so an interrupted
batch leaves every finished job on record and nothing half-written but, at worst, a
torn last line (which reading skips). At the end of a run the file is rewritten, one row
per job (the newest), ordered by job, atomically; ``manifest.parquet`` beside it then
holds the same rows, each parameter in a column of its own (``p:Drums.volume_db``).

A row: ``index``, ``key`` (the hash of the job's spec), ``project``, ``parameters``,
``outputs`` and their ``sha256``, ``seconds`` of audio, ``peak`` (linear) and
``peak_db``, ``loudness_lufs`` (integrated, ITU-R BS.1770, null for silence or audio
under 400 ms), ``gain_db`` (normalisation), ``render_time`` (seconds, wall clock, in the
worker), ``worker`` (``host:pid``), ``attempts``, ``rss_mb`` (the worker's memory after
the job), ``error`` (null when it worked), ``finished`` (UTC).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from mixtree.batch.jobs import Job
from mixtree.batch.runner import Row, file_digest
from mixtree.io.atomic import write_atomically

#: The manifest's file name in the output folder.
NAME = "manifest.jsonl"


def read_rows(path: str | Path) -> list[Row]:
    """Return the rows of a JSON Lines manifest, skipping a torn or unreadable line."""
    rows = []
    try:
        text = Path(path).read_text()
    except FileNotFoundError:
        return []
    for line in text.splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if isinstance(row, dict) and "key" in row:
            rows.append(row)
    return rows


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else str(value)  # numpy scalars from a grid


def _line(row: Row) -> str:
    return json.dumps(row, allow_nan=False, default=_plain) + "\n"


class Manifest:
    """A batch's manifest file: rows of earlier runs, and the rows this run appends."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.rows: dict[str, Row] = {}
        for row in read_rows(self.path):
            self.rows[row["key"]] = row  # the newest row of a job wins
        self._file: Any = None

    def done(self, job: Job, key: str) -> Row | None:
        """Return the row of ``job`` if it worked and its files are still what it wrote."""
        row = self.rows.get(key)
        if row is None or row.get("error") is not None or not row.get("outputs"):
            return None
        try:
            same = [file_digest(p) for p in row["outputs"]] == row.get("sha256")
        except OSError:
            return None
        return row if same and job.outputs == [Path(p) for p in row["outputs"]][: len(job.outputs)] else None

    def append(self, row: Row) -> None:
        """Record ``row`` now: one line, flushed to disk before returning."""
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self.path, "a")  # noqa: SIM115 - open for the whole run
            if self._file.tell() and not self.path.read_bytes().endswith(b"\n"):
                self._file.write("\n")  # a torn line from a killed run stays on its own
        self.rows[row["key"]] = row  # first: an interrupt during the write still leaves it to `close`
        self._file.write(_line(row))
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self, order: Iterable[str] = ()) -> Path | None:
        """Rewrite the manifest with one row per job, ``order``'s keys first, atomically;
        write the Parquet copy if pyarrow is installed and return its path."""
        if self._file is not None:
            self._file.close()
            self._file = None
        if not self.rows:
            return None
        keys = [k for k in dict.fromkeys(order) if k in self.rows]
        keys += [k for k in self.rows if k not in set(keys)]
        rows = [self.rows[k] for k in keys]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(self.path, "".join(_line(r) for r in rows).encode(), backup=False)
        return write_parquet(rows, self.path.with_suffix(".parquet"))


def write_parquet(rows: list[Row], path: Path) -> Path | None:
    """Write ``rows`` to a Parquet file, each parameter a column; None without pyarrow."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        return None
    flat = []
    for row in rows:
        r = {k: v for k, v in row.items() if k != "parameters"}
        r["parameters"] = json.dumps(row.get("parameters", {}), default=_plain)
        r["warnings"] = list(row.get("warnings", []))
        r["traceback"] = row.get("traceback")
        for name, value in row.get("parameters", {}).items():
            r[f"p:{name}"] = value
        flat.append(r)
    columns = list(dict.fromkeys(k for r in flat for k in r))  # from_pylist reads only the first row's
    flat = [{k: r.get(k) for k in columns} for r in flat]
    try:
        table = pa.Table.from_pylist(flat)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # a parameter with values of mixed types
        for r in flat:
            for name in [k for k in r if k.startswith("p:")]:
                r[name] = str(r[name])
        table = pa.Table.from_pylist(flat)
    tmp = path.with_name(f".{path.name}.part-{os.getpid()}")
    pq.write_table(table, tmp)
    os.replace(tmp, path)
    return path
