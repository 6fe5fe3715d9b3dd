"""Reading project documents: every value checked as the API checks it, every problem placed."""

import json
import math

import pytest

import mixtree as mt
from mixtree import effects as fx
from mixtree.model import document


@pytest.fixture
def saved(project, ones, tmp_path):
    src = project.pool.load(ones)
    t = project.add_audio_track("A")
    t.add_clip(src, start=0.5, duration=1.0)
    t.add_effect(fx.Gain(db=-3.0))
    project.create_metatrack([t.id], name="G")
    k = project.add_midi_track("K")
    k.add_midi_clip(0.0, 1.0).add_note(60, 100, 0.0, 0.5)
    project.add_bus("B")
    path = project.save(tmp_path / "song.json")
    return path, json.loads(path.read_text())


def _load(path, doc):
    bad = path.with_name("bad.json")
    bad.write_text(json.dumps(doc))
    return mt.Project.load(bad)


@pytest.mark.parametrize(
    ("beat", "message"),
    [(float("nan"), "nan"), (float("inf"), "inf"), (-4.0, "-4.0"), (2e8, "200000000.0")],
)
def test_tempo_changes_are_checked_on_load_as_the_setter_checks_them(saved, beat, message):
    path, doc = saved
    doc["tempo"].append([beat, 90.0])
    (path.parent / "bad.json").write_text(json.dumps(doc))  # NaN and Infinity as JavaScript writes them
    with pytest.raises(mt.ProjectFileError, match=rf"at tempo\[1\]: a tempo change sits on a beat in .*{message}"):
        mt.Project.load(path.parent / "bad.json")


def test_a_loaded_tempo_map_can_always_be_saved_again(saved):
    path, doc = saved
    doc["tempo"].append([8, 90])
    q = _load(path, doc)
    assert q.tempo_map.bpm_at(9.0) == 90.0
    q.save(path.parent / "again.json")


@pytest.mark.parametrize(
    ("where", "value", "message"),
    [
        ("meters", [[True, 4, 4]], r"meters\[0\]: a meter change starts on a whole bar"),
        ("meters", [[0, True, 4]], r"meters\[0\]: time signature numerator"),
        ("next_id", True, r"at next_id: next_id must be a whole number"),
        ("next_id", 2**63, r"at next_id: next_id must be a whole number in \d+\.\.9007199254740993"),
        ("max_nesting", True, "at max_nesting"),
    ],
)
def test_booleans_and_huge_numbers_are_not_whole_numbers(saved, where, value, message):
    path, doc = saved
    doc[where] = value
    with pytest.raises(mt.ProjectFileError, match=message):
        _load(path, doc)


def test_ids_beyond_what_json_holds_exactly_are_refused(saved):
    path, doc = saved
    doc["tracks"][0]["id"] = 2**60
    doc["next_id"] = 2**60 + 1
    with pytest.raises(mt.ProjectFileError, match=r"at tracks\[0\]\.id: an id must be a whole number in 1\.\."):
        _load(path, doc)


def test_midi_values_must_not_be_booleans(saved):
    path, doc = saved
    midi = next(t for t in doc["tracks"] if t["kind"] == "midi")
    midi["midi_clips"][0]["notes"][0][0] = True
    with pytest.raises(mt.ProjectFileError, match=r"midi_clips\[0\]\.notes\[0\]: note pitch must be a whole number"):
        _load(path, doc)


def test_fields_a_kind_of_track_does_not_have_are_refused(saved):
    path, doc = saved
    audio = doc["tracks"][0]["children"][0]
    audio["children"] = []
    no_children = r"at tracks\[0\]\.children\[0\]: an audio track has no field 'children'"
    with pytest.raises(mt.ProjectFileError, match=no_children):
        _load(path, doc)
    del audio["children"]
    doc["master"]["clips"] = []
    with pytest.raises(mt.ProjectFileError, match="at master: the master has no field 'clips'"):
        _load(path, doc)


def test_a_track_name_error_names_its_place(saved):
    path, doc = saved
    doc["tracks"][1]["name"] = "  "
    with pytest.raises(mt.ProjectFileError, match=r"at tracks\[1\]\.name: name must be a non-empty string"):
        _load(path, doc)


def test_the_master_sends_nowhere_in_a_file_either(saved):
    path, doc = saved
    bus = next(t for t in doc["tracks"] if t["kind"] == "bus")
    doc["master"]["sends"] = [{"id": 999, "bus": bus["id"], "level_db": 0.0, "pre_fader": False}]
    doc["next_id"] = 1000
    with pytest.raises(mt.ProjectFileError, match="at master.sends: the master sends nowhere"):
        _load(path, doc)


@pytest.mark.parametrize("value", [1e300, 2e7])
def test_times_beyond_the_longest_session_are_refused(saved, value):
    path, doc = saved
    doc["tracks"][0]["children"][0]["clips"][0]["start"] = value
    with pytest.raises(mt.ProjectFileError, match=r"clips\[0\]: start must be within 0\.\.11453246\.12"):
        _load(path, doc)


def test_ids_that_are_not_numbers_never_escape_as_other_errors(saved):
    path, doc = saved
    doc["tracks"][0]["children"][0]["clips"][0]["source"] = [1]
    with pytest.raises(mt.ProjectFileError, match=r"clips\[0\]\.source: no source with id \[1\]"):
        _load(path, doc)
    doc["tracks"][0]["children"][0]["clips"][0]["source"] = doc["sources"][0]["id"]
    doc["tracks"][0]["frozen"] = {"a": 1}
    with pytest.raises(mt.ProjectFileError, match=r"tracks\[0\]\.frozen: no source with id"):
        _load(path, doc)


def test_a_bug_in_the_reader_is_not_dressed_up_as_a_bad_file(saved, monkeypatch):
    path, _ = saved

    def broken(*args, **kwargs):
        raise TypeError("a bug")

    monkeypatch.setattr(document._Reader, "_master", broken)
    with pytest.raises(TypeError, match="a bug"):
        mt.Project.load(path)


def test_an_instrument_slot_must_hold_an_instrument(saved):
    path, doc = saved
    midi = next(t for t in doc["tracks"] if t["kind"] == "midi")
    midi["instrument"] = {"id": midi["instrument"]["id"], "type": "gain", "parameters": {"db": 0.0}, "bypass": False}
    with pytest.raises(mt.ProjectFileError, match=r"instrument\.type: 'gain' is not an instrument"):
        _load(path, doc)


def test_closed_faders_and_silent_sends_round_trip_as_null(project, tmp_path):
    t = project.add_audio_track("T", volume_db=-math.inf)
    bus = project.add_bus("B")
    t.add_send(bus.id, level_db=-math.inf)
    q = mt.Project.load(project.save(tmp_path / "s.json"))
    assert q.tracks[0].volume_db == -math.inf and q.tracks[0].sends[0].level_db == -math.inf


def test_an_offline_effect_keeps_only_what_a_file_can_hold(saved):
    path, doc = saved
    effect = doc["tracks"][0]["children"][0]["effects"][0]
    effect["type"] = "vendor.Thing"
    effect["parameters"] = {"drive": float("inf")}
    with pytest.raises(
        mt.ProjectFileError, match=r"effects\[0\]\.parameters\.drive: expected a finite number, not inf"
    ):
        _load(path, doc)
    nested: list = []
    for _ in range(200):
        nested = [nested]
    effect["parameters"] = {"deep": nested}
    with pytest.raises(mt.ProjectFileError, match="nests deeper than 64 levels"):
        _load(path, doc)


def test_media_paths_a_system_cannot_use_are_clear_errors_or_offline(saved):
    path, doc = saved
    doc["sources"][0]["path"] = "bad\x00name.wav"
    with pytest.raises(mt.ProjectFileError, match=r"sources\[0\]\.path: not a usable path"):
        _load(path, doc)
    doc["sources"][0]["path"] = "x" * 5000 + ".wav"
    with pytest.warns(mt.MediaWarning, match="(?i)file name too long"):
        q = _load(path, doc)
    assert q.pool.offline


def test_an_offline_source_may_not_claim_more_than_a_source_may_hold(saved):
    path, doc = saved
    doc["sources"][0]["path"] = "gone.wav"
    doc["sources"][0]["frames"] = 2**40
    with pytest.raises(mt.ProjectFileError, match=r"sources\[0\]\.frames: an offline source's length must be"):
        _load(path, doc)


@pytest.mark.parametrize(
    ("tempo_map", "where", "message"),
    [
        ({"tempo": [[0, 90], [4, 60, "ramped"]]}, r"tempo_map.tempo\[1\]", r'\[beat, bpm\] or \[beat, bpm, "ramp"\]'),
        ({"tempo": [[0, 90, "ramp"]]}, r"tempo_map.tempo\[0\]", "cannot start at beat 0"),
        ({"tempo": [[0, 2000]]}, r"tempo_map.tempo\[0\]", "within 1..1000 bpm"),
        ({"meters": [[0, 4, 3]]}, r"tempo_map.meters\[0\]", "power of two"),
        ({"tempi": []}, "tempo_map", "a tempo map has no field 'tempi'"),
        ([120], "tempo_map", "expected an object"),
    ],
)
def test_a_broken_metatrack_tempo_map_names_its_place(saved, tempo_map, where, message):
    path, doc = saved
    doc["tracks"][0]["tempo_map"] = tempo_map
    with pytest.raises(mt.ProjectFileError, match=rf"tracks\[0\]\.{where}: .*{message}"):
        _load(path, doc)


def test_a_speed_lane_beside_a_pitch_is_refused_on_load(saved):
    path, doc = saved
    doc["tracks"][0]["pitch"] = 2.0
    points = [[0.0, 1.0, "linear", 0.0], [1.0, 0.5, "hold", 0.0]]
    doc["tracks"][0]["automation"] = {"speed": {"id": 900, "mode": "read", "time_base": "seconds", "points": points}}
    with pytest.raises(mt.ProjectFileError, match=r"tracks\[0\]\.automation\.speed: .*plays as tape"):
        _load(path, doc)
