import pytest

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
    assert [n[0] for n in synth["midi"][0]["notes"]] == [60, 64, 67, 72]
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
