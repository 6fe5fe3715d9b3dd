"""The set-up's warm step: the package's bytecode written, so an import reads it."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import mixtree
from mixtree.cli.warm import bytecode


def test_warm_writes_the_bytecode_of_every_module():
    package = Path(mixtree.__file__).parent
    assert bytecode()
    modules = sorted(package.rglob("*.py"))
    assert len(modules) > 100
    for source in modules:
        cached = Path(importlib.util.cache_from_source(str(source)))
        assert cached.is_file(), source
        assert cached.stat().st_mtime >= source.stat().st_mtime
