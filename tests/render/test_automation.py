"""Automation in the render: what plays is exactly the curve that was drawn, at any block size."""

import numpy as np
import pytest

import mixtree as mt
from mixtree import effects as fx
from mixtree.engine.engine import Engine
from tests.conftest import RATE
from tests.quality.measure import CLICK_THRESHOLD, clicks

C = np.float32(np.sqrt(0.5))  # a mono track at the centre


@pytest.fixture
def dc(project, ones):
    """One track playing constant 1.0 for two seconds (mono, centre)."""
    t = project.add_audio_track("DC")
    t.add_clip(project.pool.load(ones))
    return t


def test_a_volume_ramp_plays_the_analytic_gain(project, dc):
    lane = dc.automate("volume_db")
    lane.add_point(0.5, 0.0)
    lane.add_point(1.5, -40.0)
    out = project.render(0.0, 2.0)[:, 0].astype(np.float64)
    n = np.arange(2 * RATE)
    u = np.clip((n / RATE - 0.5) / 1.0, 0.0, 1.0)
    expected = 10 ** (-40.0 * u / 20.0) * np.sqrt(0.5)
    assert np.abs(out - expected).max() < 1e-6


@pytest.mark.parametrize("tension", [1.0, -1.0])
def test_a_steep_bend_of_volume_plays_its_formula_to_the_cusp(project, dc, tension):
    lane = dc.automate("volume_db")
    lane.set_points([(0.5, 0.0, "bend", tension), (0.5 + 3001 / RATE, -40.0, "hold", 0.0)])
    out = project.render(0.0, 1.0)[:, 0].astype(np.float64)
    u = np.clip((np.arange(RATE) / RATE - 0.5) * RATE / 3001, 0.0, 1.0)
    a = (1.0 + tension) / 2.0
    root = a + np.sqrt(np.maximum(a * a + (1.0 - 2.0 * a) * u, 0.0))
    s = np.divide(u, root, out=np.zeros_like(u), where=root > 0)
    f = 2.0 * s * (1.0 - s) * (1.0 - a) + s * s
    expected = 10 ** (-40.0 * f / 20.0) * np.sqrt(0.5)
    assert np.abs(out - expected)[: int(0.5 * RATE) + 3001].max() < 1e-6


@pytest.mark.parametrize("rate", [44100, 48000, 96000])
def test_a_point_takes_effect_on_the_first_frame_at_or_after_its_time(rate, wav):
    p = mt.Project(sample_rate=rate)
    t = p.add_audio_track("DC")
    t.add_clip(p.pool.load(wav(np.ones((rate, 1), np.float32), rate=rate, name="one.wav")))
    lane = t.automate("volume_db")
    lane.add_point(0.0, 0.0, shape="hold")
    lane.add_point(0.25 + 0.3 / rate, -150.0, shape="hold")  # between two frames
    out = p.render(0.0, 0.5)[:, 0]
    first = int(np.ceil((0.25 + 0.3 / rate) * rate))
    assert out[first - 1] > 0.7 * C and out[first] < out[first - 1]  # the de-click starts there
    ramp = int(0.010 * rate)
    assert not out[first + ramp :].any()


def test_points_land_on_their_frames_inside_a_transformed_metatrack(project, dc):
    lane = dc.automate("mute")
    lane.set_points([(0.0, "off", "hold", 0.0), (1.0, "on", "hold", 0.0)])  # on the track's own timeline
    m = project.create_metatrack([dc.id])
    m.offset, m.speed = 0.2, 2.0  # child time 1.0 is project time 0.2 + 0.5
    out = project.render(0.0, 1.2)[:, 0]
    frame = int(0.7 * RATE)
    assert out[frame - 1] > 0.5 and out[frame] < out[frame - 1] and not out[frame + 480 :].any()


@pytest.mark.parametrize("shape", ["linear", "smooth", "s_curve", "fast_start", "fast_end", "bend", "hold"])
def test_renders_are_bit_identical_at_every_block_size(project, dc, shape):
    dc.automate("volume_db").set_points([(0.1, 0.0, shape, 0.4), (0.9, -24.0, shape, -0.3), (1.3, -3.0, "hold", 0)])
    dc.automate("pan").set_points([(0.0, -1.0, shape, 0.2), (1.0, 1.0, "linear", 0.0)])
    bus = project.add_bus("B")
    bus.add_effect(fx.Delay(time=0.05, mix=1.0))
    dc.add_send(bus.id).automate().set_points([(0.2, -40.0, shape, 0.0), (0.6, 0.0, "hold", 0.0)])
    renders = [project.render(0.0, 1.5, blocksize=b) for b in (32, 256, 4096)]
    assert np.array_equal(renders[0], renders[1]) and np.array_equal(renders[1], renders[2])


def test_playback_equals_the_render_bit_for_bit(project, dc):
    dc.automate("volume_db").set_points([(0.0, -20.0, "s_curve", 0), (1.0, 0.0, "linear", 0)])
    dc.automate("mute").set_points([(0.5, 1, "hold", 0), (0.6, 0, "hold", 0)])
    ref = project.render(0.0, 1.0)
    eng = Engine(project, driver="null", blocksize=256)
    eng.play()
    out = np.concatenate([eng.process() for _ in range(RATE // 256)])
    assert np.array_equal(out, ref[: out.shape[0]])


def test_lanes_hold_their_ends_and_off_leaves_the_fader_manual(project, dc):
    lane = dc.automate("volume_db")
    lane.set_points([(0.5, -6.0, "linear", 0), (1.0, -12.0, "linear", 0)])
    out = project.render(0.0, 1.5)[:, 0]
    assert out[0] == pytest.approx(10 ** (-6 / 20) * C) and out[-1] == pytest.approx(10 ** (-12 / 20) * C)
    lane.mode = "off"
    dc.volume_db = -3.0
    assert project.render(0.0, 0.1)[0, 0] == pytest.approx(10 ** (-3 / 20) * C)


def test_no_click_where_lanes_jump_or_start(project, wav):
    tone = (0.5 * np.sin(2 * np.pi * 440 * np.arange(2 * RATE) / RATE)).astype(np.float32)[:, None]
    t = project.add_audio_track("Tone")
    t.add_clip(project.pool.load(wav(tone)))
    t.automate("mute").set_points([(0.5, 1, "hold", 0), (1.0, 0, "hold", 0)])
    t.automate("volume_db").set_points([(1.2, 0.0, "hold", 0), (1.4, -12.0, "hold", 0)])
    assert clicks(project.render(0.0, 2.0)[:, 0], RATE) < CLICK_THRESHOLD


def test_stems_follow_automation(project, dc, tmp_path):
    import soundfile as sf

    dc.automate("volume_db").set_points([(0.0, 0.0, "linear", 0), (1.0, -30.0, "linear", 0)])
    other = project.add_audio_track("Other")
    other.add_clip(dc.clips[0].source, start=0.5)
    other.automate("pan").set_points([(0.5, -1.0, "linear", 0), (1.5, 1.0, "linear", 0)])
    stems = project.export_stems(tmp_path, 0.0, 2.0)
    total = sum(sf.read(str(f), dtype="float32")[0] for f in stems)
    assert np.allclose(total, project.render(0.0, 2.0), atol=1e-6)


def test_an_effect_parameter_lane_plays_per_frame(project, dc):
    gain = dc.add_effect(fx.Gain(db=0.0))
    gain.automate("db").set_points([(0.5, 0.0, "linear", 0), (1.5, -20.0, "linear", 0)])
    out = project.render(0.0, 2.0)[:, 0].astype(np.float64)
    u = np.clip((np.arange(2 * RATE) / RATE - 0.5), 0.0, 1.0)
    assert np.abs(out - 10 ** (-20.0 * u / 20.0) * np.sqrt(0.5)).max() < 1e-6


@pytest.mark.parametrize("blocksize", [32, 256, 4096])
def test_effect_lanes_are_bit_identical_at_every_block_size(project, wav, blocksize):
    noise = (np.random.default_rng(4).standard_normal((2 * RATE, 2)) * 0.2).astype(np.float32)
    t = project.add_audio_track("Noise")
    t.add_clip(project.pool.load(wav(noise)))
    sweep = t.add_effect(fx.Filter("lowpass", 200.0))
    sweep.automate("freq").set_points([(0.0, 200.0, "geometric", 0), (1.5, 8000.0, "hold", 0)])
    comp = t.add_effect(fx.Compressor())
    comp.automate("threshold_db").set_points([(0.2, -40.0, "bend", 0.6), (1.0, 0.0, "linear", 0)])
    t.add_effect(fx.Delay(time=0.1)).automate("mix").set_points([(0.0, 0.0, "s_curve", 0), (1.0, 1.0, "linear", 0)])
    reference = project.render(0.0, 1.8, blocksize=512)
    assert np.array_equal(project.render(0.0, 1.8, blocksize=blocksize), reference)
    eng = Engine(project, driver="null", blocksize=blocksize)
    eng.play()
    played = np.concatenate([eng.process() for _ in range(int(1.8 * RATE) // blocksize)])
    assert np.array_equal(played, reference[: played.shape[0]])


def test_a_sweep_moves_the_filter_where_the_lane_says(project, wav):
    noise = (np.random.default_rng(5).standard_normal((4 * RATE, 1)) * 0.2).astype(np.float32)
    t = project.add_audio_track("Noise")
    t.add_clip(project.pool.load(wav(noise)))
    low = t.add_effect(fx.Filter("lowpass", 200.0))
    low.automate("freq").set_points([(0.0, 200.0, "hold", 0), (2.0, 8000.0, "hold", 0)])
    out = project.render(0.0, 4.0)[:, 0]

    def brightness(x):
        spectrum = np.abs(np.fft.rfft(x * np.hanning(x.size)))
        freqs = np.fft.rfftfreq(x.size, 1 / RATE)
        return (spectrum * freqs).sum() / spectrum.sum()

    assert brightness(out[RATE : RATE + 8192]) < 700 < 2000 < brightness(out[3 * RATE : 3 * RATE + 8192])


def test_an_automated_filter_redesigned_every_32_frames_stays_within_its_error_bound(project, wav):
    from mixtree.dsp.biquad import KINDS, design

    noise = (np.random.default_rng(4).standard_normal((2 * RATE, 1)) * 0.2).astype(np.float32)
    t = project.add_audio_track("Noise")
    t.add_clip(project.pool.load(wav(noise)))
    low = t.add_effect(fx.Filter("lowpass", 200.0))
    low.automate("freq").set_points([(0.0, 200.0, "geometric", 0), (1.5, 8000.0, "hold", 0)])
    out = project.render(0.0, 2.0)[:, 0].astype(np.float64)
    # the reference designs the filter afresh at every frame (transposed direct form II)
    seconds = np.arange(2 * RATE) / RATE
    freq = np.where(seconds < 1.5, 200.0 * 40.0 ** (seconds / 1.5), 8000.0)
    x = noise[:, 0].astype(np.float64)
    ref = np.zeros_like(x)
    c = np.zeros(5)
    z1 = z2 = 0.0
    for n in range(x.size):
        design(KINDS.index("lowpass"), freq[n], low.q, 0.0, float(RATE), c)
        y = c[0] * x[n] + z1
        z1 = c[1] * x[n] - c[3] * y + z2
        z2 = c[2] * x[n] - c[4] * y
        ref[n] = y
    ref *= np.sqrt(0.5)
    err = out - ref
    assert np.abs(err).max() < 1e-3  # measured 5.2e-4 (-66 dBFS) on this sweep of 5.3 octaves in 1.5 s
    assert np.sqrt((err**2).mean()) < 1e-3 * np.sqrt((ref**2).mean()) * 10  # rms 61 dB under the signal


def test_a_beats_lane_follows_a_tempo_ramp(project, dc):
    project.tempo_map.set_tempo(at_beat=1, bpm=120.0)
    project.tempo_map.set_tempo(at_beat=3, bpm=60.0, ramp=True)  # beat 2.5 falls inside the ramp
    lane = dc.automate("mute")
    lane.time_base = "beats"
    lane.set_points([(0.0, "off", "hold", 0.0), (2.5, "on", "hold", 0.0)])
    out = project.render(0.0, 2.0)[:, 0]
    first = int(np.ceil(project.tempo_map.seconds_at(2.5) * RATE))
    ramp = 120.0 * 2 / (120 + 60)  # seconds the two ramped beats take
    k = (60 - 120) / ramp  # bpm a second
    assert first == int(np.ceil((0.5 + (-120 + np.sqrt(120**2 + 2 * k * 60 * 1.5)) / k) * RATE))
    assert out[first - 1] == C and out[first] < C


def test_a_beats_lane_inside_a_metatrack_counts_through_its_own_tempo_map(project, dc):
    lane = dc.automate("mute")
    lane.time_base = "beats"
    lane.set_points([(0.0, "off", "hold", 0.0), (3.0, "on", "hold", 0.0)])
    m = project.create_metatrack([dc.id])
    m.offset = 0.25
    m.tempo_map = mt.TempoMap(90.0)  # beat 3 is 2 s of the children's time: project time 2.25
    delay = dc.add_effect(fx.Delay(beats=1.0, mix=0.0))
    out = project.render(0.0, 2.5)[:, 0]
    first = int(2.25 * RATE)
    assert out[first - 1] == C and out[first] < C
    assert delay.tempo_bpm == 90.0  # a beat-synced delay follows the tempo where it is


def test_an_instrument_parameter_lane_takes_its_value_on_every_16th_frame(project):
    synth = project.add_midi_track("Synth")
    synth.add_midi_clip(0.0, 1.0).add_note(57, 100, 0.0, 1.0)
    reference = project.render(0.0, 0.5).astype(np.float64)
    lane = synth.instrument.automate("gain_db")
    lane.set_points([(0.0, -12.0, "hold", 0.0), (12004.8 / RATE, 0.0, "hold", 0.0)])
    out = project.render(0.0, 0.5).astype(np.float64)
    knot = 12016  # the first knot after the point's frame (12005)
    assert np.array_equal(out[:knot], reference[:knot])
    np.testing.assert_allclose(out[knot:], reference[knot:] * 10 ** (12 / 20), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("blocksize", [32, 100, 4096])
def test_instrument_lanes_are_bit_identical_at_every_block_size(project, blocksize):
    synth = project.add_midi_track("Synth")
    synth.add_midi_clip(0.0, 1.0).add_note(57, 100, 0.1, 0.8)
    synth.instrument.automate("cutoff").set_points([(0.0, 200.0, "geometric", 0.0), (1.0, 8000.0, "hold", 0.0)])
    reference = project.render(0.0, 1.0, blocksize=256)
    assert np.array_equal(project.render(0.0, 1.0, blocksize=blocksize), reference)
    synth.instrument.lanes["cutoff"].mode = "off"
    assert not np.array_equal(project.render(0.0, 1.0), reference)  # the sweep was heard


def test_an_instrument_lane_survives_save_and_load(project, tmp_path):
    synth = project.add_midi_track("Synth")
    synth.instrument.automate("cutoff").set_points([(0.0, 200.0, "linear", 0.0), (1.0, 8000.0, "hold", 0.0)])
    project.save(tmp_path / "song.json")
    again = mt.Project.load(tmp_path / "song.json")
    lane = again.track(synth.id).instrument.lanes["cutoff"]
    assert lane.points == synth.instrument.lanes["cutoff"].points


class _Scale(fx.Effect):
    """A user effect without a kernel: multiplies by ``amount`` as it plays."""

    PARAMETERS = (fx.Parameter("amount", "Amount", 0.0, 1.0, 1.0),)

    def process_block(self, block, sample_rate):
        block *= self.value("amount")


@pytest.mark.parametrize("blocksize", [32, 100, 4096])
def test_an_effect_without_a_kernel_plays_its_lane_held_from_knot_to_knot(project, dc, blocksize):
    scale = dc.add_effect(_Scale())
    lane = scale.automate("amount")
    lane.set_points([(0.0, 1.0, "linear", 0.0), (1.0, 0.0, "hold", 0.0)])
    out = project.render(0.0, 1.5, blocksize=blocksize)[:, 0]
    knots = np.arange(int(1.5 * RATE)) // 16 * 16
    expected = np.clip(1.0 - knots / RATE, 0.0, 1.0) * C
    np.testing.assert_allclose(out, expected, rtol=0, atol=2e-7)
    assert scale.get_parameter("amount") == 1.0  # its own value is untouched
    lane.mode = "off"
    assert np.array_equal(project.render(0.0, 0.5, blocksize=blocksize)[:, 0], np.full(RATE // 2, C))


def test_fader_pieces_play_the_same_gains_with_or_without_the_piece_before(project, dc):
    # a lane's piece that starts where its last one ended takes its left end from the
    # memo, and a slot's piece where one lane's ends plays the others' on: the gains are
    # those a plan that forgets every piece works out
    from mixtree.dsp.mixer import L_AT_RIGHT, L_START, LANE_PIECE, LANE_PIECES, START
    from mixtree.render.compile import CompileOptions, compile_plan

    dc.automate("volume_db").set_points([(0.1, -20.0, "s_curve", 0.0), (1.9, 0.0, "linear", 0.0)])
    dc.automate("pan").set_points([(0.0, -0.5, "bend", 0.3), (2.0, 0.7, "linear", 0.0)])
    kept, forgot = (compile_plan(project, CompileOptions(max_block=256)) for _ in range(2))
    kept.keep_gains()
    forgot.keep_gains()
    s = kept.slot_of(dc.id)
    out = np.zeros((256, 2), np.float32)
    volume, pan = LANE_PIECES, LANE_PIECES + LANE_PIECE  # (their own pieces' columns)
    reused = carried = 0
    for b in range(0, 2 * RATE, 256):
        right = kept.faders.memo[s, pan + L_AT_RIGHT]
        first = kept.faders.memo[s, volume + L_START]
        kept.process(out, b)
        reused += kept.faders.memo[s, pan + L_START] == right
        carried += kept.faders.memo[s, volume + L_START] == first < kept.faders.memo[s, START]
        forgot.faders.memo[:] = -1.0
        forgot.process(out, b)
        assert np.array_equal(kept.mix.gains[s, :256], forgot.mix.gains[s, :256]), b
    assert reused > 10 and carried > 10


@pytest.mark.parametrize("tension", [0.3, 0.9])  # 0.9: a piece a frame, more than a slot defers
@pytest.mark.parametrize("meters", [True, False])
def test_gains_the_mixing_works_out_are_those_the_fader_stage_writes(project, dc, wav, tension, meters):
    # a slot that feeds no send has its gains worked out by the mixing (`Mix.deferred`),
    # from the piece in its memo or the pieces the block spans: the same bits as a plan
    # that writes every slot's gains (`keep_gains`), and the same gains; a mono slot
    # (pan law) and a stereo one (balance)
    from mixtree.render.compile import CompileOptions, compile_plan

    noise = np.random.default_rng(2).uniform(-0.5, 0.5, (RATE, 2)).astype(np.float32)
    stereo = project.add_audio_track("Stereo")
    stereo.add_clip(project.pool.load(wav(noise, name="noise.wav")))
    for k, t in enumerate((dc, stereo)):
        t.automate("volume_db").set_points([(0.1, -20.0, "bend", tension), (0.6, 0.0, "s_curve", 0.0)])
        t.automate("pan").set_points([(0.0, -0.5 - 0.3 * k, "smooth", 0.0), (1.0, 0.7, "linear", 0.0)])
    dc.automate("mute").set_points([(0.8, 1, "hold", 0.0), (0.85, 0, "hold", 0.0)])
    options = CompileOptions(max_block=256, fresh=not meters)
    deferring, writing = (compile_plan(project, options) for _ in range(2))
    writing.keep_gains()
    slots = [deferring.slot_of(t.id) for t in (dc, stereo)]
    seen = [set(), set()]
    a, b = np.zeros((256, 2), np.float32), np.zeros((256, 2), np.float32)
    for at in range(0, RATE, 256):
        deferring.process(a, at)
        writing.process(b, at)
        assert np.array_equal(a, b), at
        assert np.array_equal(deferring.faders.last, writing.faders.last), at
        assert np.array_equal(deferring.faders.peak, writing.faders.peak), at
        for k, s in enumerate(slots):
            seen[k].add(int(deferring.mix.deferred[s]))
            assert writing.mix.deferred[s] == 0
    # from the memo (-1, -2 on a balance); written (more pieces than a slot keeps: the
    # mute's glide); from the pieces the block spans
    assert {-1, 0} <= seen[0] and max(seen[0]) >= 2
    assert -2 in seen[1] and max(seen[1]) >= 2
