"""The same jobs as Ray tasks on a local Ray instance (2 CPUs) give the same files as the local pool."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

import mixtree.batch as batch
from mixtree.batch import Job
from mixtree.errors import MissingDependencyError
from tests.batch.conftest import SRC, make_project, sweep
from tests.batch.effects import ONCE


@pytest.fixture(scope="module")
def marker(tmp_path_factory) -> Path:
    """The file `KillOnce` creates as it kills its Ray worker (Ray workers take their
    environment from ``ray.init``)."""
    return tmp_path_factory.mktemp("ray-kill") / "killed-once"


@pytest.fixture(scope="module")
def ray(marker):
    ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'mixtree[ray]')")
    path = os.pathsep.join([SRC, str(Path(SRC).parent)])  # this checkout, not an installed mixtree
    try:
        ray.init(
            num_cpus=2,
            include_dashboard=False,
            log_to_driver=False,
            runtime_env={"env_vars": {"PYTHONPATH": path, ONCE: str(marker)}},
        )
    except Exception as exc:  # noqa: BLE001 - whatever stops Ray starting here is the reason to skip
        pytest.skip(f"Ray cannot start here: {exc}")
    yield ray
    ray.shutdown()


def test_a_grid_on_ray_writes_the_same_files_and_rows_as_the_local_pool(ray, local_run, tmp_path):
    _, _, local = local_run
    _, jobs = sweep(tmp_path)
    report = batch.render(jobs, cluster="ray")
    assert report.backend == "ray" and len(report.rows) == 54
    assert [r["index"] for r in report.failures] == [52, 53]
    assert report.rows[53]["error"].startswith("ProjectFileError")
    assert [r["sha256"] for r in report.rows[:52]] == [r["sha256"] for r in local.rows[:52]]
    for ours, theirs in zip(report.rows[:52], local.rows[:52], strict=True):
        assert (ours["peak"], ours["loudness_lufs"]) == (theirs["peak"], theirs["loudness_lufs"])
    assert {r["worker"] for r in report.rows[:52]}.isdisjoint({r["worker"] for r in local.rows})
    again = batch.render(jobs[:52], cluster="ray")
    assert again.skipped == 52


def test_a_ray_task_whose_worker_dies_is_retried_once_then_reported(ray, marker, tmp_path):
    killer = make_project(tmp_path / "k", killer=True).save(tmp_path / "k" / "killer.json")
    out = tmp_path / "out"
    jobs = [
        Job(killer, {}, out=str(out / "fine.wav"), index=0),
        Job(killer, {"Bass.KillOnce.armed": "on"}, out=str(out / "once.wav"), index=1),
        Job(killer, {"Bass.Killer.armed": "on"}, out=str(out / "dies.wav"), index=2),
    ]
    report = batch.render(jobs, cluster="ray", imports=["tests.batch.effects"])
    fine, once, dies = report.rows
    assert fine["error"] is None and once["error"] is None and marker.exists()
    assert dies["attempts"] == 2 and dies["error"].startswith("WorkerDied")


def test_cluster_ray_without_ray_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'mixtree\[ray\]'"):
        batch.render([Job("song.json", out=str(tmp_path / "a.wav"))], cluster="ray")
    with pytest.raises(ValueError, match="cluster must be one of"):
        batch.render([], cluster="spark")


def test_a_project_in_memory_goes_to_ray_once_and_renders_as_it_does_here(ray, tmp_path):
    p = make_project(tmp_path / "mem")
    jobs = batch.grid(p, {"Drums.volume_db": [-12.0, -6.0, 0.0]}, out=str(tmp_path / "ray" / "{index}.wav"))
    here = batch.grid(p, {"Drums.volume_db": [-12.0, -6.0, 0.0]}, out=str(tmp_path / "here" / "{index}.wav"))
    on_ray = batch.render(jobs, cluster="ray")
    local = batch.render(here, workers=1)
    assert not on_ray.failures
    assert [r["sha256"] for r in on_ray.rows] == [r["sha256"] for r in local.rows]
