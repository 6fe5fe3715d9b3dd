import numpy as np
import pytest

from mixtree.model.structure import project_time
from mixtree.studio.state import project_state


def test_tracks_come_in_tree_order_with_their_clips_notes_lanes_and_time_maps(song):
    rhythm = song.tracks[1]
    rhythm.speed, rhythm.offset = 0.5, 1.0
    state = project_state(song, lambda source: source == song.tracks[0].clips[0].source.id)
    keys, group, drums, synth = state["tracks"]
    assert [t["kind"] for t in state["tracks"]] == ["audio", "meta", "audio", "midi"]
    assert drums["parent"] == group["id"] and drums["depth"] == 1
    # project time = a × the track's time + b: child time = (parent time - 1) × 0.5
    assert (drums["a"], drums["b"]) == (pytest.approx(2.0), pytest.approx(1.0))
    assert (keys["a"], keys["b"]) == (1.0, 0.0) and group["meta"] == {"speed": 0.5, "offset": 1.0, "pitch": 0.0}
    assert keys["clips"][0]["start"] == 1.0 and keys["clips"][0]["fade_out"] == 0.5
    assert synth["midi"][0]["notes"] == 4 and [n[0] for n in synth["midi"][0]["inline"]] == [60, 64, 67, 72]
    assert keys["lanes"][0]["parameter"] == "volume_db" and keys["lanes"][0]["points"] == [[0.0, -6.0], [3.0, 0.0]]
    ready = {s: v["peaks"] for s, v in state["sources"].items()}
    assert sorted(ready.values()) == [False, True]


def test_the_ruler_gets_every_bar_past_the_end(song):
    song.tempo_map.set_tempo(0.0, 90.0)
    bars = project_state(song, lambda s: False)["bars"]
    assert bars[:3] == [0.0, pytest.approx(8 / 3), pytest.approx(16 / 3)]  # 4 beats at 90 bpm
    assert bars[-1] > song.duration


def test_an_unsaved_project_has_no_path(project):
    state = project_state(project, lambda s: False)
    assert state["path"] is None and state["tracks"] == [] and state["master"]["name"] == "Master"


def test_effect_and_send_lanes_are_drawn_on_their_track(song):
    from mixtree import effects as fx

    keys = song.tracks[0]
    comp = keys.add_effect(fx.Compressor())
    comp.automate("threshold_db").set_points([(0.0, -20.0, "linear", 0.0), (2.0, -10.0, "hold", 0.0)])
    bus = song.add_bus("Verb")
    keys.add_send(bus.id, level_db=-6.0).automate("level_db").set_points([(1.0, -12.0, "hold", 0.0)])
    lanes = project_state(song, lambda s: False)["tracks"][0]["lanes"]
    names = [lane["parameter"] for lane in lanes]
    assert names == ["volume_db", f"Compressor #{comp.id}.threshold_db", "send to Verb.level_db"]
    assert lanes[1]["points"] == [[0.0, -20.0], [2.0, -10.0]] and lanes[1]["min"] < lanes[1]["max"]


def interpolate(knots, t):
    """Project time of child time ``t`` as the page works it out from ``knots`` (timeline.js)."""
    own = [k[0] for k in knots]
    i = next((i for i, o in enumerate(own) if o >= t), len(own))
    if i < len(own) and own[i] == t:
        return knots[i][1]
    assert 0 < i < len(own), "inside the knots"
    (o0, x0), (o1, x1) = knots[i - 1], knots[i]
    return x0 + (t - o0) / (o1 - o0) * (x1 - x0)


def test_a_tape_stop_metatrack_sends_knots_that_place_clips_where_the_model_plays_them(song):
    rhythm, drums = song.tracks[1], song.tracks[2]
    lane = rhythm.automate("speed")  # a tape stop: 1 until 0.5 s, to 0 at 2.5 s
    lane.add_point(0.5, 1.0, "linear")
    lane.add_point(2.5, 0.0, "hold")
    clip = drums.clips[0]
    clip.start, clip.duration = 0.25, 1.0  # ends at child time 1.25, reached on the ramp
    late = drums.add_clip(clip.source, start=1.4, duration=0.5)  # ends past 1.5, where the tape stops
    state = project_state(song, lambda s: False)
    assert list(state["warps"]) == [str(rhythm.id)]  # only the children of the warped metatrack
    knots = state["warps"][str(rhythm.id)]
    own, at = [k[0] for k in knots], [k[1] for k in knots]
    assert own == sorted(own) and at == sorted(at) and at[0] < 0 and at[-1] > song.duration
    for c in (clip, late):  # clip edges are knots, placed by the model: exact
        for t in (c.start, c.start + c.duration):
            assert [t, project_time(song, drums, t)] in knots
    assert interpolate(knots, 1.25) == project_time(song, drums, 1.25)
    # child time 1.25 is reached on the ramp: 0.5 + ∫ from 0.5 of (1 − (u − 0.5)/2) du = 0.75
    assert project_time(song, drums, 1.25) == pytest.approx(0.5 + 2 - 2 * np.sqrt(1 - 0.75), abs=1e-9)
    assert interpolate(knots, 1.9) == pytest.approx(2.5)  # never reached: where the tape stopped
    # between the knots the chords stay within a tenth of a millisecond of the integral
    for t in np.linspace(0.0, 1.49, 60):
        assert interpolate(knots, t) == pytest.approx(project_time(song, drums, t), abs=1e-4)
    assert state["tracks"][0]["a"] == 1.0  # a track beside the warp keeps its line


def test_nested_warps_compose_in_the_knots_of_each_warped_timeline(song):
    drums, rhythm = song.tracks[2], song.tracks[1]
    rhythm.automate("speed").set_points([(0.0, 1.0, "s_curve", 0.0), (1.0, 2.0, "hold", 0.0)])
    outer = song.create_metatrack([rhythm.id], name="Outer")
    outer.offset = 0.2
    outer.automate("speed").set_points([(0.0, 1.5, "bend", 0.4), (2.0, 0.5, "hold", 0.0)])
    plain = song.create_metatrack([song.tracks[0].id], name="Plain")  # no lane: no knots
    state = project_state(song, lambda s: False)
    assert set(state["warps"]) == {str(outer.id), str(rhythm.id)} and str(plain.id) not in state["warps"]
    knots = state["warps"][str(rhythm.id)]  # the drums' timeline
    clip = drums.clips[0]
    assert [clip.start + clip.duration, project_time(song, drums, clip.start + clip.duration)] in knots
    for t in np.linspace(-0.2, 4.0, 50):
        assert interpolate(knots, t) == pytest.approx(project_time(song, drums, t), abs=1e-4)
