"""Build mixtree's test plugins (mtdelay, mtgain, mtsine) as CLAP, VST3 and LV2 from DPF.

Needs Debian's ``dpf-source`` (DPF 1.6 in ``/usr/share/dpf``) and ``g++``. Each plugin
in each format is one ``g++`` call over the plugin's source and DPF's
``DistrhoPluginMain.cpp`` with ``-DDISTRHO_PLUGIN_TARGET_<FORMAT>``; LV2 bundles get
their Turtle from the plugin's own ``lv2_generate_ttl``. Run as a script to build
into a directory: ``python tests/effects/plugins/dpf/build.py /tmp/plugins``.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
DPF = Path("/usr/share/dpf")
PLUGINS = ("mtdelay", "mtgain", "mtsine")
FORMATS = ("clap", "vst3", "lv2")
CXXFLAGS = ("-std=gnu++11", "-O1", "-fPIC", "-shared", "-fvisibility=hidden", "-DNDEBUG")
_VERSION_SCRIPT = {"clap": "clap", "vst3": "vst3", "lv2": "lv2"}


def missing(dpf: Path = DPF) -> str | None:
    """Return why the plugins cannot be built here, or None if they can."""
    if not (dpf / "distrho" / "DistrhoPluginMain.cpp").is_file():
        return f"DPF sources not found in {dpf} (apt-get install dpf-source)"
    if shutil.which("g++") is None:
        return "g++ not found (apt-get install g++)"
    return None


def source_hash(dpf: Path = DPF) -> str:
    """Return a short hash of everything a build depends on: our sources, flags and DPF's version."""
    h = hashlib.sha256(" ".join(CXXFLAGS).encode())
    for path in sorted(HERE.glob("*/*")) + [Path(__file__).resolve()]:
        if path.suffix in (".cpp", ".h", ".py"):
            h.update(path.name.encode() + path.read_bytes())
    main = dpf / "distrho" / "src" / "DistrhoPluginInternal.hpp"
    if main.is_file():
        h.update(main.read_bytes())
    return h.hexdigest()[:16]


def paths(dest: Path) -> dict[str, Path]:
    """Return where each built plugin lives under ``dest``, keyed ``"<plugin>.<format>"``.

    Each format has its own folder (``dest/lv2`` can be an ``LV2_PATH`` as it is).
    """
    return {f"{p}.{f}": dest / f / f"{p}.{f}" for p in PLUGINS for f in FORMATS}


def _binary(bundle: Path, plugin: str, fmt: str) -> Path:
    if fmt == "clap":
        return bundle
    if fmt == "vst3":
        return bundle / "Contents" / f"{platform.machine()}-linux" / f"{plugin}.so"
    return bundle / f"{plugin}.so"


def _compile(root: Path, plugin: str, fmt: str, dpf: Path) -> None:
    binary = _binary(paths(root)[f"{plugin}.{fmt}"], plugin, fmt)
    binary.parent.mkdir(parents=True, exist_ok=True)
    src = HERE / plugin
    cmd = [
        "g++", *CXXFLAGS, f"-DDISTRHO_PLUGIN_TARGET_{fmt.upper()}", f"-I{src}", f"-I{dpf / 'distrho'}",
        str(src / f"{plugin}.cpp"), str(dpf / "distrho" / "DistrhoPluginMain.cpp"),
        f"-Wl,--version-script={dpf / 'utils' / 'symbols' / (_VERSION_SCRIPT[fmt] + '.version')}", "-ldl",
        "-o", str(binary),
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"building {plugin}.{fmt} failed:\n{done.stderr[-4000:]}")
    if fmt == "lv2":
        # The plugin writes its own manifest.ttl and <plugin>.ttl into the working directory.
        gen = f"import ctypes; ctypes.CDLL('./{binary.name}').lv2_generate_ttl(b'{plugin}')"
        done = subprocess.run([sys.executable, "-c", gen], cwd=binary.parent, capture_output=True, text=True)
        if done.returncode or not (binary.parent / "manifest.ttl").is_file():
            raise RuntimeError(f"generating {plugin}.lv2's Turtle failed:\n{done.stdout}{done.stderr}")


def build(dest: Path, dpf: Path = DPF, jobs: int = 2) -> dict[str, Path]:
    """Build every plugin in every format into ``dest`` unless already built; return their paths.

    The build happens in a sibling temporary directory renamed to ``dest`` at the end, so
    a ``dest`` that exists is complete (key ``dest`` by `source_hash` to rebuild on change).
    """
    dest = Path(dest)
    if not dest.is_dir():
        dest.parent.mkdir(parents=True, exist_ok=True)
        root = Path(tempfile.mkdtemp(prefix=f".{dest.name}-", dir=dest.parent))
        try:
            with ThreadPoolExecutor(jobs) as pool:
                # LV2 first: its builds take longest (DPF's Turtle exporter), so both cores stay busy.
                order = [(p, f) for f in ("lv2", "clap", "vst3") for p in PLUGINS]
                for job in [pool.submit(_compile, root, p, f, dpf) for p, f in order]:
                    job.result()
            os.rename(root, dest)
        except OSError:
            if not dest.is_dir():  # not a concurrent build winning the rename
                raise
        finally:
            shutil.rmtree(root, ignore_errors=True)
    return paths(dest)


if __name__ == "__main__":
    for name, path in build(Path(sys.argv[1]) / source_hash()).items():
        print(f"{name}: {path}")
