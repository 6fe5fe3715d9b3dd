import pytest

from mixtree.batch import Job, Snapshot, grid
from mixtree.batch.jobs import load_project
from tests.batch.conftest import make_project


def test_grid_crosses_every_value_list_last_varying_fastest(song, tmp_path):
    jobs = grid(song, {"Drums.volume_db": [-12, -6, 0], "Verb.mix": [0.1, 0.3]}, out=str(tmp_path / "{index:05d}.flac"))
    assert [j.parameters for j in jobs] == [
        {"Drums.volume_db": a, "Verb.mix": b} for a in (-12, -6, 0) for b in (0.1, 0.3)
    ]
    assert [j.index for j in jobs] == list(range(6))
    assert jobs[4].out == str(tmp_path / "00004.flac")


def test_a_list_of_mappings_makes_one_job_each_and_templates_name_the_project(song, tmp_path):
    jobs = grid(song, [{"Drums.pan": -1}, {"Drums.pan": 1}], out=str(tmp_path / "{project}-{index}.wav"), duration=0.5)
    assert [j.out for j in jobs] == [str(tmp_path / "song-0.wav"), str(tmp_path / "song-1.wav")]
    assert all(j.duration == 0.5 for j in jobs)


def test_grid_refuses_an_address_or_value_the_project_does_not_have(song, tmp_path):
    with pytest.raises(ValueError, match="names no track"):
        grid(song, {"Snare.volume_db": [0]}, out=str(tmp_path / "{index}.wav"))
    with pytest.raises(ValueError, match="Verb.mix"):
        grid(song, {"Verb.mix": [0.5, 2.0]}, out=str(tmp_path / "{index}.wav"))


def test_a_project_that_cannot_be_opened_still_makes_jobs_to_fail_in_their_rows(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{ not json")
    jobs = grid(bad, {"Drums.volume_db": [0, 1]}, out=str(tmp_path / "{index}.wav"))
    assert len(jobs) == 2


def test_a_job_writes_something_in_a_known_format():
    with pytest.raises(ValueError, match=r"a mix \(out=\) or stems"):
        Job("song.json")
    with pytest.raises(ValueError, match="extension"):
        Job("song.json", out="x.xyz")
    with pytest.raises(ValueError, match="normalize_lufs"):
        Job("song.json", out="x.wav", normalize_lufs=6.0)


def test_the_key_changes_with_parameters_range_and_project_bytes(song, tmp_path):
    a = Job(song, {"Verb.mix": 0.1}, out="x.wav")
    assert a.key == Job(song, {"Verb.mix": 0.1}, out="x.wav", index=5).key
    assert a.key != Job(song, {"Verb.mix": 0.2}, out="x.wav").key
    assert a.key != Job(song, {"Verb.mix": 0.1}, out="x.wav", duration=0.1).key
    before = a.key
    song.write_text(song.read_text().replace('"Bass"', '"Bass2"'))
    assert a.key != before


def test_a_project_in_memory_travels_as_a_snapshot_that_loads_fresh_each_time(tmp_path):
    p = make_project(tmp_path)
    (job,) = grid(p, None, out=str(tmp_path / "mix.wav"))
    assert isinstance(job.project, Snapshot)
    one, two = load_project(job.project), load_project(job.project)
    assert one is not two and [t.name for t in one.tracks] == [t.name for t in p.tracks]
    assert (one.render() == p.render()).all()
