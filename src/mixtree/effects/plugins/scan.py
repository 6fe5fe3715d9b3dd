"""Finding installed plugins: every candidate bundle or file is probed in a child process
with a deadline, so one that hangs or crashes on load is listed as failed, with its
reason, and never brings the scan down. Results are cached until the file changes.

The child runs ``python -m mixtree.effects.plugins.probe FORMAT PATH`` and prints what
it found as JSON (see `mixtree.effects.plugins.probe`).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from mixtree.effects.plugins.base import FORMATS, PluginInfo

#: Seconds a probe may take before it counts as hanging.
PROBE_TIMEOUT = 20.0


@dataclass(frozen=True, slots=True)
class ScanResult:
    """One candidate a scan probed: the plugins it holds, or why it failed (``error``)."""

    format: str
    path: str
    plugins: tuple[PluginInfo, ...] = ()
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Return True if the candidate loaded."""
        return self.error is None


def standard_paths() -> dict[str, list[Path]]:
    """Return the folders each format's plugins are installed in, by format (Linux)."""
    home = Path.home()
    lv2 = os.environ.get("LV2_PATH")
    return {
        "lv2": [Path(p) for p in lv2.split(":") if p] if lv2 else [home / ".lv2", Path("/usr/local/lib/lv2"),
                                                                     Path("/usr/lib/lv2")],
        "clap": [home / ".clap", Path("/usr/local/lib/clap"), Path("/usr/lib/clap")],
        "vst3": [home / ".vst3", Path("/usr/local/lib/vst3"), Path("/usr/lib/vst3")],
    }  # fmt: skip


def candidates(extra: list[Path] | tuple[Path, ...] = ()) -> list[tuple[str, Path]]:
    """Return every (format, bundle or file) under the standard folders and ``extra`` ones."""
    folders = standard_paths()
    out: list[tuple[str, Path]] = []
    seen: set[Path] = set()
    for fmt in FORMATS:
        for folder in [*folders[fmt], *extra]:
            if not folder.is_dir():
                continue
            for entry in sorted(folder.iterdir()):
                if entry.suffix == f".{fmt}" and entry.resolve() not in seen:
                    seen.add(entry.resolve())
                    out.append((fmt, entry))
    return out


def default_cache() -> Path:
    """Return where scans are cached (``$XDG_CACHE_HOME/mixtree/plugins.json``)."""
    base = os.environ.get("XDG_CACHE_HOME")
    return (Path(base) if base else Path.home() / ".cache") / "mixtree" / "plugins.json"


def scan(
    extra: list[Path] | tuple[Path, ...] = (),
    timeout: float = PROBE_TIMEOUT,
    cache: Path | None = None,
    workers: int | None = None,
) -> list[ScanResult]:
    """Probe every installed plugin (standard folders and ``extra`` ones), each in a child
    process with ``timeout`` seconds, and return the results, cached in ``cache``
    (`default_cache`) until a candidate's file changes.

    Returns
    -------
    list of ScanResult
        One per candidate, in format and path order; failed ones carry their reason.
    """
    cache = default_cache() if cache is None else cache
    known = _read_cache(cache)
    todo = candidates(extra)
    stamps = {str(path): _stamp(path) for _, path in todo}

    def probe_or_cached(item: tuple[str, Path]) -> ScanResult:
        fmt, path = item
        hit = known.get(str(path))
        if hit is not None and hit[0] == stamps[str(path)]:
            return hit[1]
        return probe(fmt, path, timeout)

    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 2) as pool:
        results = list(pool.map(probe_or_cached, todo))
    _write_cache(cache, {str(r.path): (stamps[r.path], r) for r in results})
    return results


def cached(cache: Path | None = None) -> list[ScanResult]:
    """Return the results of the last scan (none if there was none)."""
    return [result for _, result in _read_cache(default_cache() if cache is None else cache).values()]


def known_failure(path: str | Path, cache: Path | None = None) -> str | None:
    """Return why the last scan could not load the bundle or file ``path``, if it has not
    changed since (a plugin that hangs or crashes on load), else None."""
    path = Path(path)
    hit = _read_cache(default_cache() if cache is None else cache).get(str(path))
    if hit is None or hit[1].ok or not path.exists() or hit[0] != _stamp(path):
        return None
    return hit[1].error


def probe(fmt: str, path: Path, timeout: float = PROBE_TIMEOUT) -> ScanResult:
    """Load the plugins of one bundle or file in a child process and return what it found."""
    command = [sys.executable, "-m", "mixtree.effects.plugins.probe", fmt, str(path)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return ScanResult(fmt, str(path), error=f"did not load within {timeout:g} s (it hangs)")
    if done.returncode < 0:
        name = signal.Signals(-done.returncode).name
        return ScanResult(fmt, str(path), error=f"crashed while loading ({name})")
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        return ScanResult(fmt, str(path), error=lines[-1] if lines else f"exit status {done.returncode}")
    try:
        found = json.loads(done.stdout.strip().splitlines()[-1])
        plugins = tuple(PluginInfo(**info) for info in found)
    except (ValueError, IndexError, TypeError) as exc:
        return ScanResult(fmt, str(path), error=f"the probe answered nonsense: {exc}")
    if not plugins:
        return ScanResult(fmt, str(path), error="holds no plugin")
    return ScanResult(fmt, str(path), plugins)


def _stamp(path: Path) -> list[float]:
    # a bundle changes when any file in it does
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    stats = [p.stat() for p in files]
    return [max((s.st_mtime for s in stats), default=0.0), float(sum(s.st_size for s in stats))]


def _read_cache(cache: Path) -> dict[str, tuple[list[float], ScanResult]]:
    try:
        rows = json.loads(cache.read_text())
        return {
            row["path"]: (
                row["stamp"],
                ScanResult(row["format"], row["path"], tuple(PluginInfo(**p) for p in row["plugins"]), row["error"]),
            )
            for row in rows
        }
    except (OSError, ValueError, KeyError, TypeError):
        return {}  # no cache, or one from another version: scan again


def _write_cache(cache: Path, results: dict[str, tuple[list[float], ScanResult]]) -> None:
    rows = [{"stamp": stamp, **asdict(result)} for stamp, result in results.values()]
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(".tmp")
        tmp.write_text(json.dumps(rows, indent=1))
        tmp.replace(cache)
    except OSError:
        pass  # a cache that cannot be written only costs the next scan its time
