"""Play through the real PortAudio path into a JACK server and record what arrives."""

import time

import numpy as np
import pytest

from mixtree.engine.engine import Engine

RATE = 48000


@pytest.fixture
def noise_song(project, wav):
    rng = np.random.default_rng(11)
    for i in range(3):
        data = (rng.standard_normal((4 * RATE, 1 + i % 2)) * 0.1).astype(np.float32)
        t = project.add_audio_track(f"T{i}", volume_db=-2.0 * i, pan=0.4 * (i - 1))
        t.add_clip(project.pool.load(wav(data, name=f"n{i}.wav")), start=0.0)
    return project


def _first_sound(x: np.ndarray) -> int:
    return int(np.flatnonzero(np.abs(x).max(axis=1) > 0)[0])


def test_audio_reaching_jack_equals_the_offline_render(noise_song, jack_capture, jack_device):
    eng = Engine(noise_song, driver="sounddevice", device=jack_device, blocksize=256)  # kernels warm first
    with eng:
        cap = jack_capture(3.0)
        assert 0 < eng.latency < 0.1
        cap.connect_from_portaudio()
        time.sleep(0.2)
        eng.play()
        assert cap.full.wait(10), "JACK delivered too little audio"
        stats = eng.stats()
    got = cap.buffer
    k = _first_sound(got)
    ref = noise_song.render(0.0, 2.0)
    n = min(ref.shape[0], got.shape[0] - k)
    assert n > RATE
    assert np.array_equal(got[k : k + n], ref[:n]), "captured audio differs from the render"
    assert stats["xruns"] == 0 and stats["errors"] == 0


def test_a_thousand_commands_a_second_cause_no_xrun(noise_song, jack_device):
    tracks = noise_song.tracks
    with Engine(noise_song, driver="sounddevice", device=jack_device, blocksize=256) as eng:
        eng.set_loop(True, 0.0, 3.0)
        eng.play()
        start = time.perf_counter()
        sent, polled = 0, 0.0
        while (elapsed := time.perf_counter() - start) < 10.0:
            due = int(elapsed * 1000)
            while sent < due:
                t = tracks[sent % len(tracks)]
                if sent % 2:
                    eng.set_volume(t.id, -float(sent % 24))
                else:
                    eng.set_pan(t.id, ((sent % 21) - 10) / 10)
                sent += 1
            time.sleep(0.0005)
            if elapsed - polled >= 1 / 60:  # events, as a UI polls them
                eng.events()
                polled = elapsed
        time.sleep(0.05)
        stats = eng.stats()
    assert sent >= 9990
    assert stats["xruns"] == 0, f"xruns under a command storm: {stats}"
    assert stats["errors"] == 0
    assert stats["blocks"] > 10 * RATE / 256 * 0.9
