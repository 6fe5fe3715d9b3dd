"""One fuzz target under atheris: ``python -m fuzz.atheris_main NAME [--system] --seed-corpus DIR [libFuzzer args]``.

mixtree is imported under atheris's instrumentation, so the inputs are steered by the
coverage of its loaders; the target's own mutator is offered as libFuzzer's custom mutator
half the time (so archives stay valid ZIPs and documents valid JSON), libFuzzer's the other.
"""

from __future__ import annotations

import importlib.util
import random
import sys
import tempfile
from pathlib import Path

import atheris

#: The modules whose coverage steers the inputs: the loaders and the studio's request
#: handling (numba cannot compile the kernels' instrumented bytecode, so nothing else is).
LOADERS = ("mixtree.io.", "mixtree.model.project_file", "mixtree.model.document", "mixtree.model.migrations")
LOADERS += ("mixtree.exchange", "mixtree.studio.session", "mixtree.studio.osc")


def _others() -> list[str]:
    spec = importlib.util.find_spec("mixtree")
    assert spec is not None and spec.submodule_search_locations is not None
    root = Path(spec.submodule_search_locations[0])
    found = ["mixtree"]
    for file in root.rglob("*.py"):  # by name, importing nothing (an import now would escape instrumentation)
        name = ".".join(("mixtree", *file.relative_to(root).with_suffix("").parts)).removesuffix(".__init__")
        if not name.startswith(LOADERS) or name == "mixtree.io.quantize":
            found.append(name)
    return found


with atheris.instrument_imports(include=["mixtree"], exclude=_others()):
    import mixtree  # noqa: F401
    import mixtree.exchange
    import mixtree.exchange.otio_read
    import mixtree.io.midi_file
    import mixtree.model.project_file
    import mixtree.studio.osc
    import mixtree.studio.session  # noqa: F401

from fuzz.mutate import mutate_safely  # noqa: E402
from fuzz.targets import check, targets  # noqa: E402


def main() -> None:
    """Set up the target named in ``sys.argv`` and hand the rest of the arguments to libFuzzer."""
    args = sys.argv[1:]
    name = args.pop(0)
    system = "--system" in args
    args = [a for a in args if a != "--system"]
    at = args.index("--seed-corpus")
    corpus = Path(args[at + 1])
    corpus.mkdir(parents=True, exist_ok=True)
    del args[at : at + 2]
    target = targets()[name]
    scratch = Path(tempfile.mkdtemp(prefix=f"fuzz-{name}-"))
    seeds = target.seeds(scratch, system)
    for k, seed in enumerate(seeds):
        (corpus / f"seed-{k}{target.suffix}").write_bytes(seed)
    folder = scratch / "in"
    folder.mkdir()
    target.companions(folder)

    def test_one(data: bytes) -> None:
        check(target, data, folder)

    def mutate(data: bytes, max_size: int, seed: int) -> bytes:
        rng = random.Random(seed)
        if rng.random() < 0.5:
            return atheris.Mutate(data, max_size)
        return mutate_safely(target.mutate, data, rng, seeds)[:max_size]

    atheris.Setup([sys.argv[0], *args], test_one, custom_mutator=mutate)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
