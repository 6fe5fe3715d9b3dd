"""The engine's control thread: housekeeping without polling, events to subscribers."""

import threading
import time

import numpy as np
import pytest

from mixtree.engine.engine import Engine
from tests.conftest import RATE


@pytest.fixture
def song(project, wav):
    rng = np.random.default_rng(2)
    for i in range(3):
        data = (rng.standard_normal((2 * RATE, 1)) * 0.2).astype(np.float32)
        project.add_audio_track(f"T{i}").add_clip(project.pool.load(wav(data, name=f"{i}.wav")), start=0.1 * i)
    return project


def _soon(check, timeout=3.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end and not check():
        time.sleep(0.01)
    return check()


def test_a_started_engine_autosaves_and_retires_plans_without_anyone_polling(song, tmp_path):
    song.save(tmp_path / "song.json")
    with Engine(song, driver="null", blocksize=256, autosave=0.05) as eng:
        eng.play()
        for k in range(5):
            song.tracks[0].clips[0].start = 0.1 * k  # each edit publishes a plan
        assert _soon(lambda: song.autosaved_version == song.version)
        assert _soon(lambda: not eng._retired)


def test_subscribers_get_position_meters_and_edits_on_the_control_thread(song):
    seen: list[tuple[str, str]] = []
    with Engine(song, driver="null", blocksize=256) as eng:
        eng.subscribe(lambda ev: seen.append((ev.kind, threading.current_thread().name)))
        eng.play()
        song.tracks[1].volume_db = -6.0
        assert _soon(lambda: {"position", "meters", "edit"} <= {k for k, _ in seen})
    assert {name for _, name in seen} == {"mixtree-control"}
    assert not any(t.name == "mixtree-control" for t in threading.enumerate())


def test_edit_events_carry_the_project_version(song):
    edits = []
    with Engine(song, driver="null", blocksize=256) as eng:
        eng.subscribe(lambda ev: ev.kind == "edit" and edits.append(ev.count))
        song.tracks[0].pan = 0.5
        assert _soon(lambda: edits and edits[-1] == song.version)


def test_events_still_returns_what_the_thread_collected(song):
    with Engine(song, driver="null", blocksize=256) as eng:
        eng.play()
        time.sleep(0.3)
        events = eng.events()
        assert any(e.kind == "position" and e.playing for e in events)
        assert any(e.kind == "meters" for e in events)


def test_a_subscriber_that_raises_is_reported_and_keeps_its_place(song, capsys):
    calls = []

    def bad(ev):
        calls.append(ev)
        raise RuntimeError("boom")

    with Engine(song, driver="null", blocksize=256) as eng:
        eng.subscribe(bad)
        eng.play()
        assert _soon(lambda: len(calls) > 3)
        eng.unsubscribe(bad)
    assert "boom" in capsys.readouterr().err


def test_edits_from_other_threads_never_race_the_housekeeping(song, capsys):
    failures = []

    def editor(k):
        try:
            for i in range(40):
                track = song.tracks[k]
                track.volume_db = -float(i % 7)
                track.clips[0].start = 0.01 * (i % 5)
                if i % 10 == 0:
                    song.undo()
        except Exception as exc:  # pragma: no cover - what the test looks for
            failures.append(exc)

    with Engine(song, driver="null", blocksize=256, autosave=None) as eng:
        eng.play()
        threads = [threading.Thread(target=editor, args=(k,)) for k in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        time.sleep(0.1)
        stats = eng.stats()
    assert failures == [] and stats["errors"] == 0
    assert "Traceback" not in capsys.readouterr().err
