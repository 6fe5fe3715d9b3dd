import os
import tracemalloc
import warnings

import numpy as np
import pytest
import soundfile as sf

import mixtree as mt
from mixtree.io.audio_file import MediaWarning
from mixtree.render.compile import CompileOptions, compile_plan
from mixtree.render.offline import render
from tests.conftest import RATE


def _noise(frames: int, channels: int = 2, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal((frames, channels)) * 0.1).astype(np.float32)


def _session(path, streamed: bool, budget: int | None = None) -> mt.Project:
    p = mt.Project(sample_rate=RATE)
    if streamed:
        p.pool.stream_above = 0
    src = p.pool.load(path)
    assert src.streamed == streamed
    t = p.add_audio_track("plain")
    t.add_clip(src, start=0.25, fade_in=0.01, fade_out=0.02)
    t.add_clip(src, start=3.5, offset=0.5, duration=1.0, reversed=True)
    v = p.add_audio_track("varispeed")
    v.add_clip(src, start=0.1, offset=0.3, duration=1.5, speed=1.3)
    v.add_clip(src, start=2.0, duration=1.0, speed=0.7, reversed=True)
    m = p.add_metatrack("half speed")
    p.add_audio_track("inside", parent_id=m.id).add_clip(src, start=0.0, duration=2.0)
    m.speed = 0.5
    w = p.add_metatrack("warped")
    p.add_audio_track("under a warp", parent_id=w.id).add_clip(src, start=0.2, duration=1.5)
    w.automate("speed").set_points([(0.0, 1.0, "linear", 0.0), (2.0, 1.8, "hold", 0.0)])
    return p


@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("blocksize", [64, 512, 8192])
def test_a_streamed_render_equals_the_in_memory_render_bit_for_bit(wav, channels, blocksize):
    path = wav(_noise(RATE * 3, channels))
    memory = render(_session(path, False), blocksize=blocksize)
    streamed = render(_session(path, True), blocksize=blocksize)
    assert np.abs(memory).max() > 0.1
    assert np.array_equal(memory, streamed)


def test_a_resampled_stream_read_in_order_equals_the_whole_decode(wav):
    # soxr's streaming resampler fed in order gives the whole decode's samples exactly;
    # clips that jump around in one file restart it and agree within 1e-6 (see StreamReader)
    path = wav(_noise(44100 * 3), rate=44100)
    p, q = mt.Project(sample_rate=RATE), mt.Project(sample_rate=RATE)
    q.pool.stream_above = 0
    for proj in (p, q):
        proj.add_audio_track("a").add_clip(proj.pool.load(path), start=0.5)
    assert np.array_equal(render(p), render(q))
    memory, streamed = render(_session(path, False)), render(_session(path, True))
    assert np.abs(memory - streamed).max() < 1e-6


def test_a_file_larger_than_the_budget_streams_within_it(tmp_path):
    budget = 16 << 20
    frames = (48 << 20) // 8  # a 48 MiB stereo float32 file: three budgets
    path = tmp_path / "long.wav"
    with sf.SoundFile(str(path), "w", RATE, 2, subtype="FLOAT") as f:
        for at in range(0, frames, 1 << 20):
            f.write(_noise(min(1 << 20, frames - at), seed=at))
    assert path.stat().st_size > 3 * budget
    p = mt.Project(sample_rate=RATE)
    p.pool.budget = budget
    src = p.pool.load(path)
    p.add_audio_track("a").add_clip(src)
    assert src.streamed and p.pool.memory().held == 0
    tracemalloc.start()
    try:
        plan = compile_plan(p, CompileOptions(max_block=4096, fresh=True))
        out = np.zeros((4096, 2), np.float32)
        checked = 0
        for at in range(0, frames, 4096):
            block = out[: min(4096, frames - at)]
            plan.process(block, at)
            if at % (1 << 20) == 0:
                expected, _ = sf.read(str(path), frames=block.shape[0], start=at, dtype="float32")
                assert np.array_equal(block, expected)
                checked += 1
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert checked == 6
    assert plan.streams.nbytes + p.pool.memory().held < budget
    assert peak < budget


@pytest.mark.parametrize("change", ["truncated", "written over in place"])
def test_a_file_changed_while_streaming_goes_offline_with_one_warning_and_is_not_heard(wav, change):
    data = _noise(RATE * 4)
    path = wav(data)
    p = mt.Project(sample_rate=RATE)
    p.pool.stream_above = 0
    src = p.pool.load(path)
    p.add_audio_track("a").add_clip(src)
    plan = compile_plan(p, CompileOptions(max_block=512, fresh=True))
    out = np.zeros((512, 2), np.float32)
    plan.process(out, 0)
    before = path.stat()
    if change == "truncated":
        sf.write(str(path), data[: RATE // 2], RATE, subtype="FLOAT")  # cut to half a second
    else:  # another program writes over the middle: the same length
        with sf.SoundFile(str(path), "r+") as f:
            f.seek(RATE * 2)
            f.write(_noise(RATE, seed=9))
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000))  # as a coarse clock shows it
        assert path.stat().st_size == before.st_size
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for at in range(512, RATE * 4, 512):
            plan.process(out, at)
    assert [w.category for w in caught] == [MediaWarning]
    assert "a.wav" in str(caught[0].message) and src.offline
    assert not out.any()


def test_audio_held_in_memory_whose_file_changed_is_not_evicted_to_stream_it(wav):
    path = wav(_noise(RATE))
    p = mt.Project(sample_rate=RATE)
    src = p.pool.load(path)
    path.write_bytes(path.read_bytes()[:-8] + bytes(8))  # the same length, other samples
    os.utime(path, ns=(0, src.stamp[1] + 1_000_000))
    p.pool.budget = 0  # would evict it, if its file could give the same audio back
    assert not src.streamed and src.data is not None


def test_a_source_that_went_offline_comes_back_with_relink(wav, tmp_path):
    data = _noise(RATE * 2)
    path = wav(data)
    p = mt.Project(sample_rate=RATE)
    p.pool.stream_above = 0
    src = p.pool.load(path)
    p.add_audio_track("a").add_clip(src)
    path.unlink()
    with pytest.warns(MediaWarning, match="a.wav"):
        assert not render(p).any()
    assert src.offline
    again = tmp_path / "again.wav"
    sf.write(str(again), data, RATE, subtype="FLOAT")
    p.pool.relink(src.id, again)
    assert not src.offline and src.streamed
    memory = mt.Project(sample_rate=RATE)
    memory.add_audio_track("a").add_clip(memory.pool.load(again))
    assert np.array_equal(render(p), render(memory))


def test_a_header_claiming_more_than_the_file_holds_streams_and_goes_offline_where_it_ends(tmp_path):
    from tests.io.test_audio_file import flac_claiming

    p = mt.Project(sample_rate=44100)
    src = p.pool.load(flac_claiming(tmp_path, 2**34))  # claims 4.3 days: it cannot be decoded whole
    assert src.streamed
    p.add_audio_track("a").add_clip(src, duration=1.0)
    with pytest.warns(MediaWarning, match="liar.flac"):
        out = render(p)
    assert src.offline and out.shape[0] == 44100


def test_a_new_plan_gives_each_streamed_clip_the_buffers_its_clip_had(wav):
    # three clips of one file, in the same shape; the tracks are reordered, so the new
    # plan's rows come in another order: each must still take its own clip's buffers
    p = mt.Project(sample_rate=RATE)
    p.pool.stream_above = 0
    src = p.pool.load(wav(_noise(12 * RATE)))
    tracks = [p.add_audio_track(name) for name in "abc"]
    for k, t in enumerate(tracks):
        t.add_clip(src, start=0.0, offset=3.0 * k)
    old = compile_plan(p, CompileOptions(max_block=256))
    old.streams.service()  # every window filled, in order
    held = {r.key: [b.copy() for b in r.buffers] for r in old.streams.refs}
    p.move_track(tracks[2].id, None, 0)
    new = compile_plan(p, CompileOptions(max_block=256, previous=old))
    assert [r.key for r in new.streams.refs] != [r.key for r in old.streams.refs]
    for r in new.streams.refs:
        assert all(np.array_equal(mine, kept) for mine, kept in zip(r.buffers, held[r.key], strict=True))


def _regions(path, streamed: bool) -> mt.Project:
    # a 12 s file cut into 1 s regions, one after another on two tracks, for a minute
    p = mt.Project(sample_rate=RATE)
    if streamed:
        p.pool.stream_above = 0
    src = p.pool.load(path)
    a, b = p.add_audio_track("a"), p.add_audio_track("b")
    for k in range(60):
        a.add_clip(src, start=1.0 * k, offset=(k * 0.7) % 10.0, duration=1.0, fade_in=0.005, fade_out=0.005)
    for k in range(40):
        b.add_clip(src, start=1.5 * k + 0.25, offset=(k * 1.3) % 10.0, duration=1.2, reversed=k % 3 == 0)
    return p


def test_regions_far_apart_share_buffers_and_render_exactly(wav):
    path = wav(_noise(12 * RATE))
    memory, streamed = _regions(path, False), _regions(path, True)
    plan = compile_plan(streamed, CompileOptions(max_block=512, fresh=True))
    one = max(sum(b.nbytes for b in r.buffers) for r in plan.streams.refs)
    assert len(plan.streams.refs) == 100
    assert plan.streams.nbytes <= 20 * one  # a few groups, not a set of buffers per region
    assert np.array_equal(render(streamed, 0.0, 61.0, blocksize=512), render(memory, 0.0, 61.0, blocksize=512))


def test_a_file_touched_but_not_changed_streams_on(wav):
    path = wav(_noise(RATE * 3))
    p = mt.Project(sample_rate=RATE)
    p.pool.stream_above = 0
    src = p.pool.load(path)
    p.add_audio_track("a").add_clip(src)
    expected = render(p, 0.0, 3.0)
    os.utime(path, ns=(0, src.stamp[1] + 5_000_000_000))  # a backup tool, `touch`: the bytes are the same
    with warnings.catch_warnings():
        warnings.simplefilter("error", MediaWarning)
        assert np.array_equal(render(p, 0.0, 3.0), expected)
    assert not src.offline


def test_a_seek_ends_a_service_call_under_way_and_its_position_is_filled_first(wav):
    # the reader fills several buffers a call; a seek landing meanwhile must not wait for them
    p = mt.Project(sample_rate=RATE)
    p.pool.stream_above = 0
    p.add_audio_track("a").add_clip(p.pool.load(wav(_noise(30 * RATE))))
    plan = compile_plan(p, CompileOptions(max_block=256))
    streams = plan.streams
    streams.aim(0)
    place = streams._place
    seek_to = 20 * RATE

    def seek_after_the_first(r, k, keep):
        filled = place(r, k, keep)
        streams._place = place
        streams.aim(seek_to)  # as the control thread does while the reader fills
        return filled

    streams._place = seek_after_the_first
    assert streams.service(budget=8) == 1
    assert streams.service(budget=1) == 1
    stride = streams.refs[0].stride
    held = {int(base) for base, end in plan.windows.bufs[:, :2] if end >= 0}  # its one reference's rows
    assert any(base <= seek_to < base + stride for base in held)  # the new position came next


def test_non_finite_samples_stream_as_silence_as_they_load(tmp_path):
    # decoded straight into the windows, a NaN or an infinity is zeroed as a whole load zeroes it
    data = _noise(3 * RATE)
    data[1000, 0], data[50_000, 1], data[100_000:100_010, 0] = np.nan, np.inf, -np.inf
    path = tmp_path / "bad.wav"
    sf.write(str(path), data, RATE, subtype="FLOAT")

    def song(streamed: bool) -> mt.Project:
        p = mt.Project(sample_rate=RATE)
        if streamed:
            p.pool.stream_above = 0
        p.add_audio_track("a").add_clip(p.pool.load(path))
        return p

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MediaWarning)  # the whole load says it found some
        memory, streamed = render(song(False)), render(song(True))
    assert np.isfinite(streamed).all() and np.abs(streamed).max() > 0.1
    assert np.array_equal(memory, streamed)
