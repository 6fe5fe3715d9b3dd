"""The PortAudio driver's edges: clear open errors, a rescan and one more try, streams
given up without blocking when their device went away."""

import threading
import time
from types import SimpleNamespace

import numpy as np
import pytest

from mixtree.engine.drivers import portaudio
from mixtree.engine.drivers.portaudio import DeviceError, PortAudioDriver


class FakePortAudioError(Exception):
    pass


class FakeAbort(Exception):
    pass


FAKE_SD = SimpleNamespace(PortAudioError=FakePortAudioError, CallbackAbort=FakeAbort)


@pytest.fixture
def clean_state(monkeypatch):
    for name in ("_open", "_abandoned", "_buried", "_stuck"):
        monkeypatch.setattr(portaudio, name, type(getattr(portaudio, name))())
    reloads = []
    monkeypatch.setattr(portaudio, "_reload", lambda sd: reloads.append(sd))
    return reloads


class FakeStream:
    def __init__(self, active=True, stop_takes=0.0):
        self.active = active
        self.closed = False
        self.stop_takes = stop_takes
        self.calls = []

    def stop(self):
        self.calls.append("stop")
        time.sleep(self.stop_takes)

    def close(self):
        self.calls.append("close")
        self.closed = True


def _driver(stream, jack, detached=True, started=True):
    d = object.__new__(PortAudioDriver)
    d._sd, d._stream, d._jack, d._detached, d._started = FAKE_SD, stream, jack, detached, started
    d._render = lambda out: out.fill(1.0)
    d._xrun = lambda: None
    portaudio._open.add(d)
    return d


def test_a_device_that_is_not_there_is_named_in_the_error():
    pytest.importorskip("sounddevice", exc_type=OSError)
    render = lambda out: None  # noqa: E731
    with pytest.raises(DeviceError, match="cannot open audio device 'no such device, anywhere'"):
        PortAudioDriver(render, lambda: None, 48000, 256, device="no such device, anywhere")


def test_an_open_that_fails_lists_the_devices_again_and_tries_once_more(clean_state, monkeypatch):
    rescans = []
    monkeypatch.setattr(portaudio, "rescan", lambda: rescans.append(1) or True)
    tries = []

    def open_stream():
        tries.append(1)
        if len(tries) == 1:
            raise FakePortAudioError("Error querying device -1")
        return "stream"

    assert portaudio._open_stream(FAKE_SD, open_stream, "system, JACK") == "stream"
    assert len(tries) == 2 and len(rescans) == 1


def test_an_open_that_fails_twice_raises_one_device_error_naming_the_device(clean_state, monkeypatch):
    monkeypatch.setattr(portaudio, "rescan", lambda: True)

    def open_stream():
        raise ValueError("No output device matching 'hw:9'")

    with pytest.raises(DeviceError, match=r"cannot open audio device 'hw:9': No output device") as info:
        portaudio._open_stream(FAKE_SD, open_stream, "hw:9")
    assert isinstance(info.value, OSError) and isinstance(info.value.__cause__, ValueError)


def test_the_default_device_is_called_so(clean_state, monkeypatch):
    monkeypatch.setattr(portaudio, "rescan", lambda: False)

    def open_stream():
        raise FakePortAudioError("Error querying device -1")

    with pytest.raises(DeviceError, match="cannot open the default output device: Error querying"):
        portaudio._open_stream(FAKE_SD, open_stream, None)


def test_rescan_does_nothing_while_a_stream_is_open(clean_state, monkeypatch):
    pytest.importorskip("sounddevice", exc_type=OSError)
    _driver(FakeStream(), jack=False, detached=False)
    assert portaudio.rescan() is False
    assert clean_state == []


def test_a_detached_callback_renders_nothing_and_asks_portaudio_to_stop(clean_state):
    d = _driver(FakeStream(), jack=False)
    out = np.full((64, 2), 0.5, np.float32)
    with pytest.raises(FakeAbort):
        d._callback(out, 64, None, SimpleNamespace(output_underflow=False))
    assert not out.any()


def test_a_jack_stream_whose_server_died_is_left_open_and_portaudio_loaded_afresh(clean_state):
    stream = FakeStream(active=False)
    d = _driver(stream, jack=True)
    d.stop()
    assert stream.calls == []  # a stop would wait 10 minutes inside PortAudio
    assert portaudio._abandoned == [stream] and clean_state == [FAKE_SD]
    d.stop()
    assert clean_state == [FAKE_SD]


def test_a_dead_jack_stream_waits_for_the_last_open_stream_before_portaudio_is_reloaded(clean_state):
    other = _driver(FakeStream(), jack=False, detached=False)
    _driver(FakeStream(active=False), jack=True).stop()
    assert clean_state == []
    other.stop()
    assert other._stream.calls == ["stop", "close"] and clean_state == [FAKE_SD]


def test_a_stop_that_hangs_is_given_up_after_the_timeout(clean_state, monkeypatch):
    monkeypatch.setattr(portaudio, "STOP_TIMEOUT", 0.1)
    stream = FakeStream(stop_takes=1.0)
    d = _driver(stream, jack=False)
    t0 = time.monotonic()
    d.stop()
    assert time.monotonic() - t0 < 0.5
    assert len(portaudio._stuck) == 1 and isinstance(portaudio._stuck[0], threading.Thread)
    assert clean_state == []


def test_a_healthy_stream_stops_and_closes(clean_state):
    stream = FakeStream()
    d = _driver(stream, jack=True, detached=False)
    d.stop()
    assert stream.calls == ["stop", "close"]
