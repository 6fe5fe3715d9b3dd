"""Scanning for plugins: each candidate probed in a child process; hangs and crashes are
listed as failed with their reason; results cached until a file changes."""

import shutil
import subprocess
from pathlib import Path

import pytest

from mixtree.effects.plugins import scan as scanning

EG_AMP = Path("/usr/lib/lv2/eg-amp.lv2")


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A home without plugins and an LV2_PATH of one folder: only what a test adds is found."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    lv2 = tmp_path / "lv2"
    lv2.mkdir()
    monkeypatch.setenv("LV2_PATH", str(lv2))
    monkeypatch.setattr(scanning, "standard_paths", lambda: {"lv2": [lv2], "clap": [], "vst3": []})
    return tmp_path


def broken_clap(folder: Path, name: str, body: str) -> Path:
    """A .clap whose library runs the C statement ``body`` as it is loaded."""
    if shutil.which("gcc") is None:
        pytest.skip("needs gcc (the test set-up installs it)")
    source = folder / f"{name}.c"
    source.write_text(
        "#include <signal.h>\n#include <unistd.h>\n"
        f"__attribute__((constructor)) static void on_load(void) {{ {body} }}\n"
    )
    out = folder / f"{name}.clap"
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(out), str(source)], check=True)
    return out


def crashing_clap(folder: Path) -> Path:
    """A .clap whose library kills its process as it is loaded."""
    return broken_clap(folder, "Crash", "raise(SIGSEGV);")


def hanging_clap(folder: Path) -> Path:
    """A .clap whose library never finishes loading (as Debian's ZamVerb.vst3 now and then)."""
    return broken_clap(folder, "Hang", "for (;;) pause();")


def test_a_scan_lists_what_loads_and_why_the_rest_failed(home, dpf_plugins):
    if not EG_AMP.is_dir():
        pytest.skip("needs lv2-examples (the test set-up installs it)")
    (home / "lv2" / EG_AMP.name).symlink_to(EG_AMP)
    extra = home / "extra"
    extra.mkdir()
    shutil.copy(dpf_plugins["mtgain.clap"], extra / "mtgain.clap")
    (extra / "Garbage.clap").write_bytes(b"not a shared library")
    crashing_clap(extra)
    cache = home / "plugins.json"
    results = {Path(r.path).name: r for r in scanning.scan([extra], timeout=30.0, cache=cache)}
    assert results["eg-amp.lv2"].ok and results["eg-amp.lv2"].plugins[0].uri == "http://lv2plug.in/plugins/eg-amp"
    assert results["mtgain.clap"].ok and results["mtgain.clap"].plugins[0].format == "clap"
    assert not results["Garbage.clap"].ok and "Garbage.clap" in results["Garbage.clap"].error
    assert results["Crash.clap"].error == "crashed while loading (SIGSEGV)"
    assert [r.path for r in scanning.cached(cache)] == [r.path for r in results.values()]


def test_a_plugin_that_hangs_on_load_is_listed_as_failed(home):
    extra = home / "extra"
    extra.mkdir()
    hanging_clap(extra)
    (result,) = scanning.scan([extra], timeout=3.0, cache=home / "c.json")
    assert result.error == "did not load within 3 s (it hangs)"


def test_a_second_scan_reuses_results_until_a_file_changes(home, dpf_plugins, monkeypatch):
    extra = home / "extra"
    extra.mkdir()
    gain = extra / "mtgain.clap"
    shutil.copy(dpf_plugins["mtgain.clap"], gain)
    cache = home / "c.json"
    first = scanning.scan([extra], cache=cache)
    probed = []
    real = scanning.probe
    monkeypatch.setattr(scanning, "probe", lambda *a, **k: probed.append(a) or real(*a, **k))
    assert scanning.scan([extra], cache=cache) == first and probed == []
    gain.write_bytes(gain.read_bytes() + b"\0")  # changed: probed again
    scanning.scan([extra], cache=cache)
    assert [Path(a[1]).name for a in probed] == ["mtgain.clap"]


def test_mixtree_plugins_scan_and_list_print_what_was_found(home, dpf_plugins, capsys, monkeypatch):
    from mixtree.cli.main import main

    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    extra = home / "extra"
    extra.mkdir()
    shutil.copy(dpf_plugins["mtgain.clap"], extra / "mtgain.clap")
    (extra / "Garbage.clap").write_bytes(b"junk")
    assert main(["plugins", "list"]) == 0
    assert "no scan yet" in capsys.readouterr().out
    assert main(["plugins", "scan", "--path", str(extra)]) == 0
    scanned = capsys.readouterr().out
    assert "clap mtgain" in scanned and "FAILED clap" in scanned and "1 failed to load" in scanned
    assert main(["plugins", "list"]) == 0
    assert capsys.readouterr().out == scanned


def test_a_plugin_the_last_scan_saw_crash_is_refused_without_loading_it(home, monkeypatch):
    from mixtree import effects as fx
    from mixtree.errors import PluginError

    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    extra = home / "extra"
    extra.mkdir()
    crash = crashing_clap(extra)
    scanning.scan([extra], timeout=10.0)
    with pytest.raises(PluginError, match=r"the last scan saw it fail \(crashed while loading \(SIGSEGV\)\)"):
        fx.Plugin(str(crash))  # loading it would kill this process
