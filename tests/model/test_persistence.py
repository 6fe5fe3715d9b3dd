"""Projects that never lose work: round trips, formats, undo, atomic saves, recovery."""

import json
import os
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mixtree as mt
from mixtree import effects as fx
from mixtree.engine.engine import Engine
from mixtree.model import document, project_file
from tests.conftest import RATE, sine

DATA = Path(__file__).parent.parent / "data" / "projects"


def everything(project, wav):
    """A session that uses every kind of object a project can hold."""
    p = project
    tone = p.pool.load(wav(sine(220, 2.0), name="tone.wav"))
    stereo = p.pool.load(wav(np.repeat(sine(330, 2.0), 2, axis=1) * 0.5, name="st.wav"))
    a = p.add_audio_track("A", volume_db=-3.0, pan=0.2)
    a.add_clip(
        tone,
        start=0.1,
        duration=1.0,
        offset=0.2,
        gain_db=-2.0,
        fade_in=0.05,
        fade_out=0.1,
        fade_curve="s_curve",
        speed=1.25,
    )
    b = p.add_audio_track("B")
    b.add_clip(stereo, start=0.3, reversed=True, duration=0.8)
    a.add_effect(fx.EQ3(low_db=2.0))
    comp = a.add_effect(fx.Compressor(threshold_db=-20.0, detection="rms"))
    comp.bypass = True
    m = p.create_metatrack([a.id, b.id], name="Verse")
    m.speed, m.offset = 0.75, 0.2
    m.add_effect(fx.Delay(beats=0.5, mix=0.2))
    keys = p.add_midi_track("Keys", instrument=mt.PolySynth(waveform="square", cutoff=3000.0))
    clip = keys.add_midi_clip(0.0, 2.0)
    clip.add_note(60, 90, 0.1, 0.3)
    clip.add_event(0.5, "pitch_bend", 2048)
    bus = p.add_bus("Verb")
    bus.add_effect(fx.Reverb(mix=0.3))
    bus.solo_safe = True
    keys.add_send(bus.id, level_db=-6.0, pre_fader=True)
    host = p.add_audio_track("Host")
    host.add_alias(m.id, start=2.5, duration=0.5)
    p.tempo_map.set_tempo(at_beat=4, bpm=100.0)
    p.tempo_map.set_meter(at_bar=2, numerator=3, denominator=4)
    p.master.add_effect(fx.Gain(db=-1.0))
    p.max_nesting = 12
    return p


def test_round_trip_is_render_identical_and_json_equals_messagepack(project, wav, tmp_path):
    p = everything(project, wav)
    expected = p.render()
    q = mt.Project.load(p.save(tmp_path / "song.json"))
    r = mt.Project.load(p.save(tmp_path / "song.mtp"))
    assert np.array_equal(q.render(), expected) and np.array_equal(r.render(), expected)
    doc_q = document.to_document(q, tmp_path)
    assert doc_q == document.to_document(r, tmp_path) == document.to_document(p, tmp_path)
    assert (tmp_path / "song.json").read_text().startswith("{\n")  # readable, diff-friendly


def test_saves_keep_a_backup_and_an_interrupted_save_keeps_the_old_file(project, wav, tmp_path, monkeypatch):
    p = everything(project, wav)
    path = p.save(tmp_path / "song.json")
    first = path.read_bytes()
    p.tracks[0].name = "Chorus"
    p.save(path)
    assert (tmp_path / "song.json.bak").read_bytes() == first

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    p.tracks[0].name = "Bridge"
    before = path.read_bytes()
    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space"):
        p.save(path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert not any(f.name.endswith(".tmp") for f in tmp_path.iterdir())


def test_a_crash_leaves_a_recoverable_autosave(project, wav, tmp_path):
    p = everything(project, wav)
    path = p.save(tmp_path / "song.json")
    assert p.autosave() is None  # nothing changed since the save
    p.tracks[-1].volume_db = -12.0
    auto = p.autosave()
    assert auto == project_file.autosave_path(path) and auto.exists()
    os.utime(path, (1, 1))  # the crash: the file is older than its autosave
    with pytest.warns(mt.RecoveryWarning):
        assert mt.Project.load(path).tracks[-1].volume_db == 0.0
    recovered = mt.Project.load(path, recover=True)
    assert recovered.tracks[-1].volume_db == -12.0
    p.save()
    assert not auto.exists()


def test_the_engine_autosaves_while_it_plays(project, wav, tmp_path):
    p = everything(project, wav)
    path = p.save(tmp_path / "song.json")
    eng = Engine(p, driver="null", autosave=0.0)
    p.tracks[0].pan = -0.5
    eng.events()
    assert mt.Project.load(path, recover=True).tracks[0].pan == -0.5


def test_format_1_files_migrate(tmp_path):
    shutil.copytree(DATA / "v1", tmp_path / "v1")
    p = mt.Project.load(tmp_path / "v1" / "song.json")
    assert [t.name for t in p.tracks] == ["Tone"] and p.master.volume_db == -1.0
    assert p.tempo_map.bpm_at(0) == 120.0 and p.max_nesting == 10
    assert p.render().any()
    again = mt.Project.load(p.save(tmp_path / "v1" / "song2.json"))
    assert np.array_equal(again.render(), p.render())
    assert json.loads((tmp_path / "v1" / "song2.json").read_text())["version"] == document.VERSION


def test_undo_redo_history(project, ones):
    src = project.pool.load(ones)
    t = project.add_audio_track("T")
    for db in range(0, -30, -1):  # a fader drag: one step
        t.volume_db = float(db)
    t.pan = 0.5
    assert project.history[-2:] == ["set volume_db of #3 to -29.0", "set pan of #3 to 0.5"]
    project.undo()
    project.undo()
    assert (t.volume_db, t.pan) == (0.0, 0.0)
    project.redo()
    assert t.volume_db == -29.0
    t.add_clip(src)  # a new edit clears redo
    assert not project.redo()
    project.history_depth = 2
    assert len(project.history) == 2


def test_undo_while_playing_publishes_a_new_plan(project, ones):
    t = project.add_audio_track("T")
    t.add_clip(project.pool.load(ones))
    eng = Engine(project, driver="null")
    plan = eng._published
    t.add_effect(fx.Gain(db=-6.0))
    assert eng._published is not plan
    plan = eng._published
    project.undo()
    assert eng._published is not plan and t.effects == []


# -- property tests ---------------------------------------------------------------------

OPS = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "track",
                "clip",
                "volume",
                "pan",
                "effect",
                "param",
                "group",
                "speed",
                "bus",
                "midi",
                "remove",
                "tempo",
                "move",
            ]
        ),
        st.integers(0, 1000),
        st.floats(-1.0, 1.0),
    ),
    min_size=1,
    max_size=12,
)


def _random_edit(p, source, kind, k, x):
    tracks = p.tracks
    pick = tracks[k % len(tracks)] if tracks else None
    try:
        if kind == "track" or pick is None:
            p.add_audio_track(f"T{k}").add_clip(source, start=abs(x), duration=0.2)
        elif kind == "clip" and isinstance(pick, mt.AudioTrack):
            pick.add_clip(source, start=abs(x) * 2, duration=0.3, fade_in=0.01)
        elif kind == "volume":
            pick.volume_db = -12.0 * abs(x)
        elif kind == "pan":
            pick.pan = x
        elif kind == "effect":
            pick.add_effect([fx.Gain(db=x), fx.EQ3(mid_db=3 * x), fx.Filter("highpass", 200.0)][k % 3])
        elif kind == "param" and pick.effects:
            pick.effects[0].bypass = not pick.effects[0].bypass
        elif kind == "group":
            p.create_metatrack([pick.id], name=f"G{k}")
        elif kind == "speed" and isinstance(pick, mt.Metatrack):
            pick.speed = 1.0 + 0.5 * x
        elif kind == "bus":
            bus = p.add_bus(f"B{k}")
            pick.add_send(bus.id, level_db=-6.0)
        elif kind == "midi":
            p.add_midi_track(f"K{k}").add_midi_clip(0.0, 0.5).add_note(60 + k % 12, 100, 0.0, 0.2)
        elif kind == "remove":
            p.remove_track(pick.id)
        elif kind == "tempo":
            p.tempo_map.set_tempo(at_beat=float(k % 8), bpm=60.0 + k % 120)
        elif kind == "move" and pick.parent_id is not None:
            p.move_track(pick.id, None, 0)
    except ValueError:
        pass  # a refused edit changes nothing, which is part of what is checked


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_any_edits_undone_return_the_original_and_redo_replays_them(ones, ops):
    p = mt.Project(sample_rate=RATE)
    source = p.pool.load(ones)
    p.add_audio_track("Base").add_clip(source, duration=0.5)
    p.forget_history()
    base = Path("/")
    original = document.to_document(p, base)
    original_audio = p.render(0.0, 1.0)
    for op in ops:
        _random_edit(p, source, *op)
    final = document.to_document(p, base)
    final_audio = p.render(0.0, 1.0)
    while p.undo():
        pass
    assert document.to_document(p, base) == original | {"next_id": p.registry.next_id}
    assert np.array_equal(p.render(0.0, 1.0), original_audio)
    while p.redo():
        pass
    assert document.to_document(p, base) == final
    assert np.array_equal(p.render(0.0, 1.0), final_audio)


def _mutations(doc):
    """Yield paths (list of keys) into every value of ``doc``."""
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield [k]
            for rest in _mutations(v):
                yield [k, *rest]
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield [i]
            for rest in _mutations(v):
                yield [i, *rest]


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz")
    p = mt.Project(sample_rate=RATE)
    import soundfile as sf

    sf.write(str(folder / "tone.wav"), sine(220, 0.5), RATE)
    t = p.add_audio_track("A")
    t.add_clip(p.pool.load(folder / "tone.wav"), start=0.1)
    t.add_effect(fx.EQ3())
    m = p.create_metatrack([t.id])
    m.speed = 1.5
    k = p.add_midi_track("K")
    k.add_midi_clip(0.0, 1.0).add_note(60, 100, 0.0, 0.5)
    bus = p.add_bus("B")
    k.add_send(bus.id)
    path = p.save(folder / "song.json")
    return folder, json.loads(path.read_text())


JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True),
    st.text(max_size=5),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_files_raise_nothing_but_project_file_error(saved, data):
    folder, doc = saved
    doc = json.loads(json.dumps(doc))
    paths = list(_mutations(doc))
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(paths))
        parent = doc
        for key in path[:-1]:  # an earlier mutation may have removed the way
            ok = (isinstance(parent, dict) and key in parent) or (
                isinstance(parent, list) and isinstance(key, int) and key < len(parent)
            )
            parent = parent[key] if ok else None
        if isinstance(parent, dict) and path[-1] in parent:
            if data.draw(st.booleans()):
                del parent[path[-1]]
            else:
                parent[path[-1]] = data.draw(JUNK)
        elif isinstance(parent, list) and isinstance(path[-1], int) and path[-1] < len(parent):
            parent[path[-1]] = data.draw(JUNK)
    target = folder / "mutated.json"
    target.write_text(json.dumps(doc))
    _load_or_project_file_error(target)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.floats(0.0, 1.0), fmt=st.sampled_from([".json", ".mtp"]))
def test_truncated_files_raise_nothing_but_project_file_error(saved, cut, fmt):
    folder, doc = saved
    data = project_file.encode(doc, project_file.EXTENSIONS[fmt])
    target = folder / f"cut{fmt}"
    target.write_bytes(data[: int(len(data) * cut)])
    _load_or_project_file_error(target)


def _load_or_project_file_error(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            mt.Project.load(path)
        except mt.ProjectFileError as exc:
            assert str(path.name) in str(exc)
