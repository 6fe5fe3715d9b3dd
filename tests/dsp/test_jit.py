"""Kernels load lazily: importing mixtree and opening a project leave numba unloaded, and
what renders then is what an eagerly compiled process renders."""

import subprocess
import sys
from pathlib import Path

import numpy as np

import mixtree as mt
from mixtree import effects as fx
from mixtree.dsp import jit
from mixtree.dsp.biquad import filter_kernel

# Runs in a fresh interpreter: imports, opens the project, then renders it.
FRESH = """
import sys
import numpy as np
import mixtree as mt
from mixtree.dsp import biquad, jit
assert "numba" not in sys.modules, "import mixtree loaded numba"
assert isinstance(biquad.filter_kernel, jit.Kernel) and not jit.loaded()
p = mt.Project.load(sys.argv[1])
assert "numba" not in sys.modules, "opening a project loaded numba"
np.save(sys.argv[2], p.render(0.0, 0.25))
assert jit.loaded() and not isinstance(biquad.filter_kernel, jit.Kernel)
"""


def _project(wav) -> mt.Project:
    rng = np.random.default_rng(3)
    path = wav((rng.standard_normal((12000, 2)) * 0.3).astype(np.float32))
    p = mt.Project(sample_rate=48000)
    t = p.add_audio_track("noise")
    t.add_clip(p.pool.load(path))
    t.add_effect(fx.EQ3(low_db=4.0, high_db=-6.0))
    t.add_effect(fx.Filter("lowpass", 3000.0))
    t.add_effect(fx.Reverb())
    t.add_effect(fx.Compressor())
    return p


def test_a_fresh_process_opens_a_project_without_numba_and_renders_it_bit_for_bit(wav, tmp_path: Path):
    p = _project(wav)
    path = p.save(tmp_path / "p.json")
    out = tmp_path / "out.npy"
    run = subprocess.run([sys.executable, "-c", FRESH, str(path), str(out)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert np.array_equal(np.load(out), p.render(0.0, 0.25))


# Runs in a fresh interpreter: describes a project with lanes and a speed ramp.
DESCRIBE = """
import sys
import mixtree as mt
p = mt.Project.load(sys.argv[1])
lane = next(lane for lane in p.lanes if lane.label.startswith("volume"))
print(repr(p.duration), repr(lane.value_at(1.3)), repr(lane.value_at(2.7)))
assert "numba" not in sys.modules, "describing a project loaded numba"
"""


def test_a_project_with_lanes_and_speed_ramps_is_described_without_numba_and_the_same(wav, tmp_path: Path):
    p = _project(wav)
    t = p.tracks[0]
    volume = t.automate("volume_db")
    volume.add_point(1.0, -6.0, shape="bend", tension=0.4)
    volume.add_point(3.0, 2.0, shape="s_curve")
    m = p.create_metatrack([t.id])
    speed = m.automate("speed")
    speed.add_point(0.05, 1.0, shape="geometric")
    speed.add_point(0.2, 0.5)
    path = p.save(tmp_path / "p.json")
    run = subprocess.run([sys.executable, "-c", DESCRIBE, str(path)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    jit.realize()
    assert run.stdout.split() == [repr(p.duration), repr(volume.value_at(1.3)), repr(volume.value_at(2.7))]


def test_once_loaded_module_globals_hold_the_dispatchers_and_a_kernel_object_forwards():
    jit.realize()
    assert jit.loaded()
    from mixtree.dsp import biquad

    assert not isinstance(biquad.filter_kernel, jit.Kernel)
    # every module's globals get the dispatcher, this one's too (imported before or after)
    assert filter_kernel is biquad.filter_kernel
    kernel = jit.Kernel(lambda x: x + 1, (), {"cache": False})
    kernel.dispatcher = jit.njit(cache=False)(kernel.py_func)
    assert kernel(41) == 42
    assert jit.compiled(kernel) is kernel.dispatcher
    assert jit.compiled(biquad.filter_kernel) is biquad.filter_kernel


# A user's kernel module: numba.njit code calling a mixtree helper imported as a stand-in.
USER = """
import numba
import numpy as np
from mixtree.dsp import jit
from mixtree.dsp.smoothing import CUR, TGT, value_at
assert isinstance(value_at, jit.Kernel)

@numba.njit
def first_value(params, auto):
    return value_at(params, auto, 0, 0)

jit.compiled(first_value)  # what a plan's stages do before any kernel runs
params = np.zeros((2, 4))
params[0, CUR] = params[0, TGT] = 0.25
print(first_value(params, np.zeros((0, 0))))
"""


def test_a_users_numba_kernel_may_call_mixtree_helpers_imported_before_numba_loaded():
    run = subprocess.run([sys.executable, "-c", USER], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert float(run.stdout) == 0.25


def test_an_entry_point_runs_the_kernel_for_its_argument_types_without_dispatch():
    from mixtree.dsp.mixer import clear

    buf = np.ones((2, 8, 2), np.float32)
    run = jit.entry(clear, buf, 0)
    assert run is not jit.compiled(clear) and run.__name__ == "clear"
    run(buf, 5)
    assert not buf[:, :5].any() and buf[:, 5:].all()
    timed = lambda *args: None  # noqa: E731 - a profiler's wrapper stands in for the kernel
    assert jit.entry(timed, buf, 0) is timed


def test_the_engine_binds_a_plan_before_the_audio_thread_plays_it(wav):
    # (what a bound plan plays is the same compiled code: the engine's bit-for-bit tests hold)
    eng = mt.Engine(_project(wav), driver="null", blocksize=256, autosave=None)
    try:
        assert len(eng._published._calls) == 5
        assert len(eng.publish()._calls) == 5
    finally:
        eng.close()


def test_a_kernels_gil_free_variant_keeps_its_options():
    from mixtree.dsp import dynamics

    compressor, filters = jit.nogil(dynamics.compressor_kernel), jit.nogil(filter_kernel)
    assert compressor.targetoptions["nogil"] and compressor.targetoptions["error_model"] == "numpy"
    assert filters.targetoptions["nogil"] and filters.slp
