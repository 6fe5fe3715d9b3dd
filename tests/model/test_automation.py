"""Automation lanes in the model: one address per parameter, checked points, undo, files."""

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

import mixtree as mt
from mixtree import effects as fx
from mixtree.model import document
from mixtree.model.automation import Address, Point

DATA = Path(__file__).parent.parent / "data" / "projects"


@pytest.fixture
def bass(project):
    return project.add_audio_track("Bass")


def test_a_lane_is_made_on_first_use_and_keeps_its_points_sorted(project, bass):
    lane = bass.automate("volume_db")
    assert bass.automate("volume_db") is lane and lane.address == Address(bass.id, "volume_db")
    lane.add_point(4.0, -30.0, shape="bend", tension=0.4)
    lane.add_point(2.0, -6.0, shape="linear")
    lane.add_point(5.0, -30.0, shape="hold")
    assert lane.points == [(2.0, -6.0, "linear", 0.0), (4.0, -30.0, "bend", 0.4), (5.0, -30.0, "hold", 0.0)]
    assert lane.value_at(0.0) == -6.0 and lane.value_at(3.0) == -18.0 and lane.value_at(9.0) == -30.0
    lane.remove_point(0)
    assert lane.points[0].time == 4.0
    lane.clear()
    assert lane.points == [] and lane.value_at(1.0) is None


def test_every_kind_of_parameter_has_an_address(project, bass):
    bus = project.add_bus("Verb")
    send = bass.add_send(bus.id)
    comp = bass.add_effect(fx.Compressor())
    group = project.create_metatrack([bass.id])
    lanes = [
        bass.automate("pan"),
        bass.automate("mute"),
        send.automate("level_db"),
        comp.automate("threshold_db"),
        comp.automate("Ratio"),  # an effect parameter by its name too
        group.automate("speed"),
    ]
    assert [lane.address for lane in lanes] == [
        (bass.id, "pan"),
        (bass.id, "mute"),
        (send.id, "level_db"),
        (comp.id, "threshold_db"),
        (comp.id, "ratio"),
        (group.id, "speed"),
    ]
    assert project.automate(Address(comp.id, "threshold_db")) is lanes[3]
    assert set(project.lanes) == set(lanes)


@pytest.mark.parametrize(
    ("point", "message"),
    [
        ((1.0, math.nan, "linear", 0.0), r"point 0 \(1\.0, nan, 'linear', 0\.0\): volume_db must be within"),
        ((1.0, 30.0, "linear", 0.0), "volume_db must be within -150..24, not 30.0"),
        ((math.inf, 0.0, "linear", 0.0), "time must be within"),
        ((1.0, 0.0, "wobble", 0.0), "shape must be one of hold, linear"),
        ((1.0, 0.0, "bend", 1.5), r"tension must be within -1\.\.1, not 1\.5"),
        ((1.0, 0.0, "linear"), r"a point is \(time, value, shape, tension\)"),
    ],
)
def test_bad_points_name_the_lane_and_the_point_and_change_nothing(project, bass, point, message):
    lane = bass.automate("volume_db")
    history = list(project.history)
    with pytest.raises(ValueError, match=r"volume_db of 'Bass': .*" + message):
        lane.set_points([point])
    assert lane.points == [] and project.history == history


def test_shapes_that_cannot_fit_a_parameter_are_refused(project, bass):
    with pytest.raises(ValueError, match="mute takes steps only: its shape must be 'hold'"):
        bass.automate("mute").add_point(1.0, 1, shape="linear")
    pan = bass.automate("pan")
    pan.add_point(0.0, -0.5, shape="geometric")
    with pytest.raises(ValueError, match="a geometric segment needs values of one sign, not -0.5 to 0.5"):
        pan.add_point(1.0, 0.5)
    assert len(pan.points) == 1
    with pytest.raises(ValueError, match="'gain' of 'Bass' is not a parameter that can be automated"):
        bass.automate("gain")


def test_an_effect_outside_a_project_cannot_be_automated():
    with pytest.raises(ValueError, match="not in a project"):
        fx.Gain().automate("db")


def test_every_lane_edit_is_undoable_and_lanes_leave_with_their_owner(project, bass):
    lane = bass.automate("volume_db")
    lane.add_point(1.0, -6.0)
    lane.add_point(2.0, -12.0)
    lane.mode = "touch"
    project.undo()
    assert lane.mode == "read"
    project.undo()
    assert len(lane.points) == 1
    project.redo()
    assert len(lane.points) == 2
    project.remove_track(bass.id)
    assert project.lanes == []
    project.undo()
    assert project.lanes == [lane] and len(lane.points) == 2
    while project.undo():
        pass
    assert project.lanes == [] and bass.lanes == {}


def test_lanes_survive_save_and_load_with_their_modes_and_time_bases(project, bass, tmp_path):
    bass.automate("volume_db").set_points([(1.0, -6.0, "s_curve", 0.0), (2.0, -150.0, "hold", 0)])
    pan = bass.automate("pan")
    pan.time_base = "beats"
    pan.set_points([(0.0, -1.0, "bend", -0.25), (8.0, 1.0, "linear", 0.0)])
    pan.mode = "latch"
    comp = bass.add_effect(fx.Compressor())
    comp.automate("threshold_db").add_point(0.5, -30.0, "fast_end")
    bus = project.add_bus("B")
    bass.add_send(bus.id).automate().add_point(0.0, -12.0)
    project.create_metatrack([bass.id]).automate("speed").set_points([(0, 1.0, "geometric", 0), (2, 0.5, "hold", 0)])
    path = project.save(tmp_path / "song.json")
    q = mt.Project.load(path)
    assert {(lane.label, tuple(lane.points), lane.mode, lane.time_base) for lane in q.lanes} == {
        (lane.label, tuple(lane.points), lane.mode, lane.time_base) for lane in project.lanes
    }
    assert np.array_equal(q.render(0.0, 2.5), project.render(0.0, 2.5))
    mtp = mt.Project.load(project.save(tmp_path / "song.mtp"))
    assert document.to_document(mtp, tmp_path) == document.to_document(q, tmp_path)


def test_a_broken_lane_in_a_file_is_an_error_naming_its_place(project, bass, tmp_path):
    bass.automate("volume_db").add_point(1.0, -6.0)
    path = project.save(tmp_path / "song.json")
    doc = json.loads(path.read_text())
    lane = doc["tracks"][0]["automation"]["volume_db"]
    for field, value, message in [
        ("points", [[1.0, 99.0, "linear", 0.0]], "volume_db must be within -150..24, not 99.0"),
        ("points", [[1.0, 0.0, "zigzag", 0.0]], "shape must be one of"),
        ("mode", "sometimes", "mode must be one of off, read, touch, latch, write"),
        ("colour", "red", "a lane has no field 'colour'"),
    ]:
        broken = json.loads(json.dumps(doc))
        broken["tracks"][0]["automation"]["volume_db"][field] = value
        (tmp_path / "bad.json").write_text(json.dumps(broken))
        with pytest.raises(mt.ProjectFileError, match=rf"at tracks\[0\]\.automation\.volume_db: .*{message}"):
            mt.Project.load(tmp_path / "bad.json")
    broken = json.loads(json.dumps(doc))
    broken["tracks"][0]["automation"] = {"loudness": lane}
    (tmp_path / "bad.json").write_text(json.dumps(broken))
    with pytest.raises(mt.ProjectFileError, match="'loudness' of 'Bass' is not a parameter that can be automated"):
        mt.Project.load(tmp_path / "bad.json")


def test_format_2_files_migrate(tmp_path):
    shutil.copytree(DATA / "v2", tmp_path / "v2")
    p = mt.Project.load(tmp_path / "v2" / "song.json")
    assert [t.name for t in p.tracks] == ["Group", "Tone", "Keys", "Verb", "Host"] and p.lanes == []
    again = mt.Project.load(p.save(tmp_path / "v2" / "song3.json"))
    assert json.loads((tmp_path / "v2" / "song3.json").read_text())["version"] == document.VERSION == 3
    assert np.array_equal(again.render(), p.render()) and p.render().any()


def test_points_are_plain_tuples(project, bass):
    point = bass.automate("pan").add_point(1.0, 0.5, "smooth")
    assert point == Point(1.0, 0.5, "smooth", 0.0) == (1.0, 0.5, "smooth", 0.0)


def test_a_lane_is_named_as_its_owner_is_now(project):
    t = project.add_audio_track("Bass")
    lane = t.automate("volume_db")
    t.name = "Sub"
    with pytest.raises(ValueError, match="volume_db of 'Sub': point 0"):
        lane.add_point(0.0, float("nan"))
