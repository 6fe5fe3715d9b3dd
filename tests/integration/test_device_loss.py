"""The JACK server killed while the engine plays through it, then started again."""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

from mixtree.engine.engine import Engine
from mixtree.model.document import to_document

RATE = 48000
#: What starts the server scripts/setup.sh starts, in real-time mode where allowed.
START = Path(__file__).resolve().parents[2] / "scripts" / "jackd-dummy.sh"
#: That server's driver options: the only server this test kills, since it knows how to start it again.
DRIVER = ["-d", "dummy", "-r", "48000", "-p", "256"]


def _jackd_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                argv = (entry / "cmdline").read_bytes().split(b"\0")[:-1]
            except OSError:
                continue
            args = [a.decode(errors="replace") for a in argv]
            if args[:1] == ["jackd"] and args[-len(DRIVER) :] == DRIVER:
                pids.append(int(entry.name))
    return pids


def _jack_up(jack) -> bool:
    try:
        jack.Client("mixtree-loss-probe", no_start_server=True).close()
    except jack.JackOpenError:
        return False
    return True


def _start_jackd(jack, timeout: float = 10.0) -> None:
    """Start the server as scripts/setup.sh does and wait until it accepts clients."""
    log = Path(os.environ.get("TMPDIR", tempfile.gettempdir())) / "mixtree-jackd.log"
    with open(log, "ab") as out:
        subprocess.Popen([START], stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True)
    end = time.monotonic() + timeout
    while time.monotonic() < end and not _jack_up(jack):
        time.sleep(0.05)
    assert _jack_up(jack), "jackd did not come back"


def _gone(pid: int, timeout: float = 5.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if not Path(f"/proc/{pid}/cmdline").read_bytes():  # a zombie: it exited
                return True
        except OSError:
            return True
        time.sleep(0.02)
    return False


@pytest.fixture
def song(project, wav):
    rng = np.random.default_rng(3)
    data = (rng.standard_normal((10 * RATE, 2)) * 0.1).astype(np.float32)
    project.add_audio_track("noise").add_clip(project.pool.load(wav(data, name="noise.wav")))
    return project


def test_a_killed_jack_server_is_reported_and_start_plays_again_once_it_is_back(
    song, jack_device, jack_capture, tmp_path
):
    import jack

    pids = _jackd_pids()
    if len(pids) != 1:
        pytest.skip(f"this test kills only a server started as scripts/setup.sh does ({START.name})")
    before = to_document(song, tmp_path)
    lost = []
    eng = Engine(song, driver="sounddevice", device=jack_device, blocksize=256, autosave=None)
    try:
        eng.subscribe(lambda ev: lost.append((ev, time.monotonic())) if ev.kind == "device_lost" else None)
        eng.start()
        label = eng._device_label
        assert "JACK" in label
        eng.play()
        time.sleep(0.3)
        assert eng.stats()["blocks"] > 20
        killed = time.monotonic()
        os.kill(pids[0], signal.SIGTERM)
        end = killed + 2.0
        while not lost and time.monotonic() < end:
            time.sleep(0.01)
        assert lost, "no device_lost event within 2 s of killing jackd"
        ((event, at),) = lost
        assert at - killed < 0.5
        assert event.device == label and "stopped" in event.message
        assert not eng.running and not eng.playing
        stopped_at = eng.position
        assert stopped_at > 0.2
        assert _gone(pids[0]), "jackd did not exit"
    finally:
        if not _jackd_pids():  # whatever happened above, the server comes back
            _start_jackd(jack)
    assert to_document(song, tmp_path) == before  # nothing in the project lost
    try:
        eng.start()  # the same device, found again by its name in a fresh device list
        assert eng.running and eng._device_label == label
        cap = jack_capture(1.0)
        cap.connect_from_portaudio()
        blocks = eng.stats()["blocks"]
        eng.play()
        assert cap.full.wait(10), "no audio reached the restarted server"
        assert eng.stats()["blocks"] - blocks > 100
        assert eng.position > stopped_at
        assert np.abs(cap.buffer).max() > 0.01  # the noise, not silence
        assert len(lost) == 1
    finally:
        eng.close()
