"""The local pool on a grid of 54 jobs (one run shared by the tests), workers that die, resumption."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyloudnorm
import pytest
import soundfile as sf

import mixtree.batch as batch
from mixtree.batch import Job, read_rows
from mixtree.batch.jobs import load_project
from mixtree.io.audio_file import read
from tests.batch.conftest import SRC, make_project
from tests.batch.effects import ONCE


def test_every_grid_job_renders_and_one_failure_does_not_stop_the_others(local_run):
    _, jobs, report = local_run
    assert len(report.rows) == 54 and report.skipped == 0
    assert [r["index"] for r in report.rows] == list(range(54))
    assert [r["index"] for r in report.failures] == [52, 53]
    for row in report.rows[:52]:
        assert row["error"] is None and Path(row["outputs"][0]).exists()
    assert len({r["worker"] for r in report.rows[:52]}) == 2  # each worker ran many jobs


def test_a_job_that_raises_says_why_in_its_row(local_run):
    row = local_run[2].rows[52]
    assert row["error"].startswith("ValueError: 'Verb.mix'") and "traceback" in row
    assert not Path(local_run[1][52].out).exists()


def test_a_corrupt_project_file_fails_its_job_naming_the_file(local_run):
    row = local_run[2].rows[53]
    assert row["error"].startswith("ProjectFileError: cannot load project") and "corrupt.json" in row["error"]


def test_a_job_renders_bit_identical_audio_to_project_render(local_run):
    song, jobs, report = local_run
    for k in (0, 17, 51):
        p = load_project(song)
        for address, value in jobs[k].parameters.items():
            batch.set_parameter(p, address, value)
        assert np.array_equal(read(report.rows[k]["outputs"][0]).data, p.render())


def test_the_manifest_holds_a_row_per_job_with_peak_and_loudness_as_pyloudnorm_measures(local_run):
    _, jobs, report = local_run
    rows = read_rows(report.manifest)
    assert [r["index"] for r in rows] == list(range(54))
    assert rows == json.loads(json.dumps(report.rows))
    row = rows[30]
    assert row["parameters"] == jobs[30].parameters
    audio, rate = sf.read(row["outputs"][0], dtype="float32")
    assert row["seconds"] == pytest.approx(audio.shape[0] / rate) == pytest.approx(0.6)
    assert row["peak"] == pytest.approx(float(np.abs(audio).max()))
    assert row["peak_db"] == pytest.approx(20 * np.log10(row["peak"]))
    assert row["loudness_lufs"] == pytest.approx(pyloudnorm.Meter(rate).integrated_loudness(audio.astype(np.float64)))
    assert row["render_time"] > 0 and row["rss_mb"] > 0 and row["attempts"] == 1 and row["worker"]
    louder = [r["loudness_lufs"] for r in rows[:52:13]]  # the drums up, the reverb dry
    assert louder == sorted(louder)


def test_the_manifest_is_also_parquet_with_a_column_per_parameter(local_run):
    pq = pytest.importorskip("pyarrow.parquet")
    report = local_run[2]
    table = pq.read_table(report.parquet).to_pylist()
    assert len(table) == 54 and table[5]["p:Verb.mix"] == pytest.approx(5 / 12)
    assert table[5]["loudness_lufs"] == pytest.approx(report.rows[5]["loudness_lufs"])


def test_a_rerun_skips_what_is_done_and_renders_what_is_missing_or_changed(local_run, tmp_path):
    _, jobs, first = local_run
    again = batch.render(jobs[:52], workers=1)
    assert again.skipped == 52 and again.rendered == 0 and again.rows == first.rows[:52]
    Path(first.rows[3]["outputs"][0]).unlink()
    with open(first.rows[7]["outputs"][0], "r+b") as f:
        f.seek(-4, 2)
        f.write(b"\0\0\0\1")
    third = batch.render(jobs[:52], workers=1)
    assert third.skipped == 50
    assert [k for k in range(52) if third.rows[k]["finished"] != first.rows[k]["finished"]] == [3, 7]
    assert third.rows[3]["sha256"] == first.rows[3]["sha256"]  # deterministic: the same bytes again
    assert len(read_rows(first.manifest)) == 54  # one row per job, still


def test_a_killed_worker_is_replaced_and_its_job_retried_once_then_reported(tmp_path, monkeypatch):
    killer = make_project(tmp_path / "k", killer=True).save(tmp_path / "k" / "killer.json")
    monkeypatch.setenv(ONCE, str(tmp_path / "killed-once"))
    out = tmp_path / "out"
    jobs = [
        Job(killer, {}, out=str(out / "fine.wav"), index=0),
        Job(killer, {"Bass.KillOnce.armed": "on"}, out=str(out / "once.wav"), index=1),
        Job(killer, {"Bass.Killer.armed": "on"}, out=str(out / "dies.wav"), index=2),
    ]
    report = batch.render(jobs, workers=2, imports=["tests.batch.effects"])
    fine, once, dies = report.rows
    assert once["error"] is None and once["attempts"] == 2
    assert dies["attempts"] == 2 and dies["error"].startswith("WorkerDied") and "SIGKILL" in dies["error"]
    assert fine["error"] is None and fine["attempts"] == 1
    assert sorted(p.name for p in out.iterdir()) == ["fine.wav", "manifest.jsonl", "manifest.parquet", "once.wav"]


CTRL_C = """
import signal
import sys
from pathlib import Path

import mixtree.batch as batch
from tests.batch.conftest import make_project

if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a terminal, even if started in the background
    folder = Path(sys.argv[1])
    song = make_project(folder / "song").save(folder / "song" / "song.json")
    out = str(folder / "renders" / "{index:05d}.wav")
    jobs = batch.grid(song, {"Verb.mix": [k / 400 for k in range(400)]}, out=out)
    try:
        batch.render(jobs, workers=2)
    except KeyboardInterrupt:
        sys.exit(130)
"""


def test_ctrl_c_stops_cleanly_and_the_manifest_lists_exactly_the_finished_jobs(tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([SRC, str(Path(SRC).parent)])}
    script = tmp_path / "run.py"
    script.write_text(CTRL_C)
    child = subprocess.Popen([sys.executable, str(script), str(tmp_path)], env=env, cwd=tmp_path)
    manifest = tmp_path / "renders" / "manifest.jsonl"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not manifest.exists() or len(manifest.read_text().splitlines()) < 4):
        time.sleep(0.02)
    child.send_signal(signal.SIGINT)
    assert child.wait(30) == 130
    rows = read_rows(manifest)
    assert 4 <= len(rows) < 400 and all(r["error"] is None for r in rows)
    written = {p.name for p in (tmp_path / "renders").iterdir() if p.suffix == ".wav"}
    recorded = {Path(r["outputs"][0]).name for r in rows}
    # a worker stopped between writing its file (whole: written aside, then renamed) and
    # sending its row leaves a file no row claims, which a re-run renders again
    assert recorded <= written and len(written - recorded) <= 2
    assert not [p for p in (tmp_path / "renders").iterdir() if p.name.startswith(".")]


def test_a_module_of_effects_that_does_not_import_fails_before_any_worker_starts(tmp_path):
    job = Job(make_project(tmp_path / "s").save(tmp_path / "s" / "s.json"), {}, out=str(tmp_path / "x.wav"))
    with pytest.raises(ModuleNotFoundError, match="no_such_module_of_effects"):
        batch.render([job], workers=1, imports=["no_such_module_of_effects"])


def test_a_job_that_cannot_be_sent_to_a_worker_fails_in_its_row_and_the_others_go_on(tmp_path):
    song = make_project(tmp_path / "s").save(tmp_path / "s" / "s.json")
    unsendable = Job(song, {"Drums.volume_db": _Unpicklable()}, out=str(tmp_path / "a.wav"), index=0)
    fine = Job(song, {"Drums.volume_db": -6.0}, out=str(tmp_path / "b.wav"), index=1)
    report = batch.render([unsendable, fine], workers=1)
    rows = {row["index"]: row for row in report.rows}
    assert "pickle" in rows[0]["error"].lower() and rows[1]["error"] is None


class _Unpicklable(float):
    def __reduce__(self):
        raise TypeError("cannot pickle this value")


def test_what_a_worker_killed_mid_write_left_is_swept_and_nothing_else(song, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    left = [out / ".mix.part-4242.wav", out / ".stems.part-4242"]  # as a SIGKILL leaves them
    left[0].write_bytes(b"RIFF half a file")
    left[1].mkdir()
    (left[1] / "01 Drums.wav").write_bytes(b"RIFF")
    mine = out / ".mix.notes.txt"  # the user's: not a part file of this batch
    mine.write_text("keep")
    job = Job(song, {}, out=str(out / "mix.wav"), stems=str(out / "stems"), index=0, duration=0.5)
    report = batch.render([job], workers=1)
    assert report.rows[0]["error"] is None
    assert not any(p.exists() for p in left) and mine.read_text() == "keep"
    assert (out / "mix.wav").is_file() and (out / "stems").is_dir()
