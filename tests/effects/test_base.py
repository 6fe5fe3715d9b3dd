import numpy as np
import pytest

from mixtree import effects as fx
from mixtree.effects.base import Effect


def test_parameters_are_described_and_reachable_by_id_name_or_attribute():
    comp = fx.Compressor(threshold_db=-18.0, ratio=4.0, attack=0.005, release=0.1)
    ids = [p.id for p in comp.parameters]
    assert ids == ["threshold_db", "ratio", "knee_db", "attack", "release", "makeup_db", "detection"]
    spec = comp.parameters[0]
    assert (spec.min, spec.max, spec.default, spec.unit, spec.scale) == (-60.0, 0.0, -18.0, "dB", "db")
    comp.set_parameter("ratio", 2.0)
    assert comp.get_parameter("ratio") == 2.0 and comp.ratio == 2.0
    comp.set_parameter("Threshold", -12.0)
    assert comp.threshold_db == -12.0
    comp.detection = "rms"
    assert comp.get_parameter("detection") == "rms"


def test_bad_values_and_names_are_clear_errors():
    comp = fx.Compressor()
    with pytest.raises(ValueError, match=r"ratio must be within 1..50, not 0.5"):
        comp.ratio = 0.5
    with pytest.raises(ValueError, match=r"no parameter 'wet' \(it has threshold_db, ratio"):
        comp.set_parameter("wet", 1.0)
    with pytest.raises(ValueError, match="detection must be one of peak, rms"):
        comp.detection = "loud"
    with pytest.raises(ValueError, match="kind must be one of lowpass"):
        fx.Filter(kind="comb")


def test_state_round_trips_as_plain_data():
    eq = fx.EQ3(low_db=3.0, high_db=-2.0)
    eq.bypass = True
    state = eq.get_state()
    assert state == {
        "type": "eq3",
        "parameters": {"low_db": 3.0, "mid_db": 0.0, "high_db": -2.0, "low_freq": 250.0, "high_freq": 4000.0},
        "bypass": True,
    }
    again = Effect.from_state(state)
    assert isinstance(again, fx.EQ3) and again.get_state() == state
    with pytest.raises(ValueError, match="unknown effect type 'flanger'"):
        Effect.from_state({"type": "flanger"})


def test_repr_reads_like_the_call():
    assert repr(fx.Gain(db=-1.0)) == "Gain(db=-1.0)"
    assert repr(fx.Filter("highpass", 80.0)).startswith("Filter(kind='highpass', freq=80.0")


def test_every_builtin_reports_zero_latency_and_resets_its_memory():
    rng = np.random.default_rng(0)
    for effect in (fx.Filter(), fx.EQ3(low_db=6), fx.Compressor(), fx.Delay(mix=1.0), fx.Reverb(mix=1.0)):
        assert effect.latency == 0
        noise = rng.standard_normal((4800, 2)).astype(np.float32)
        effect.process(noise, 48000)
        effect.reset()
        silence = np.zeros((4800, 2), np.float32)
        assert not effect.process(silence, 48000).any(), effect


@pytest.mark.parametrize(
    "effect",
    [
        fx.Gain(db=-3),
        fx.Pan(pan=0.3),
        fx.Filter("peak", 800, 2, 6),
        fx.EQ3(2, -3, 4),
        fx.Compressor(threshold_db=-30),
        fx.Delay(time=0.01),
        fx.Reverb(),
    ],
    ids=repr,
)
def test_processing_does_not_depend_on_block_size(effect):
    x = (np.random.default_rng(1).standard_normal((9000, 2)) * 0.3).astype(np.float32)
    whole = effect.process(x.copy(), 48000)
    effect.reset()
    parts = x.copy()
    for at in range(0, 9000, 257):
        effect.process(parts[at : at + 257], 48000)
    assert np.array_equal(whole, parts)


def test_bypass_crossfades_to_the_dry_signal():
    g = fx.Gain(db=-20.0)
    x = np.ones((4800, 2), np.float32)
    g.process(x.copy(), 48000)
    g.bypass = True
    y = g.process(x.copy(), 48000)
    assert y[0, 0] < 0.2 and y[-1, 0] == 1.0
    assert np.all(np.diff(y[:, 0]) >= 0) and np.abs(np.diff(y[:, 0])).max() < 0.01


def test_mono_blocks_are_processed_as_mono():
    block = np.ones((100, 1), np.float32)
    fx.Gain(db=-6.0).process(block, 48000)
    assert block[50, 0] == pytest.approx(10 ** (-6 / 20))
    with pytest.raises(ValueError, match="frames, 1 or 2 channels"):
        fx.Gain().process(np.ones((10, 3), np.float32), 48000)
