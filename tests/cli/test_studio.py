import json
import urllib.error
import urllib.request

import pytest

from mixtree.cli import main as cli
from mixtree.cli import studio as studio_cli
from tests.studio.conftest import make_song


def test_studio_prints_a_url_with_a_token_that_serves_the_project_until_ctrl_c(tmp_path, capsys, monkeypatch):
    make_song(tmp_path)
    urls = []

    def stop():
        out = capsys.readouterr().out
        urls.extend(w for w in out.split() if w.startswith("http://127.0.0.1:"))
        state = json.load(urllib.request.urlopen(urls[0] + "api/state", timeout=5))
        assert [t["name"] for t in state["tracks"]] == ["Keys", "Rhythm", "Drums", "Synth"]
        raise KeyboardInterrupt

    monkeypatch.setattr(studio_cli, "_idle", stop)
    status = cli.main(["studio", str(tmp_path / "song.json"), "--driver", "null", "--no-browser"])
    assert status == 130 and len(urls) == 1
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(urls[0] + "api/state", timeout=1.0)  # closed with the command


def test_studio_without_a_device_plays_through_the_null_driver_and_says_so(tmp_path, capsys, monkeypatch):
    import mixtree.engine.drivers as drivers

    make_song(tmp_path)

    def no_device(*args, **kwargs):
        raise OSError("no default output device")

    monkeypatch.setattr("mixtree.engine.engine.open_driver", _only_null(drivers.open_driver, no_device))
    monkeypatch.setattr(studio_cli, "_idle", _interrupt)
    status = cli.main(["studio", str(tmp_path / "song.json"), "--no-browser"])
    out = capsys.readouterr().out
    assert status == 130 and "null driver" in out and "no default output device" in out


def _only_null(real, fail):
    def open_driver(name, *args, **kwargs):
        return real(name, *args, **kwargs) if name == "null" else fail()

    return open_driver


def _interrupt():
    raise KeyboardInterrupt
