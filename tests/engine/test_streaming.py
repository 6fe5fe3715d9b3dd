import tracemalloc

import numpy as np
import soundfile as sf

import mixtree as mt
from mixtree.engine.engine import SEEK_XFADE, Engine
from tests.conftest import RATE

XF = int(SEEK_XFADE * RATE)


def _streamed_song(wav) -> mt.Project:
    p = mt.Project(sample_rate=RATE)
    p.pool.stream_above = 0
    data = (np.random.default_rng(3).standard_normal((12 * RATE, 2)) * 0.1).astype(np.float32)
    src = p.pool.load(wav(data))
    assert src.streamed
    p.add_audio_track("a").add_clip(src, start=0.1)
    p.add_audio_track("b").add_clip(src, start=1.0, offset=2.0, speed=1.5, duration=4.0)
    return p


def _play(eng: Engine, frames: int, block: int = 256) -> np.ndarray:
    # driven by hand, far faster than real time: wait for the reader as a device would
    out = []
    for _ in range(0, frames, block):
        assert eng.streams_ready()
        out.append(eng.process(block))
    return np.concatenate(out)


def test_streamed_playback_equals_the_offline_render_when_the_reader_keeps_up(wav):
    song = _streamed_song(wav)
    ref = song.render(0.0, 4.0)
    eng = Engine(song, driver="null", blocksize=256)
    try:
        eng.play()
        out = _play(eng, ref.shape[0])
        assert np.array_equal(out, ref)
        assert eng.stats()["underruns"] == 0
    finally:
        eng.close()


def test_a_window_not_ready_plays_silence_counts_an_underrun_and_names_the_source(wav):
    song = _streamed_song(wav)
    eng = Engine(song, driver="null", blocksize=256)
    try:
        eng._reader.close()  # no one reads: the windows stay at the start
        eng.seek(8.0)
        eng.play()
        out = np.concatenate([eng.process(256) for _ in range(20)])
        assert not out.any()
        events = [e for e in eng.events() if e.kind == "underrun"]
        assert events and events[0].source == "a.wav" and eng.stats()["underruns"] == 20
    finally:
        eng.close()


def test_a_seek_is_fetched_first_and_plays_exactly_after_the_crossfade(wav):
    song = _streamed_song(wav)
    eng = Engine(song, driver="null", blocksize=256)
    try:
        eng.play()
        _play(eng, RATE // 2)
        eng.seek(8.0)
        assert eng.streams_ready()
        out = _play(eng, RATE // 2)
        ref = song.render(8.0, out.shape[0] / RATE)
        assert np.array_equal(out[XF:], ref[XF:])
        assert eng.stats()["underruns"] == 0
    finally:
        eng.close()


def test_an_edit_while_playing_keeps_the_windows_filled(wav):
    song = _streamed_song(wav)
    eng = Engine(song, driver="null", blocksize=256)
    try:
        eng.play()
        _play(eng, RATE // 2)
        eng._reader.close()  # nothing is read from here on: the new plan plays what the old one held
        before = eng._player.plan
        song.tracks[1].clips[0].gain_db = -3.0  # compiles a new plan
        for _ in range(20):
            eng.process(256)
        assert eng._player.plan is not before
        assert eng.stats()["underruns"] == 0
    finally:
        eng.close()


def test_a_clip_playing_from_an_offset_at_the_playhead_has_its_window_ready_at_play(wav):
    song = _streamed_song(wav)
    a = song.tracks[0]
    song.add_audio_track("c").add_clip(a.clips[0].source, start=0.0, offset=6.0)
    eng = Engine(song, driver="null", blocksize=256)
    try:
        eng.play()
        out = _play(eng, RATE // 2)
        assert eng.stats()["underruns"] == 0
        assert np.array_equal(out, song.render(0.0, out.shape[0] / RATE))
    finally:
        eng.close()


def test_a_file_that_disappears_goes_offline_with_one_warning(wav, recwarn):
    song = _streamed_song(wav)
    path = next(iter(song.pool)).path
    eng = Engine(song, driver="null", blocksize=256)
    try:
        eng.play()
        _play(eng, RATE // 4)
        sf.write(str(path), np.zeros((100, 2), np.float32), RATE)  # truncated under it
        eng.seek(6.0)
        eng.streams_ready()
        _play(eng, RATE // 4)
        song.tracks[0].clips[0].gain_db = -1.0  # a new plan: the source stays offline, unsaid
        eng.seek(9.0)
        _play(eng, RATE // 4)
        errors = [e for e in eng.events() if e.kind == "error"]
        assert len(errors) == 1 and "a.wav" in errors[0].message
        assert len([w for w in recwarn if "a.wav" in str(w.message)]) == 1
        assert next(iter(song.pool)).offline
    finally:
        eng.close()


def test_playing_streamed_sources_allocates_nothing_in_steady_state(wav):
    song = _streamed_song(wav)
    eng = Engine(song, driver="null", blocksize=256)
    try:
        assert eng.streams_ready()
        eng._reader.close()  # the loop lies in the windows filled at the start
        eng.set_loop(True, 0.0, 1.0)
        eng.play()
        out = np.zeros((256, 2), np.float32)
        render = eng._player.render
        tracemalloc.start()
        for _ in range(3000):
            render(out)
        growth = []
        before = tracemalloc.take_snapshot()
        for _ in range(3):
            for _ in range(3000):
                render(out)
            after = tracemalloc.take_snapshot()
            growth.append(sum(d.size_diff for d in after.compare_to(before, "filename")))
            before = after
        tracemalloc.stop()
        assert min(growth) < 8192, f"{growth} bytes more held after each window of 3,000 callbacks"
        assert eng.stats()["underruns"] == 0
    finally:
        eng.close()


def test_a_loop_jump_plays_its_start_without_an_underrun(wav):
    song = _streamed_song(wav)
    eng = Engine(song, driver="null", blocksize=256)
    try:
        # longer than the look-ahead: only the buffers kept for the loop's start hold it
        eng.set_loop(True, 5.0, 9.0)
        eng.seek(5.0)
        eng.play()
        out = _play(eng, 10 * RATE)  # three jumps back
        assert eng.stats()["underruns"] == 0
        assert np.array_equal(out[4 * RATE + XF : 5 * RATE], song.render(5.0, 1.0)[XF:])
    finally:
        eng.close()


def test_the_reader_outlives_an_error_in_a_plan_and_says_it_once():
    import time
    from types import SimpleNamespace

    from mixtree.engine.reader import Reader

    calls = []

    def service(budget: int) -> int:
        calls.append(budget)
        raise ValueError("a buffer of another shape")

    plan = SimpleNamespace(streams=SimpleNamespace(service=service, report=None, loop_at=-1))
    reader = Reader(lambda: (plan,), lambda: -1, lambda: 0, lambda: 0)
    try:
        deadline = time.monotonic() + 5.0
        while len(calls) < 3 and time.monotonic() < deadline:
            reader.wake()
            time.sleep(0.01)
        assert len(calls) >= 3  # still looking after the first error
        assert reader.warnings == ["the disk reader: ValueError: a buffer of another shape"]
    finally:
        reader.close()


def _regions(wav) -> mt.Project:
    # 1 s regions of one file, one after another: far apart, they share groups of buffers
    p = mt.Project(sample_rate=RATE)
    p.pool.stream_above = 0
    data = (np.random.default_rng(5).standard_normal((12 * RATE, 2)) * 0.1).astype(np.float32)
    src = p.pool.load(wav(data))
    t = p.add_audio_track("regions")
    for k in range(24):
        t.add_clip(src, start=1.0 * k, offset=(k * 0.7) % 10.0, duration=1.0)
    return p


def test_regions_sharing_buffers_play_exactly_and_a_seek_back_takes_them_back(wav):
    # each group passes from region to region as the playhead moves on, and back after a seek
    p = _regions(wav)
    ref = p.render(0.0, 24.0)
    eng = Engine(p, driver="null", blocksize=256)
    try:
        assert len({r.group for r in eng._published.streams.refs}) < 12
        eng.play()
        assert np.array_equal(_play(eng, 12 * RATE), ref[: 12 * RATE])
        eng.seek(2.0)
        assert eng.streams_ready()
        out = _play(eng, 4 * RATE)
        assert np.array_equal(out[XF:], ref[2 * RATE + XF : 6 * RATE])
        assert eng.stats()["underruns"] == 0
    finally:
        eng.close()


def test_a_loop_over_regions_sharing_buffers_jumps_back_without_an_underrun(wav):
    p = _regions(wav)
    eng = Engine(p, driver="null", blocksize=256)
    try:
        eng.set_loop(True, 3.0, 15.0)  # the regions at 3 s and 15 s would share a group
        eng.seek(10.0)
        eng.play()
        out = _play(eng, 8 * RATE)  # a jump back at 5 s
        assert eng.stats()["underruns"] == 0
        assert np.array_equal(out[5 * RATE + XF : 8 * RATE], p.render(3.0, 3.0)[XF:])
    finally:
        eng.close()


def test_a_seek_into_an_alias_of_a_streamed_clip_fetches_its_span_first(wav):
    p = mt.Project(sample_rate=RATE)
    p.pool.stream_above = 0
    data = (np.random.default_rng(6).standard_normal((12 * RATE, 2)) * 0.1).astype(np.float32)
    t = p.add_audio_track("inside")
    t.add_clip(p.pool.load(wav(data)), start=0.5, offset=1.0, duration=3.0)
    m = p.create_metatrack([t.id], name="M")
    p.add_audio_track("host").add_alias(m.id, start=6.0)  # plays it again from 6.5 s
    ref = p.render(6.7, 2.0)
    eng = Engine(p, driver="null", blocksize=256)
    try:
        eng.seek(6.7)
        assert eng.streams_ready()
        eng.play()
        out = np.concatenate([eng.process(256) for _ in range(2 * RATE // 256)])
        assert eng.stats()["underruns"] == 0
        assert np.array_equal(out[XF:], ref[XF : out.shape[0]])
    finally:
        eng.close()
