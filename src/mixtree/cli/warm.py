"""``python -m mixtree.cli.warm``: compile the kernels into numba's on-disk cache, and
the package into Python's bytecode.

`scripts/setup.sh` runs it after installing, so that the first render or playback of a
fresh install loads compiled kernels instead of compiling them (tens of seconds). It
starts an engine on the null driver (which runs every kernel the callback uses, at the
blocksizes given) and builds and renders the demo song into a temporary folder. The
bytecode is written too, where the installer did not (an editable install, or
``PYTHONDONTWRITEBYTECODE`` set): without it every ``import mixtree`` compiles the
package's source again (0.3 s here).
"""

from __future__ import annotations

import argparse
import compileall
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path


def warm(blocksizes: Sequence[int] = (256,), demo: bool = True) -> float:
    """Compile (or load) every kernel playback and the demo's render use; return the seconds taken."""
    from mixtree.engine.engine import Engine
    from mixtree.jobs.export import export
    from mixtree.model.project import Project

    t0 = time.perf_counter()
    for blocksize in blocksizes:
        Engine(Project(sample_rate=48000), driver="null", blocksize=blocksize, autosave=None).close()
    if demo:
        from mixtree.cli import demo as song

        with tempfile.TemporaryDirectory(prefix="mixtree-warm-") as tmp:
            project, _ = song.build(Path(tmp))
            export(project, Path(tmp) / "demo.wav", 0.0, 1.0, blocksize=512)
    return time.perf_counter() - t0


def bytecode() -> bool:
    """Write the bytecode of every module of the package (where missing or stale); return
    whether all compiled."""
    import mixtree

    return bool(compileall.compile_dir(Path(mixtree.__file__).parent, quiet=1))


def main(argv: Sequence[str] | None = None) -> None:
    """Warm the kernels and say how long it took."""
    ap = argparse.ArgumentParser(prog="python -m mixtree.cli.warm", description=__doc__.split("\n")[0])
    ap.add_argument("--no-demo", action="store_true", help="only the engine's kernels, not the demo's render")
    args = ap.parse_args(argv)
    print(f"mixtree: kernels compiled and cached in {warm(demo=not args.no_demo):.1f} s")
    if not bytecode():
        print("mixtree: some modules' bytecode could not be written (a read-only install?)")


if __name__ == "__main__":
    main()
