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


def _runs(got: np.ndarray, ref: np.ndarray) -> list[tuple[int, int, int]]:
    """Split the sound in ``got`` into runs that equal ``ref`` exactly, as ``(at, ref_at,
    frames)``; a sounding frame found nowhere in ``ref`` is a run with ``ref_at`` -1."""
    where: dict[bytes, int] = {}
    for j in range(ref.shape[0] - 1, -1, -1):  # the first of equal frames wins
        where[ref[j].tobytes()] = j
    sounding = np.abs(got).max(axis=1) > 0
    runs, k = [], 0
    while k < got.shape[0]:
        if not sounding[k]:
            k += 1
            continue
        o = where.get(got[k].tobytes(), -1)
        if o < 0:
            runs.append((k, -1, 1))
            k += 1
            continue
        n = min(got.shape[0] - k, ref.shape[0] - o)
        same = (got[k : k + n] == ref[o : o + n]).all(axis=1)
        m = n if same.all() else int(np.argmin(same))
        runs.append((k, o, m))
        k += m
    return runs


# This VM's host now and then stalls a JACK cycle with nothing playing at all (seen: one
# xrun in ten idle seconds, callbacks of 0.1 ms then one of 7 ms): such a stall is the
# host's, not the engine's. The tests below hold the engine to what it controls.


def test_audio_reaching_jack_equals_the_offline_render(noise_song, jack_capture, jack_device):
    # Every sounding frame JACK received must be the render's, from its first frame on. A
    # stalled host drops or repeats whole periods at an xrun (seen under load: a 256-frame
    # skip, or one period twice), so the sound may break into runs, but each break must
    # fall on a block edge and be one of the xruns PortAudio reported. A take whose breaks
    # outnumber its xruns is taken again; the engine's own fault would break every take.
    block = 256
    ref = noise_song.render(0.0, 2.5)
    takes = []
    for _ in range(4):
        eng = Engine(noise_song, driver="sounddevice", device=jack_device, blocksize=block)  # kernels warm first
        with eng:
            cap = jack_capture(2.0)
            assert 0 < eng.latency < 0.1
            cap.connect_from_portaudio()
            time.sleep(0.2)
            eng.play()
            assert cap.full.wait(10), "JACK delivered too little audio"
            stats = eng.stats()
        assert stats["errors"] == 0
        runs = _runs(cap.buffer, ref)
        assert all(o >= 0 for _, o, _ in runs), "JACK received a frame the render does not have"
        assert runs[0][1] == 0, f"playback began at render frame {runs[0][1]}"
        assert sum(m for *_, m in runs) > RATE
        for (_, o, m), (_, o_next, _) in zip(runs, runs[1:], strict=False):
            assert m % block == 0 and (o_next - o) % block == 0, f"a break inside a block: {runs}"
        if len(runs) - 1 <= stats["xruns"]:
            break
        takes.append((stats["xruns"], runs))
    else:
        pytest.fail(f"more breaks than xruns in every take: {takes}")


def _storm_and_idle(song, device, segments: int, seconds: float, commands_per_second: int) -> dict:
    """Loop ``song`` through JACK in ``segments`` alternating spans of ``seconds``, idle then
    sending fader and pan commands at the given rate, polling events at 60 Hz as a UI does;
    return the xruns and DSP load of the storm spans and of the idle spans."""
    tracks = song.tracks
    spans: dict[str, dict] = {kind: {"xruns": 0, "loads": [], "blocks": 0} for kind in ("idle", "storm")}
    sent = 0
    with Engine(song, driver="sounddevice", device=device, blocksize=256) as eng:
        eng.set_loop(True, 0.0, 3.0)
        eng.play()
        time.sleep(0.3)
        for segment in range(segments):
            kind = "storm" if segment % 2 else "idle"
            rate = commands_per_second if kind == "storm" else 0
            before = eng.stats()
            start = time.perf_counter()
            done, polled = 0, 0.0
            while (elapsed := time.perf_counter() - start) < seconds:
                due = int(elapsed * rate)
                while done < due:
                    t = tracks[sent % len(tracks)]
                    if sent % 2:
                        eng.set_volume(t.id, -float(sent % 24))
                    else:
                        eng.set_pan(t.id, ((sent % 21) - 10) / 10)
                    sent, done = sent + 1, done + 1
                time.sleep(0.0005)
                if elapsed - polled >= 1 / 60:
                    eng.events()
                    polled = elapsed
            after = eng.stats(since=before["blocks"])
            span = spans[kind]
            span["xruns"] += after["xruns"] - before["xruns"]
            span["blocks"] += after["blocks"] - before["blocks"]
            span["loads"].append(after["load_mean"] * (after["blocks"] - before["blocks"]))
            span.setdefault("p99", []).append(after["load_p99"])
        time.sleep(0.05)
        total = eng.stats()
    for span in spans.values():
        span["load_mean"] = sum(span.pop("loads")) / max(span["blocks"], 1)
        span["load_p99"] = float(np.median(span.pop("p99")))
    return spans | {"sent": sent, "errors": total["errors"], "applied": total["commands_applied"]}


def test_a_thousand_commands_a_second_cause_no_xrun(noise_song, jack_device):
    # Commands must cost the audio thread neither xruns nor time. The storm is held to what
    # the same stream does idle in the spans between its own: this VM's host stalls and
    # steals CPU in bursts (CI once saw 13 xruns in 5 idle seconds and a mean load four
    # times this machine's quiet one), which fall in either kind of span alike. A run that
    # misses is played again, up to three times; a real cost would miss every time.
    runs = []
    for _ in range(3):
        got = _storm_and_idle(noise_song, jack_device, 10, 0.8, 1000)
        storm, idle = got["storm"], got["idle"]
        assert got["sent"] >= 3950 and got["errors"] == 0
        assert storm["blocks"] > 4 * RATE / 256 * 0.9
        runs.append(got)
        if (
            storm["xruns"] <= 1.5 * idle["xruns"] + 2
            and storm["load_mean"] <= 1.25 * idle["load_mean"] + 0.02
            and storm["load_p99"] <= max(0.5, 1.5 * idle["load_p99"])
        ):
            break
    else:
        pytest.fail(f"a command storm cost xruns or time every time: {runs}")
