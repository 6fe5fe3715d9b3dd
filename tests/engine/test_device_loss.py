"""A driver lost while playing: reported as an event, stopped cleanly, opened again by start()."""

import threading
import time

import numpy as np
import pytest

import mixtree.engine.engine as engine_module
from mixtree.engine import watchdog
from mixtree.engine.engine import Engine
from mixtree.model.document import to_document
from tests.conftest import RATE


class FakeDevice:
    """A driver calling back from a thread like the null driver's, which a test can kill:
    ``die`` stops the callbacks and, with ``say_so``, its ``alive`` flag as PortAudio does
    when a JACK server shuts down; without it the stream claims to run on (a stall)."""

    opened: list["FakeDevice"] = []

    def __init__(self, render, xrun, sample_rate, blocksize, device=None):
        self.name = "fake"
        self.label = f"fake {device}"
        self.device = device
        self.latency = blocksize / sample_rate
        self._render = render
        self._period = blocksize / sample_rate
        self._out = np.zeros((blocksize, 2), np.float32)
        self._dead = threading.Event()
        self._detached = False
        self._alive = False
        self.stopped = 0
        self._thread = threading.Thread(target=self._run, daemon=True)
        FakeDevice.opened.append(self)

    def _run(self):
        while not self._dead.is_set():
            if not self._detached:
                self._render(self._out)
            time.sleep(self._period)

    def start(self):
        self._alive = True
        self._thread.start()

    @property
    def alive(self):
        return self._alive

    def die(self, say_so=True):
        self._dead.set()
        self._thread.join()
        if say_so:
            self._alive = False

    def detach(self):
        self._detached = True

    def stop(self):
        self.stopped += 1
        self._dead.set()


@pytest.fixture
def fake_device(monkeypatch):
    FakeDevice.opened = []
    monkeypatch.setattr(engine_module, "open_driver", lambda name, *args: FakeDevice(*args))
    return FakeDevice


@pytest.fixture
def song(project, wav):
    rng = np.random.default_rng(5)
    data = (rng.standard_normal((4 * RATE, 1)) * 0.2).astype(np.float32)
    project.add_audio_track("T").add_clip(project.pool.load(wav(data)))
    return project


def _wait(check, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end and not check():
        time.sleep(0.005)
    return check()


def _lost(eng, timeout=1.0):
    seen = []
    eng.subscribe(lambda ev: seen.append(ev) if ev.kind == "device_lost" else None)
    return lambda: _wait(lambda: seen, timeout)


def _played(eng, blocks, timeout=3.0):
    start = eng.stats()["blocks"]
    return _wait(lambda: eng.stats()["blocks"] >= start + blocks, timeout)


def test_a_device_that_stops_is_reported_once_and_the_engine_stops_cleanly(song, fake_device, tmp_path):
    before = to_document(song, tmp_path)
    lost = []
    with Engine(song, driver="sounddevice", device=3, autosave=None) as eng:
        eng.subscribe(lambda ev: lost.append((ev, time.monotonic())) if ev.kind == "device_lost" else None)
        eng.play()
        assert _played(eng, 20)
        killed = time.monotonic()
        fake_device.opened[0].die()
        assert _wait(lambda: lost, 1.0), "no device_lost event within 1 s"
        ((event, at),) = lost
        assert at - killed < 0.2  # the next round of the control thread
        assert event.device == "fake 3" and "the stream stopped" in event.message
        assert not eng.running and not eng.playing
        assert fake_device.opened[0].stopped == 1
        assert event.position == eng._player.position > 0
        time.sleep(0.1)
        assert len(lost) == 1
    assert to_document(song, tmp_path) == before  # nothing in the project changed or was lost


def test_start_opens_the_device_again_by_the_name_found_and_playback_resumes_where_it_stopped(song, fake_device):
    with Engine(song, driver="sounddevice", device=3, autosave=None) as eng:
        lost = _lost(eng)
        eng.play()
        assert _played(eng, 10)
        fake_device.opened[0].die()
        assert lost()
        stopped_at = eng.position
        assert eng.start() is eng and eng.running
        assert len(fake_device.opened) == 2
        assert fake_device.opened[1].device == "fake 3"  # the label the first open reported
        assert not eng.playing and eng.position == stopped_at
        eng.play()
        assert _played(eng, 20)
        assert eng.position > stopped_at
    assert fake_device.opened[1].stopped == 1


def test_a_stream_that_claims_to_run_but_stopped_calling_back_is_lost_after_the_stall_limit(
    song, fake_device, monkeypatch
):
    monkeypatch.setattr(watchdog, "STALL_LIMIT", 0.3)
    events = []
    with Engine(song, driver="sounddevice", autosave=None) as eng:
        eng.subscribe(lambda ev: events.append(ev) if ev.kind == "device_lost" else None)
        eng.play()
        assert _played(eng, 10)
        killed = time.monotonic()
        fake_device.opened[0].die(say_so=False)
        assert _wait(lambda: events, 2.0)
        # counted from the control thread's last look that saw a callback, up to a round before the kill
        assert 0.2 <= time.monotonic() - killed < 1.0
        assert "no callback for" in events[0].message and not eng.playing


def test_a_lost_device_keeps_what_was_sent_before_it_went(song, fake_device):
    with Engine(song, driver="sounddevice", autosave=None) as eng:
        lost = _lost(eng)
        eng.play()
        assert _played(eng, 10)
        fake_device.opened[0].die()
        eng.seek(1.5)  # sent while the loss is not yet seen: it still moves the playhead
        assert lost()
        assert eng.position == pytest.approx(1.5, abs=1 / RATE)


def test_a_lost_null_driver_is_detected_too(song):
    with Engine(song, driver="null", autosave=None) as eng:
        lost = _lost(eng)
        eng.play()
        assert _played(eng, 10)
        eng._driver.detach()  # its thread ends as a device's would
        assert lost()
        assert "device_lost" in [ev.kind for ev in eng.events()]
        eng.start()
        eng.play()
        assert _played(eng, 10)
