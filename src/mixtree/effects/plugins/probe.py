"""The child process of a plugin scan: ``python -m mixtree.effects.plugins.probe FORMAT PATH``
loads (instantiates) every plugin of one bundle or file and prints their `PluginInfo` as
one JSON line. It may hang or crash: that is why it runs alone (see `scan`)."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

from mixtree.effects.plugins.base import PluginInfo


def probe(fmt: str, path: Path) -> list[PluginInfo]:
    """Return the plugins of the bundle or file ``path`` of format ``fmt``, each loaded once."""
    if fmt == "lv2":
        return _lv2(path)
    if fmt == "clap":
        return _clap(path)
    if fmt == "vst3":
        return _vst3(path)
    raise ValueError(f"unknown plugin format {fmt!r}")


def _lv2(bundle: Path) -> list[PluginInfo]:
    # lilv reads the bundles inside the folders of LV2_PATH: give it a folder of this one
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / bundle.name).symlink_to(bundle.resolve())
        os.environ["LV2_PATH"] = folder
        from mixtree.effects.plugins.lv2 import Lv2Plugin, list_lv2

        found = list_lv2()
        for info in found:
            Lv2Plugin(info.uri).close()
        return [PluginInfo(**{**asdict(info), "path": str(bundle)}) for info in found]


def _clap(file: Path) -> list[PluginInfo]:
    from mixtree.effects.plugins.clap import ClapPlugin, list_clap

    found = list_clap(file)
    for info in found:
        ClapPlugin(file, info.uri).close()
    return found


def _vst3(bundle: Path) -> list[PluginInfo]:
    from mixtree.effects.plugins.vst3 import list_vst3

    return list_vst3(bundle)


def main(argv: list[str]) -> int:
    """Probe ``argv`` = [FORMAT, PATH]; print the plugins as JSON, or the error and exit 1."""
    fmt, path = argv
    try:
        found = probe(fmt, Path(path))
    except Exception as exc:  # reported to the scan as the reason
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(json.dumps([asdict(info) for info in found]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
