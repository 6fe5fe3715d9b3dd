import json

import pytest

from mixtree.batch import read_rows
from mixtree.cli.main import main


def test_batch_command_renders_a_grid_normalised_with_stems_and_reports_a_corrupt_project(song, tmp_path, capsys):
    params = tmp_path / "params.json"
    params.write_text(json.dumps({"Drums.volume_db": [-12, 0]}))
    bad = tmp_path / "bad.json"
    bad.write_text("[")
    out = tmp_path / "out"
    argv = [str(song), str(bad), "-o", str(out), "--grid", str(params), "--workers", "1"]
    status = main(["batch", *argv, "--stems", "--format", "wav", "--normalize", "-14LUFS"])
    printed = capsys.readouterr().out
    assert status == 1 and "2 rendered, 2 failed, 0 skipped" in printed and "bad.json" in printed
    rows = read_rows(out / "manifest.jsonl")
    assert [r["outputs"][0] for r in rows[:2]] == [str(out / "song" / "00000.wav"), str(out / "song" / "00001.wav")]
    assert [r["loudness_lufs"] for r in rows[:2]] == [pytest.approx(-14.0, abs=0.01)] * 2
    assert sorted(p.name for p in (out / "song" / "00001-stems").iterdir()) == [
        "01 Verb.wav",
        "02 Drums.wav",
        "03 Bass.wav",
    ]


def test_batch_command_refuses_a_grid_address_the_project_lacks(song, tmp_path, capsys):
    params = tmp_path / "params.json"
    params.write_text(json.dumps({"Snare.volume_db": [0]}))
    assert main(["batch", str(song), "-o", str(tmp_path / "o"), "--grid", str(params)]) == 1
    assert "names no track" in capsys.readouterr().err
