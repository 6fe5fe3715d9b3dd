import json
import time

import numpy as np
import pytest
from starlette.testclient import TestClient

import mixtree as mt
from mixtree.model.midi import MidiNote
from mixtree.model.operations import AddMidiItem, Batch
from mixtree.studio.server import make_app
from mixtree.studio.session import Session

TOKEN = "t0k3n-for-tests"


@pytest.fixture
def session(song):
    s = Session(song, driver="null")
    yield s
    s.close()


@pytest.fixture
def client(session):
    with TestClient(make_app(session, TOKEN), base_url="http://127.0.0.1") as c:
        yield c


def test_the_page_its_files_the_api_and_the_websocket_need_the_token(client):
    assert client.get(f"/{TOKEN}/").status_code == 200
    assert client.get(f"/{TOKEN}/static/app.js").status_code == 200
    for path in ("/", "/static/app.js", "/api/state", "/wrong/api/state", f"/{TOKEN}x/api/state"):
        assert client.get(path).status_code == 403, path
    assert client.post("/api/op", json={"op": "play"}).status_code == 403
    with pytest.raises(Exception), client.websocket_connect("/ws") as ws:  # noqa: B017 - refused at once
        ws.receive_text()


def test_a_foreign_host_header_is_refused_on_loopback(client):
    # a page on another site that rebinds its name to 127.0.0.1 still sends its own Host
    assert client.get(f"/{TOKEN}/api/state", headers={"host": "evil.example:8000"}).status_code == 403
    assert client.get(f"/{TOKEN}/api/state", headers={"host": "localhost:8000"}).status_code == 200


def test_an_edit_is_the_projects_own_undoable_operation(client, song):
    clip = song.tracks[0].clips[0]
    r = client.post(f"/{TOKEN}/api/op", json={"op": "move_clip", "clip": clip.id, "start": 2.25})
    assert r.json() == {"ok": True} and clip.start == 2.25
    assert len(song.history) == 1
    client.post(f"/{TOKEN}/api/op", json={"op": "undo"})
    assert clip.start == 1.0
    client.post(f"/{TOKEN}/api/op", json={"op": "redo"})
    assert clip.start == 2.25


def test_a_clip_moves_to_another_track_in_one_undo_step(client, song):
    keys, drums = song.tracks[0], song.tracks[2]
    clip = keys.clips[0]
    r = client.post(f"/{TOKEN}/api/op", json={"op": "move_clip", "clip": clip.id, "start": 0.5, "track": drums.id})
    assert r.status_code == 200 and clip in drums.clips and clip.start == 0.5 and not keys.clips
    song.undo()
    assert clip in keys.clips and clip.start == 1.0


def test_a_bad_edit_is_refused_with_a_message_and_changes_nothing(client, song):
    clip = song.tracks[0].clips[0]
    for bad in ({"op": "trim_clip", "clip": clip.id, "start": -1}, {"op": "fade", "clip": clip.id, "fade_in": 99.0}):
        r = client.post(f"/{TOKEN}/api/op", json=bad)
        assert r.status_code == 400 and r.json()["ok"] is False and r.json()["error"]
    r = client.post(f"/{TOKEN}/api/op", json={"op": "explode"})
    assert r.json()["error"] == "unknown request 'explode'"
    assert clip.start == 1.0 and clip.fade_in == 0.2 and song.history == []


def test_trims_fades_faders_and_lane_points(client, song):
    keys = song.tracks[0]
    clip = keys.clips[0]
    op = f"/{TOKEN}/api/op"
    client.post(op, json={"op": "trim_clip", "clip": clip.id, "start": 1.5, "duration": 3.5, "offset": 0.5})
    assert (clip.start, clip.duration, clip.offset) == (1.5, 3.5, 0.5)
    client.post(op, json={"op": "fade", "clip": clip.id, "fade_in": 1.0, "fade_out": 0.25})
    assert (clip.fade_in, clip.fade_out) == (1.0, 0.25)
    client.post(op, json={"op": "set", "track": keys.id, "name": "volume_db", "value": -3.0})
    client.post(op, json={"op": "set", "track": keys.id, "name": "pan", "value": 0.5})
    client.post(op, json={"op": "set", "track": song.tracks[1].id, "name": "speed", "value": 0.5})
    assert keys.volume_db == -3.0 and keys.pan == 0.5 and song.tracks[1].speed == 0.5
    lane = keys.lanes["volume_db"]
    client.post(op, json={"op": "set_points", "lane": lane.id, "points": [[0.0, -6.0], [1.0, -12.0], [3.0, 0.0]]})
    assert [(p.time, p.value) for p in lane.points] == [(0.0, -6.0), (1.0, -12.0), (3.0, 0.0)]
    state = client.get(f"/{TOKEN}/api/state").json()
    assert state["tracks"][0]["lanes"][0]["points"][1] == [1.0, -12.0]
    assert state["tracks"][2]["a"] == 2.0  # a child of a metatrack at half speed lasts twice as long


def test_edits_from_python_reach_the_websocket_at_once(client, song):
    with client.websocket_connect(f"ws://127.0.0.1/{TOKEN}/ws") as ws:
        first = _until(ws, lambda m: m["type"] == "project")
        assert [t["name"] for t in first["project"]["tracks"]] == ["Keys", "Rhythm", "Drums", "Synth"]
        song.tracks[0].volume_db = -9.5
        t = time.monotonic()
        changed = _until(ws, lambda m: m["type"] == "project" and m["project"]["tracks"][0]["volume_db"] == -9.5)
        assert time.monotonic() - t < 1.0 and changed["project"]["can_undo"]
        ws.send_text(json.dumps({"id": 7, "op": "undo"}))
        assert _until(ws, lambda m: m["type"] == "reply")["id"] == 7
        ws.send_text(json.dumps({"id": 8, "op": "seek", "seconds": -4}))
        assert "seek position" in _until(ws, lambda m: m["type"] == "reply")["error"]
        assert _until(ws, lambda m: m["type"] == "transport")["playing"] is False


def test_meters_and_position_stream_while_playing(client, session):
    project = session.project
    rhythm, drums = project.tracks[1], project.tracks[2]
    assert isinstance(rhythm, mt.Metatrack) and drums.parent_id == rhythm.id  # a plain group
    with client.websocket_connect(f"ws://127.0.0.1/{TOKEN}/ws") as ws:
        ws.send_text(json.dumps({"id": 1, "op": "play"}))
        meters = _until(ws, lambda m: m["type"] == "meters" and m["peak"][str(drums.id)][0] > 0)
        # every track has its meter: the master, the leaves and the plain group too
        ids = {str(t.id) for t in [project.master, *project.tracks]}
        assert set(meters["peak"]) == ids and set(meters["rms"]) == ids
        # the group holds only the drums: it reads what they read
        assert meters["peak"][str(rhythm.id)] == meters["peak"][str(drums.id)]
        assert meters["rms"][str(rhythm.id)][0] > 0
        assert _until(ws, lambda m: m["type"] == "transport" and m["position"] > 0.1)["playing"]


def test_peaks_are_served_as_bytes_once_built(client, session, song):
    assert session.peaks.wait(30)
    source = song.tracks[0].clips[0].source
    r = client.get(f"/{TOKEN}/api/peaks/{source.id}?level=2")
    assert r.status_code == 200 and r.headers["x-frames-per-bucket"] == "4096"
    overview = session.peaks.get(source.id)
    assert len(r.content) == overview.levels[2].size
    assert client.get(f"/{TOKEN}/api/peaks/424242").status_code == 404


def test_an_unsaved_project_plays_and_saves_where_told(tmp_path):
    project = mt.Project()
    project.add_audio_track("empty")
    session = Session(project, driver="null")
    try:
        with TestClient(make_app(session, TOKEN), base_url="http://127.0.0.1") as c:
            state = c.get(f"/{TOKEN}/api/state").json()
            assert state["path"] is None and state["tracks"][0]["name"] == "empty"
            r = c.post(f"/{TOKEN}/api/op", json={"op": "save"})
            assert "no file yet" in r.json()["error"]
            r = c.post(f"/{TOKEN}/api/op", json={"op": "save", "path": str(tmp_path / "new.json")})
            assert r.json()["ok"] and (tmp_path / "new.json").exists()
    finally:
        session.close()


def _until(ws, wanted, limit=400):
    for _ in range(limit):
        m = json.loads(ws.receive_text())
        if wanted(m):
            return m
    raise AssertionError("the message never came")


def test_a_missing_file_is_named_on_the_page(tmp_path, song):
    (song.path.parent / "tone.wav").unlink()
    with pytest.warns(mt.MediaWarning):
        loaded = mt.Project.load(song.path)
    session = Session(loaded, driver="null")
    try:
        errors = [m["message"] for m in session.tick() if m["type"] == "error"]
        assert any("'tone.wav' is offline" in e for e in errors)
        assert session.state()["sources"][str(loaded.tracks[0].clips[0].source.id)]["offline"]
    finally:
        session.close()


def test_a_clip_of_50000_notes_loads_whole_and_fast_as_packed_columns(client, song):
    clip = song.tracks[3].add_midi_clip(6.0, 600.0)
    rng = np.random.default_rng(3)
    starts = np.round(rng.uniform(0.0, 590.0, 50_000), 6)  # added out of order: served sorted
    notes = [MidiNote(24 + k % 80, 1 + k % 127, float(s), 0.05 + (k % 7) * 0.01) for k, s in enumerate(starts)]
    song.apply(Batch("add 50,000 notes", [AddMidiItem(clip.id, note) for note in notes]))  # one plan, not 50,000
    t = time.perf_counter()
    state = client.get(f"/{TOKEN}/api/state")
    took_state = time.perf_counter() - t
    drawn = next(c for c in state.json()["tracks"][3]["midi"] if c["id"] == clip.id)
    assert drawn["notes"] == 50_000 and "inline" not in drawn  # the state stays small: no notes in it
    assert len(state.content) < 20_000 and took_state < 2.0, (len(state.content), took_state)
    t = time.perf_counter()
    r = client.get(f"/{TOKEN}/api/notes/{clip.id}")
    took_notes = time.perf_counter() - t
    assert r.status_code == 200 and r.headers["x-notes"] == "50000" and r.headers["x-key"] == drawn["notes_key"]
    assert len(r.content) == 14 * 50_000 and took_notes < 2.0, took_notes  # 700 kB, every note
    n = 50_000
    start = np.frombuffer(r.content, np.float64, n)
    duration = np.frombuffer(r.content, np.float32, n, 8 * n)
    pitch = np.frombuffer(r.content, np.uint8, n, 12 * n)
    velocity = np.frombuffer(r.content, np.uint8, n, 13 * n)
    order = np.argsort(starts, kind="stable")
    np.testing.assert_array_equal(start, starts[order])
    np.testing.assert_array_equal(pitch, (24 + np.arange(n) % 80)[order])
    np.testing.assert_array_equal(velocity, (1 + np.arange(n) % 127)[order])
    np.testing.assert_allclose(duration, (0.05 + (np.arange(n) % 7) * 0.01)[order], rtol=1e-6)
    # an edit of its notes gives a new key, and the new notes
    clip.add_note(60, 100, 599.0, 0.5)
    again = client.get(f"/{TOKEN}/api/notes/{clip.id}")
    assert again.headers["x-notes"] == "50001" and again.headers["x-key"] != drawn["notes_key"]
    song.undo()
    assert client.get(f"/{TOKEN}/api/notes/{clip.id}").headers["x-notes"] == "50000"
    assert client.get(f"/{TOKEN}/api/notes/{song.tracks[0].clips[0].id}").status_code == 404
