"""The package's parts import only the parts below them (docs/architecture.md)."""

import ast
import sys
from pathlib import Path

import mixtree

SRC = Path(mixtree.__file__).parent
ORDER = ["errors", "units", "dsp", "effects", "io", "model", "render", "jobs", "batch", "exchange", "engine", "cli"]
ORDER.insert(ORDER.index("cli"), "studio")  # the web page and OSC: over the engine, under the command
# Code the audio callback runs: it must not reach the model even through a local import.
CALLBACK_CODE = [
    "dsp",
    "effects",
    "render/plan.py",
    "render/stages.py",
    "render/midi.py",
    "render/audibility.py",
    "engine/player.py",
]


def _part(path: Path) -> str:
    rel = path.relative_to(SRC)
    return rel.parts[0].removesuffix(".py")


def _modules(path: Path, top_level_only: bool = False) -> list[str]:
    """Return every mixtree module ``path`` imports, absolute: ``from mixtree import jobs``
    and relative imports included."""
    tree = ast.parse(path.read_text())
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    package = ["mixtree", *path.relative_to(SRC).parent.parts]
    found = []
    for node in nodes:
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
            if base == "mixtree":
                found += [f"mixtree.{a.name}" for a in node.names]
            elif base.startswith("mixtree."):
                found.append(base)
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.startswith("mixtree.")]
    return found


def _imports(path: Path, top_level_only: bool) -> list[str]:
    return [m.split(".")[1] for m in _modules(path, top_level_only)]


def test_every_import_points_down_the_layers_even_inside_functions():
    wrong = []
    for path in SRC.rglob("*.py"):
        part = _part(path)
        if part not in ORDER:
            continue
        for target in _imports(path, top_level_only=False):
            if target in ORDER and ORDER.index(target) > ORDER.index(part):
                wrong.append(f"{path.relative_to(SRC)} imports {target}")
    assert wrong == []


def test_the_layer_check_sees_every_form_of_import(monkeypatch, tmp_path):
    monkeypatch.setattr(sys.modules[__name__], "SRC", tmp_path)
    module = tmp_path / "model" / "m.py"
    module.parent.mkdir()
    module.write_text(
        "from mixtree import jobs\nfrom ..engine import player\nfrom .tracks import Track\n"
        "def f():\n    from mixtree.render.offline import render\n"
    )
    assert _imports(module, top_level_only=False) == ["jobs", "engine", "model", "render"]
    assert _imports(module, top_level_only=True) == ["jobs", "engine", "model"]


def test_every_part_of_the_package_is_in_the_layer_order():
    parts = {_part(p) for p in SRC.rglob("*.py")} - {"__init__", "__main__"}
    assert parts <= set(ORDER)


def _path(module: str) -> Path:
    rel = Path(*module.split(".")[1:])
    return SRC / rel / "__init__.py" if (SRC / rel).is_dir() else SRC / rel.with_suffix(".py")


def test_callback_code_never_imports_the_model_even_indirectly():
    starts = []
    for entry in CALLBACK_CODE:
        p = SRC / entry
        starts += list(p.rglob("*.py")) if p.is_dir() else [p]
    for start in starts:
        seen: set[Path] = set()
        todo = [start]
        while todo:
            path = todo.pop()
            if path in seen:
                continue
            seen.add(path)
            for module in set(_modules(path)):
                assert not module.startswith("mixtree.model"), (
                    f"{start.relative_to(SRC)} reaches {module} via {path.name}"
                )
                todo.append(_path(module))
