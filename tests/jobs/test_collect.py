"""Collecting a project with its media into one folder, never overwriting anything."""

import numpy as np
import pytest

import mixtree as mt
from mixtree.jobs.collect import collect
from tests.conftest import RATE, sine


def _song(folder, wav, tone):
    folder.mkdir()
    p = mt.Project(sample_rate=RATE)
    src = p.pool.load(wav(sine(tone, 0.5), name=f"{folder.name}-src.wav"))
    src_path = folder / "kick.wav"
    src.path.rename(src_path)
    p.relink(src.id, src_path)
    p.add_audio_track("T").add_clip(src)
    return p.save(folder / f"{folder.name}.json")


def test_media_of_the_same_name_but_other_content_get_names_of_their_own(tmp_path, wav):
    a, c = _song(tmp_path / "a", wav, 220), _song(tmp_path / "c", wav, 660)
    expected = {a: mt.Project.load(a).render(), c: mt.Project.load(c).render()}
    collected = {a: collect(a, tmp_path / "out"), c: collect(c, tmp_path / "out")}
    assert sorted(p.name for p in (tmp_path / "out" / "media").iterdir()) == ["kick-2.wav", "kick.wav"]
    for original, copy in collected.items():
        q = mt.Project.load(copy)
        assert q.pool.offline == [] and np.array_equal(q.render(), expected[original])


def test_the_same_content_is_reused_not_copied_again(tmp_path, wav):
    a = _song(tmp_path / "a", wav, 220)
    b = tmp_path / "b" / "b.json"
    b.parent.mkdir()
    mt.Project.load(a).save(b)  # another project on the same medium
    collect(a, tmp_path / "out")
    collect(b, tmp_path / "out")
    assert [p.name for p in (tmp_path / "out" / "media").iterdir()] == ["kick.wav"]


def test_a_project_file_already_in_the_folder_is_never_overwritten(tmp_path, wav):
    a = _song(tmp_path / "a", wav, 220)
    first = collect(a, tmp_path / "out")
    before = first.read_bytes()
    with pytest.raises(ValueError, match=r"'.*out/a\.json' exists already: collect into another folder"):
        collect(a, tmp_path / "out")
    assert first.read_bytes() == before


def test_collecting_into_the_projects_own_folder_is_refused(tmp_path, wav):
    song = _song(tmp_path / "a", wav, 220)
    before = song.read_bytes()
    with pytest.raises(ValueError, match=r"is the folder the project is in already: collect it into another folder"):
        collect(song, tmp_path / "a")
    assert song.read_bytes() == before
