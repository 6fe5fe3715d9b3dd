import json
import math
import os
import shutil
import warnings

import numpy as np
import pytest

import mixtree as mt
from mixtree.model.document import VERSION


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
    assert q.add_audio_track("New").id == p.registry.next_id


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


# -- media the project rendered itself ----------------------------------------------------
def _bounced(project, ones):
    t = project.add_audio_track("Drums")
    t.add_clip(project.pool.load(ones), duration=0.5)
    t.add_effect(mt.effects.Gain(db=-6.0))
    return project.bounce(t.id)


def test_a_bounce_before_the_first_save_moves_beside_the_project_when_saved(project, ones, tmp_path):
    new = _bounced(project, ones)
    scratch = new.clips[0].source.path
    assert scratch.exists() and tmp_path not in scratch.parents
    expected = project.render()
    (tmp_path / "song").mkdir()
    path = project.save(tmp_path / "song" / "song.json")
    kept = new.clips[0].source.path
    assert kept.parent == tmp_path / "song" / "media" and kept.read_bytes() == scratch.read_bytes()
    scratch.unlink()  # the reboot: temporary folders are gone
    q = mt.Project.load(path)
    assert q.pool.offline == [] and np.array_equal(q.render(), expected)


def test_a_project_with_a_file_renders_straight_into_its_media_folder(project, ones, tmp_path):
    project.save(tmp_path / "song.json")
    new = _bounced(project, ones)
    assert new.clips[0].source.path.parent == tmp_path / "media"
    m = project.create_metatrack([project.tracks[0].id])
    project.freeze(m.id)
    assert m.frozen.path.parent == tmp_path / "media"
    q = mt.Project.load(project.save())
    assert np.array_equal(q.render(), project.render())


def test_saving_elsewhere_takes_the_rendered_media_along_and_leaves_the_old_project_whole(project, ones, tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    project.save(tmp_path / "a" / "song.json")
    new = _bounced(project, ones)
    project.save()
    project.save(tmp_path / "b" / "song.json")
    assert new.clips[0].source.path.parent == tmp_path / "b" / "media"
    assert (tmp_path / "a" / "media" / new.clips[0].source.path.name).exists()
    assert mt.Project.load(tmp_path / "a" / "song.json").pool.offline == []


# -- autosaves a crashed session left ------------------------------------------------------
def _crashed(project, ones, tmp_path):
    project.add_audio_track("T").add_clip(project.pool.load(ones))
    path = project.save(tmp_path / "song.json")
    project.tracks[0].volume_db = -12.0
    auto = project.autosave()
    os.utime(path, (1, 1))  # the crash: the file is older than its autosave
    return path, auto


def test_opening_beside_an_autosave_warns_and_saving_keeps_it(project, ones, tmp_path):
    path, auto = _crashed(project, ones, tmp_path)
    waiting = r"1 autosave\(s\) hold work .*\.song\.json\.autosave.*newer than the file"
    with pytest.warns(mt.RecoveryWarning, match=waiting):
        q = mt.Project.load(path)
    q.tracks[0].pan = 0.5
    q.save()
    assert auto.exists()  # a save never deletes work it does not hold
    with pytest.warns(mt.RecoveryWarning, match="older than the file"):
        mt.Project.load(path)
    assert mt.Project.load(path, recover=True).tracks[0].volume_db == -12.0


def test_a_session_opened_beside_an_autosave_autosaves_under_another_name(project, ones, tmp_path):
    path, auto = _crashed(project, ones, tmp_path)
    before = auto.read_bytes()
    with pytest.warns(mt.RecoveryWarning):
        q = mt.Project.load(path)
    q.tracks[0].pan = -0.5
    mine = q.autosave()
    assert mine != auto and auto.read_bytes() == before
    with pytest.warns(mt.RecoveryWarning, match="1 autosave"):  # the older one still waits
        assert mt.Project.load(path, recover=True).tracks[0].pan == -0.5  # the newest
    q.save()
    assert not mine.exists() and auto.exists()


def test_recovering_then_saving_deletes_the_autosave_and_discard_deletes_them_all(project, ones, tmp_path):
    path, auto = _crashed(project, ones, tmp_path)
    q = mt.Project.load(path, recover=True)
    q.save()
    assert not auto.exists()
    (tmp_path / "x").mkdir()
    path, auto = _crashed(mt.Project(sample_rate=48000), ones, tmp_path / "x")
    assert mt.discard_autosaves(path) == [auto] and not auto.exists()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mt.Project.load(path)


def test_the_cli_bounce_keeps_a_crashed_sessions_autosave(project, ones, tmp_path, capsys):
    from mixtree.cli.main import main

    path, auto = _crashed(project, ones, tmp_path)
    assert main(["bounce", str(path), "T"]) == 0
    assert auto.exists()
    assert "autosave" in capsys.readouterr().out


# -- saving safely ---------------------------------------------------------------------------
def test_a_full_disk_while_backing_up_leaves_the_file_and_the_old_backup_whole(project, ones, tmp_path, monkeypatch):
    project.add_audio_track("T")
    path = project.save(tmp_path / "song.json")
    project.tracks[0].name = "U"
    project.save()
    backup = (tmp_path / "song.json.bak").read_bytes()
    current = path.read_bytes()
    real = shutil.copyfile

    def full(src, dst, *args, **kwargs):
        real(src, dst, *args, **kwargs)
        with open(dst, "r+b") as f:  # the disk filled up halfway through the copy
            f.truncate(len(current) // 2)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(shutil, "copyfile", full)
    project.tracks[0].name = "V"
    with pytest.raises(mt.SaveError, match=r"cannot save project '.*song\.json': No space left on device"):
        project.save()
    assert (tmp_path / "song.json.bak").read_bytes() == backup and path.read_bytes() == current
    assert [f.name for f in tmp_path.iterdir() if f.name.startswith(".")] == []  # no temporary file left


def test_a_failed_save_names_the_project_not_its_temporary_file(project, tmp_path):
    named = r"cannot save project '.*nowhere/song\.json': the folder '.*nowhere' does not exist"
    with pytest.raises(mt.SaveError, match=named):
        project.save(tmp_path / "nowhere" / "song.json")
    assert project.path is None


def test_saving_a_bounced_project_into_a_missing_folder_creates_nothing(project, ones, tmp_path):
    _bounced(project, ones)
    with pytest.raises(mt.SaveError, match="does not exist"):
        project.save(tmp_path / "nowhere" / "deeper" / "song.json")
    assert not (tmp_path / "nowhere").exists()


def test_a_number_too_long_for_python_is_invalid_json_not_messagepack(project, tmp_path):
    path = project.save(tmp_path / "song.json")
    path.write_text(path.read_text().replace('"next_id": 2', '"next_id": ' + "9" * 5000))
    with pytest.raises(mt.ProjectFileError, match="not valid JSON"):
        mt.Project.load(path)
