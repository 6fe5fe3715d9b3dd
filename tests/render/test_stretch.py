"""Stretched (Rubber Band) metatracks: re-rendered on a worker while the old render plays."""

import threading
import time

import numpy as np
import pytest

from mixtree import effects as fx
from mixtree.engine.engine import Engine
from mixtree.model.pool import Source
from mixtree.render import stretch
from tests.conftest import RATE, sine


@pytest.fixture
def pitched(project, wav):
    t = project.add_audio_track("tone")
    t.add_clip(project.pool.load(wav(sine(440, 1.0))))
    gain = t.add_effect(fx.Gain(db=0.0))
    m = project.create_metatrack([t.id], name="Up")
    m.pitch = 5.0
    return t, gain, m


def _held(monkeypatch):
    """Make the worker's renders wait for a go; return (go, started)."""
    go, started = threading.Event(), threading.Event()
    real = stretch._stretch

    def slow(plan, frames, m, key):
        if threading.current_thread().name == "mixtree-stretch":
            started.set()
            assert go.wait(30)
        return real(plan, frames, m, key)

    monkeypatch.setattr(stretch, "_stretch", slow)
    return go, started


def _settle(engine):
    deadline = time.monotonic() + 60
    while (engine._stretch.busy or engine._stretch_done) and time.monotonic() < deadline:
        time.sleep(0.01)
        engine.events()  # publishes the plan with a new render, which may ask for another


@pytest.mark.parametrize("edit", ["fader", "effect parameter"])
def test_an_edit_inside_plays_the_old_render_until_the_worker_has_the_new_one(project, pitched, monkeypatch, edit):
    t, gain, m = pitched
    engine = Engine(project, driver="null", blocksize=256)
    engine.play()
    before = project.render(0.0, 0.2)
    go, started = _held(monkeypatch)
    plan = engine._published
    if edit == "fader":
        t.volume_db = -12.0
    else:
        gain.db = -12.0
    assert started.wait(30)  # the worker is rendering, and the edit has returned
    out = np.concatenate([engine.process() for _ in range(8)])
    assert np.allclose(out, before[: out.shape[0]], atol=1e-6)  # the old render plays on (a swap glides)
    go.set()
    _settle(engine)
    assert engine._published is not plan
    engine.seek(0.0)
    engine.process()  # the seek's crossfade
    after = project.render(0.0, 0.2)
    assert np.allclose(np.concatenate([engine.process() for _ in range(8)]), after[256 : 256 * 9], atol=1e-7)
    assert np.abs(after).max() < np.abs(before).max() / 3  # -12 dB is what plays now


def test_the_cache_keeps_renders_up_to_its_byte_limit_newest_first():
    cache = stretch._Cache(limit=3 * 4000)
    for k in range(5):
        data = np.zeros((500, 2), np.float32)  # 4000 bytes
        cache.put(str(k), Source(-k - 1, None, data, RATE, RATE, 2, ""))  # type: ignore[arg-type]
    assert len(cache) == 3 and cache.get("0") is None and cache.get("4") is not None
    cache.get("2")  # used: the oldest left is now 3
    cache.put("5", Source(-9, None, np.zeros((500, 2), np.float32), RATE, RATE, 2, ""))  # type: ignore[arg-type]
    assert cache.get("3") is None and cache.get("2") is not None


def test_the_first_render_of_a_metatrack_is_made_at_once(project, pitched):
    engine = Engine(project, driver="null", blocksize=256)
    engine.play()
    out = np.concatenate([engine.process() for _ in range(8)])
    assert np.array_equal(out, project.render(0.0, 8 * 256 / RATE))


def test_nested_stretched_metatracks_are_rendered_again_off_the_editing_thread(project, pitched, monkeypatch):
    t, _, inner = pitched
    outer = project.create_metatrack([inner.id], name="Outer")
    outer.pitch = 3.0
    engine = Engine(project, driver="null", blocksize=256)
    threads = []
    real = stretch._stretch

    def watched(plan, frames, m, key):
        threads.append((m.name, threading.current_thread().name))
        return real(plan, frames, m, key)

    monkeypatch.setattr(stretch, "_stretch", watched)
    t.volume_db = -12.0
    _settle(engine)
    assert threads and all(thread == "mixtree-stretch" for _, thread in threads), threads
    engine.play()
    engine.process()  # takes the newest plan: a swap glides over its first 5 ms
    engine.seek(0.0)
    engine.process()  # and so does a seek
    heard = np.concatenate([engine.process() for _ in range(8)])
    assert np.allclose(heard, project.render(0.0, 9 * 256 / RATE)[256:], atol=1e-7)


def test_only_what_shapes_the_render_asks_for_a_new_one(project, pitched, wav):
    t, _, m = pitched
    before = stretch.signature(project, m)
    m.name, m.collapsed, m.volume_db, m.pan = "Renamed", True, -6.0, 0.5  # after the render: its own fader
    m.add_effect(fx.Gain(db=-3.0))  # and its own chain
    project.pool.load(wav(sine(220, 0.5), name="unrelated.wav"))
    assert stretch.signature(project, m) == before
    t.volume_db = -1.0
    assert stretch.signature(project, m) != before


def test_a_render_too_large_to_hold_streams_from_a_file_found_again_by_its_signature(project, pitched, tmp_path):
    held = project.render(0.0, 1.5)  # the render held in memory
    stretch.cache._items.clear()
    project.media_dir = tmp_path
    project.pool.stream_above = 1000  # bytes: every render goes to a file
    _, _, m = pitched
    streamed = project.render(0.0, 1.5)
    files = list((tmp_path / "stretched").glob("*.wav"))
    assert len(files) == 1 and stretch.stretched(project, m).streamed
    assert np.array_equal(streamed, held)
    stretch.cache._items.clear()  # a later session: the file is found, nothing is stretched

    def refuse(*args):
        raise AssertionError("stretched again")

    real, stretch._stretch = stretch._stretch, refuse
    try:
        assert np.array_equal(project.render(0.0, 1.5), held)
    finally:
        stretch._stretch = real
