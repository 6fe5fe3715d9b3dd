import numpy as np

from mixtree.dsp.clips import ClipTable, read_clips, source_list
from mixtree.dsp.windows import memory_windows


def _table(**over):
    base = dict(
        track=[0],
        start=[48000],
        end=[48000 + 96000],
        source=[0],
        offset=[0],
        gain=[1.0],
        fade_in=[0],
        fade_out=[0],
        curve=[0],
        reversed=[False],
        upmix=[1.0],
        window=[[-(2**62), 2**62]],
    )
    base.update(over)
    types = dict(
        track=np.int32,
        start=np.int64,
        end=np.int64,
        source=np.int32,
        offset=np.int64,
        gain=np.float32,
        fade_in=np.int64,
        fade_out=np.int64,
        curve=np.int8,
        reversed=np.bool_,
        upmix=np.float32,
        window=np.int64,
    )
    return ClipTable(**{k: np.array(base[k], dtype=types[k]) for k in types})


def test_clip_renders_at_its_position_the_roadmaps_test():
    arrays = [np.ones((96000, 1), np.float32)]
    pool = source_list(arrays)
    buf = np.zeros((1, 4800, 2), np.float32)
    read_clips(buf, 4800, 72000, _table(), pool, memory_windows(arrays))  # 1.5 s into a clip starting at 1.0 s
    assert (buf != 0).all()


def test_block_straddling_the_clip_start_fills_only_from_the_exact_frame():
    arrays = [np.ones((96000, 1), np.float32)]
    pool = source_list(arrays)
    buf = np.zeros((1, 512, 2), np.float32)
    read_clips(buf, 512, 48000 - 100, _table(), pool, memory_windows(arrays))
    assert (buf[0, :100] == 0).all() and (buf[0, 100:] == 1).all()


def test_stereo_source_keeps_its_channels_and_mono_gets_upmix_gain():
    stereo = np.stack([np.full(100, 0.25), np.full(100, -0.5)], axis=1).astype(np.float32)
    mono = np.ones((100, 1), np.float32)
    arrays = [stereo, mono]
    pool = source_list(arrays)
    buf = np.zeros((2, 64, 2), np.float32)
    table = _table(
        track=[0, 1],
        start=[0, 0],
        end=[100, 100],
        source=[0, 1],
        offset=[0, 0],
        gain=[1, 1],
        fade_in=[0, 0],
        fade_out=[0, 0],
        curve=[0, 0],
        reversed=[False, False],
        upmix=[1.0, 0.5],
        window=[[0, 100], [0, 100]],
    )
    read_clips(buf, 64, 0, table, pool, memory_windows(arrays))
    assert (buf[0, :, 0] == 0.25).all() and (buf[0, :, 1] == -0.5).all()
    assert (buf[1] == 0.5).all()
