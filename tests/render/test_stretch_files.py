import os

import numpy as np
import soundfile as sf

import mixtree as mt
from mixtree.render import stretch_files
from mixtree.render.stretch_files import find, store
from tests.conftest import RATE

KEY = "ab" * 32


def _audio(seconds: float = 1.0, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal((int(seconds * RATE), 2)) * 0.1).astype(np.float32)


def test_a_stored_render_streams_and_is_found_again_by_its_signature(tmp_path):
    data = _audio()
    source = store(tmp_path, KEY, data, RATE, -1)
    assert source.streamed and source.rendered and source.sha256 == KEY
    again = find(tmp_path, KEY, RATE, -2)
    assert again is not None and again.path == source.path and again.frames == data.shape[0]
    assert find(tmp_path, "cd" * 32, RATE, -3) is None


def test_a_damaged_file_is_not_used_and_goes(tmp_path):
    path = store(tmp_path, KEY, _audio(), RATE, -1).path
    sf.write(str(path), _audio(0.5), RATE, subtype="FLOAT")  # cut short
    assert find(tmp_path, KEY, RATE, -2) is None and not path.exists()


def test_a_second_writer_of_one_render_leaves_the_first_ones_file_alone(tmp_path):
    first = store(tmp_path, KEY, _audio(), RATE, -1)
    stamp = first.path.stat().st_mtime_ns
    second = store(tmp_path, KEY, _audio(), RATE, -2)
    assert second.path == first.path and first.path.stat().st_mtime_ns == stamp
    assert [p.name for p in tmp_path.iterdir()] == [first.path.name]  # no part file left


def test_the_folder_is_trimmed_least_recently_used_first_but_not_what_is_in_use(tmp_path, monkeypatch):
    monkeypatch.setattr(stretch_files, "FOLDER_BYTES", 3 * _audio().nbytes)
    paths = []
    for k in range(5):
        paths.append(store(tmp_path, f"{k:02d}" * 32, _audio(seed=k), RATE, -1 - k, in_use=paths[:1]).path)
        os.utime(paths[-1], ns=(k * 10**9, k * 10**9))  # made one after another
    left = sorted(p.name for p in tmp_path.glob("*.wav"))
    assert paths[0].name in left and paths[-1].name in left  # in use; the newest
    assert len(left) <= 3


def test_before_its_first_save_a_project_keeps_them_in_a_folder_of_the_users_own():
    folder = stretch_files.folder_for(mt.Project(sample_rate=RATE))
    assert folder.parent.name == f"mixtree-{os.getuid()}" and folder.parent.stat().st_mode & 0o077 == 0
