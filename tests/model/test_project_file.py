import json
import math

import numpy as np
import pytest

import mixtree as mt
from mixtree.model.project_file import VERSION


def _session(project, ones, ramp):
    a = project.pool.load(ones)
    b = project.pool.load(ramp)
    t = project.add_audio_track("One", volume_db=-6.0, pan=-0.5)
    t.add_clip(
        a,
        start=0.25,
        duration=1.0,
        offset=0.5,
        gain_db=-3.0,
        fade_in=0.1,
        fade_out=0.2,
        fade_curve="s_curve",
    )
    u = project.add_audio_track("Ramp", mute=True)
    u.add_clip(b, start=1.0, reversed=True)
    project.add_audio_track("Closed", volume_db=-math.inf)
    project.master.volume_db = -1.0
    return project


def test_save_load_round_trips_ids_values_and_render(project, ones, ramp, tmp_path):
    p = _session(project, ones, ramp)
    path = p.save(tmp_path / "song.json")
    q = mt.Project.load(path)
    assert [t.id for t in q.tracks] == [t.id for t in p.tracks]
    for a, b in zip(p.tracks, q.tracks, strict=True):
        assert a.edited_fields() == b.edited_fields()
    assert q.master.volume_db == -1.0
    assert np.array_equal(q.render(), p.render())
    # the next id continues after the loaded ones
    assert q.add_audio_track("New").id == p._next_id


def test_media_paths_are_relative_to_the_project_file(project, ones, ramp, tmp_path):
    path = _session(project, ones, ramp).save(tmp_path / "song.json")
    doc = json.loads(path.read_text())
    assert {s["path"] for s in doc["sources"]} == {"ones.wav", "ramp.wav"}


def test_broken_files_name_the_file_and_the_place(project, ones, ramp, tmp_path):
    path = _session(project, ones, ramp).save(tmp_path / "song.json")
    text = path.read_text()
    (tmp_path / "cut.json").write_text(text[: len(text) // 2])
    with pytest.raises(mt.ProjectFileError, match=r"'.*cut.json' at line \d+: not valid JSON"):
        mt.Project.load(tmp_path / "cut.json")

    doc = json.loads(text)
    doc["version"] = VERSION + 1
    (tmp_path / "future.json").write_text(json.dumps(doc))
    with pytest.raises(mt.ProjectFileError, match=f"newer mixtree \\(format {VERSION + 1}; this one reads up to"):
        mt.Project.load(tmp_path / "future.json")

    doc = json.loads(text)
    doc["tracks"][0]["pan"] = 7
    (tmp_path / "pan.json").write_text(json.dumps(doc))
    with pytest.raises(mt.ProjectFileError, match=r"at tracks\[0\].pan: pan must be within"):
        mt.Project.load(tmp_path / "pan.json")

    doc = json.loads(text)
    doc["tracks"][0]["clips"][0]["source"] = 999
    (tmp_path / "dangling.json").write_text(json.dumps(doc))
    with pytest.raises(mt.ProjectFileError, match=r"clips\[0\].source: no source with id 999"):
        mt.Project.load(tmp_path / "dangling.json")

    doc = json.loads(text)
    doc["sample_rate"] = 0
    (tmp_path / "rate.json").write_text(json.dumps(doc))
    with pytest.raises(mt.ProjectFileError, match="at sample_rate"):
        mt.Project.load(tmp_path / "rate.json")

    doc = json.loads(text)
    del doc["tracks"][1]["name"]
    (tmp_path / "noname.json").write_text(json.dumps(doc))
    with pytest.raises(mt.ProjectFileError, match=r"tracks\[1\]: missing field 'name'"):
        mt.Project.load(tmp_path / "noname.json")


def test_missing_media_opens_offline_with_a_warning_and_relinks(project, ones, ramp, tmp_path):
    p = _session(project, ones, ramp)
    expected = p.render()
    path = p.save(tmp_path / "song.json")
    moved = ramp.rename(tmp_path / "moved.wav")
    with pytest.warns(mt.MediaWarning, match=r"offline media.*ramp.wav \(no such file\)"):
        q = mt.Project.load(path)
    (offline,) = q.pool.offline
    assert offline.path.name == "ramp.wav" and offline.frames == 48000 and not offline.data.any()
    q.relink("ramp.wav", moved)
    assert q.pool.offline == [] and np.array_equal(q.render(), expected)
    q.undo()
    assert q.pool.offline == [offline]


def test_changed_media_opens_offline_too(project, ones, ramp, tmp_path):
    path = _session(project, ones, ramp).save(tmp_path / "song.json")
    import soundfile as sf

    sf.write(str(ones), np.zeros((2 * 48000, 1), np.float32), 48000, subtype="FLOAT")
    with pytest.warns(mt.MediaWarning, match="content changed"):
        q = mt.Project.load(path)
    assert [s.path.name for s in q.pool.offline] == ["ones.wav"]


def test_save_replaces_the_file_atomically(project, ones, ramp, tmp_path):
    p = _session(project, ones, ramp)
    path = p.save(tmp_path / "song.json")
    p.save(path)
    assert [f.name for f in tmp_path.iterdir() if f.suffix == ".tmp"] == []
