"""MIDI tracks in the render: timing to the sample, polyphony, pedal, stuck notes, import."""

import mido
import numba as nb
import numpy as np
import pytest

import mixtree as mt
from mixtree import effects as fx
from mixtree.dsp.synth import NOTE_OFF, NOTE_ON
from mixtree.engine.engine import Engine
from tests.conftest import RATE
from tests.render.test_metatracks import peak_hz


def sine_keys(project, name="Keys", **synth):
    params = {"waveform": "sine", "attack": 0.0, "decay": 0.0, "sustain": 1.0, "release": 0.0, "velocity": 0.0} | synth
    return project.add_midi_track(name, instrument=mt.PolySynth(**params))


def onsets(x: np.ndarray, threshold: float = 1e-6) -> list[int]:
    """Return the first frame of each run of sound after silence."""
    loud = np.abs(x) > threshold
    return [int(i) for i in np.flatnonzero(loud[1:] & ~loud[:-1]) + 1] + ([0] if loud[0] else [])


def test_notes_start_on_their_exact_frame_even_after_a_tempo_change(project):
    keys = sine_keys(project)
    project.tempo_map.set_tempo(at_beat=4, bpm=90.0)
    clip = keys.add_midi_clip(start=0.0, duration=8.0)
    beats = [1.0, 2.5, 5.0, 6.75]
    for beat in beats:
        clip.add_note(69, 100, project.tempo_map.seconds_at(beat), 0.1)
    out = project.render(0.0, 6.0)[:, 0]
    expected = [round(project.tempo_map.seconds_at(b) * RATE) for b in beats]
    # a sine starts at phase 0, so the first sample may be 0: ±1 sample
    for got, want in zip(sorted(onsets(out)), expected, strict=True):
        assert abs(got - want) <= 1


@pytest.mark.parametrize("blocksize", [32, 100, 1024])
def test_midi_renders_the_same_at_every_block_size(project, blocksize):
    keys = project.add_midi_track("Keys", instrument=mt.PolySynth(waveform="saw", filter_env=3.0))
    clip = keys.add_midi_clip(0.0, 2.0)
    for i in range(12):
        clip.add_note(48 + i * 3, 60 + i * 5, 0.037 * i, 0.3)
    clip.add_event(0.5, "pitch_bend", 4000)
    clip.add_event(0.6, "cc", 100, number=7)
    assert np.array_equal(project.render(blocksize=blocksize), project.render(blocksize=512))


def test_sixteen_notes_sound_together_and_offline_renders_leave_the_instrument_alone(project):
    keys = sine_keys(project, release=0.5)
    clip = keys.add_midi_clip(0.0, 3.0)
    for i in range(16):
        clip.add_note(40 + i * 2, 100, 0.0, 1.0)
    out = project.render()[RATE // 2 : RATE * 3 // 4, 0]
    spectrum = np.abs(np.fft.rfft(out * np.hanning(len(out))))
    freqs = np.fft.rfftfreq(len(out), 1 / RATE)
    for i in range(16):
        f = 440 * 2 ** ((40 + i * 2 - 69) / 12)
        assert spectrum[np.argmin(abs(freqs - f))] > 0.1 * spectrum.max(), f
    live = keys.instrument.memory()[1]
    before = live.copy()
    project.render()  # offline renders run on private copies: the live voices stay at rest
    assert np.array_equal(live, before)


def test_voice_stealing_takes_the_voice_released_first_then_the_oldest():
    from mixtree.dsp import synth

    inst = mt.PolySynth(release=1.0)
    inst.prepare(RATE)
    params, state, _, _ = inst.memory()
    for n in range(32):
        synth._event(state, params, synth.NOTE_ON, 30 + n, 100, float(RATE))
    synth._event(state, params, synth.NOTE_OFF, 40, 0, float(RATE))
    synth._event(state, params, synth.NOTE_OFF, 35, 0, float(RATE))
    synth._event(state, params, synth.NOTE_ON, 90, 100, float(RATE))  # takes 40's voice
    notes = [state[synth.CHANNEL + v * synth.FIELDS + synth.NOTE] for v in range(32)]
    assert 40 not in notes and 35 in notes and 90 in notes
    synth._event(state, params, synth.NOTE_ON, 91, 100, float(RATE))  # takes 35's voice
    synth._event(state, params, synth.NOTE_ON, 92, 100, float(RATE))  # none released: the oldest (30)
    notes = [state[synth.CHANNEL + v * synth.FIELDS + synth.NOTE] for v in range(32)]
    assert 35 not in notes and 30 not in notes and {91, 92} <= set(notes)


def test_note_off_and_sustain_pedal(project):
    keys = sine_keys(project, release=0.01)
    clip = keys.add_midi_clip(0.0, 3.0)
    clip.add_note(60, 100, 0.0, 0.5)
    clip.add_event(0.1, "cc", 127, number=64)
    clip.add_note(64, 100, 0.2, 0.3)  # released at 0.5 s under the pedal
    clip.add_event(1.5, "cc", 0, number=64)
    out = project.render(0.0, 2.0)[:, 0]
    assert np.abs(out[int(1.0 * RATE) : int(1.4 * RATE)]).max() > 0.05  # held by the pedal
    assert np.abs(out[int(1.6 * RATE) :]).max() == 0.0  # released with the pedal


def test_a_clip_end_releases_its_notes(project):
    keys = sine_keys(project)
    clip = keys.add_midi_clip(0.0, 0.5)
    clip.add_note(60, 100, 0.25, 2.0)
    out = project.render(0.0, 1.0)[:, 0]
    assert np.abs(out[: RATE // 2]).max() > 0 and not out[RATE // 2 + 2 :].any()


def test_stop_seek_and_loop_leave_no_stuck_notes(project):
    keys = sine_keys(project, release=0.02)
    clip = keys.add_midi_clip(0.0, 4.0)
    clip.add_note(60, 100, 0.0, 3.0)
    eng = Engine(project, driver="null", blocksize=256)
    eng.play()
    [eng.process() for _ in range(20)]
    eng.seek(3.5)  # past the note's end: its note-off will never come
    after = np.concatenate([eng.process() for _ in range(20)])
    assert not after[-256:].any()
    eng.seek(0.5)
    [eng.process() for _ in range(10)]
    eng.stop()
    assert not np.concatenate([eng.process() for _ in range(10)])[-256:].any()
    eng.set_loop(True, 1.0, 1.2)  # jumps back into the middle of the note, over and over
    eng.seek(1.0)
    eng.play()
    [eng.process() for _ in range(100)]
    from mixtree.dsp.synth import CHANNEL, FIELDS

    assert sum(keys.instrument._state[CHANNEL + v * FIELDS] for v in range(32)) <= 2  # active voices


def test_starting_inside_a_note_plays_it_with_the_controllers_as_they_were_there(project):
    keys = sine_keys(project)
    clip = keys.add_midi_clip(0.0, 4.0)
    clip.add_note(69, 100, 0.0, 3.0)  # held across 1.5 s
    clip.add_note(76, 100, 0.2, 0.7)  # over before it
    clip.add_note(60, 100, 0.0, 1.5)  # ends exactly there
    clip.add_event(0.5, "pitch_bend", 4096)  # +1 semitone of the default 2
    bent = 440 * 2 ** (1 / 12)
    out = project.render(1.5, 1.0)[:, 0]
    assert np.abs(out[:64]).max() > 0  # at once, not at the next note-on
    assert peak_hz(out[RATE // 10 :]) == pytest.approx(bent, rel=1e-3)
    tail = out[RATE // 10 :]
    spectrum = np.abs(np.fft.rfft(tail * np.hanning(len(tail))))
    freqs = np.fft.rfftfreq(len(tail), 1 / RATE)
    for silent in (440 * 2 ** ((76 + 1 - 69) / 12), 440 * 2 ** ((60 + 1 - 69) / 12)):
        assert spectrum[np.argmin(abs(freqs - silent))] < 1e-3 * spectrum.max()
    assert not project.render(3.0, 0.5).any()  # the note-off at 3.0 s is where it ends
    eng = Engine(project, driver="null", blocksize=256)
    eng.seek(1.5)
    eng.play()
    played = np.concatenate([eng.process() for _ in range(40)])[:, 0]
    assert np.array_equal(played, project.render(1.5, len(played) / RATE)[:, 0])
    eng.close()


def test_seeking_back_before_a_bend_and_looping_over_it_restore_the_pitch(project):
    keys = sine_keys(project)
    clip = keys.add_midi_clip(0.0, 4.0)
    clip.add_note(69, 100, 0.0, 4.0)
    clip.add_event(1.0, "pitch_bend", 4096)
    clip.add_event(1.2, "cc", 20, number=7)  # quieter from 1.2 s
    eng = Engine(project, driver="null", blocksize=256)
    eng.play()
    [eng.process() for _ in range(300)]  # past the bend: 1.6 s
    eng.seek(0.5)
    back = np.concatenate([eng.process() for _ in range(60)])[:, 0]
    assert peak_hz(back[RATE // 100 :]) == pytest.approx(440, rel=1e-3)
    assert np.abs(back[RATE // 100 :]).max() == pytest.approx(np.abs(project.render(0.5, 0.3)[:, 0]).max(), rel=1e-3)
    eng.set_loop(True, 0.75, 1.5)  # each pass starts unbent and at full volume again
    eng.seek(0.75)
    passes = np.concatenate([eng.process() for _ in range(3 * 141)])[:, 0]
    second = passes[int(0.76 * RATE) : int(0.99 * RATE)]
    assert peak_hz(second) == pytest.approx(440, rel=1e-3)
    eng.close()


def test_the_fade_out_of_a_loop_jump_plays_no_notes(project):
    keys = sine_keys(project)
    clip = keys.add_midi_clip(0.0, 4.0)
    clip.add_note(69, 100, 0.25, 0.25)
    clip.add_note(72, 100, 2.0, 0.5)  # starts where the loop jumps back
    eng = Engine(project, driver="null", blocksize=256)
    eng.set_loop(True, 0.0, 2.0)
    eng.play()
    played = np.concatenate([eng.process() for _ in range(int(4.0 * RATE / 256))])[:, 0]
    assert not played[int(2.6 * RATE) : int(3.95 * RATE)].any()  # the second pass after its note
    eng.close()


def test_notes_held_by_the_sustain_pedal_are_chased_until_it_lifts(project):
    keys = sine_keys(project)
    clip = keys.add_midi_clip(0.0, 4.0)
    clip.add_event(0.1, "cc", 127, number=64)
    clip.add_note(60, 100, 0.0, 0.5)  # released at 0.5 s, held by the pedal
    clip.add_note(64, 100, 0.8, 0.1)  # over before the start, also held
    clip.add_event(2.0, "cc", 0, number=64)
    out = project.render(1.0, 1.5)[:, 0]
    assert np.abs(out[: RATE // 2]).max() > 0.05
    spectrum = np.abs(np.fft.rfft(out[: RATE // 2] * np.hanning(RATE // 2)))
    for pitch in (60, 64):
        f = 440 * 2 ** ((pitch - 69) / 12)
        assert spectrum[round(f / 2)] > 0.1 * spectrum.max(), pitch
    assert not out[RATE + RATE // 50 :].any()  # the pedal lifted at 2.0 s


def test_in_a_metatrack_speed_plays_faster_at_the_same_pitch_and_pitch_transposes(project):
    keys = sine_keys(project)
    clip = keys.add_midi_clip(0.0, 4.0)
    clip.add_note(69, 100, 1.0, 1.0)
    m = project.create_metatrack([keys.id])
    m.speed = 2.0
    out = project.render(0.0, 2.0)[:, 0]
    sounding = np.flatnonzero(np.abs(out) > 1e-4)
    assert abs(sounding[0] - RATE // 2) <= 1 and abs(sounding[-1] - RATE) <= 2
    assert peak_hz(out[int(0.55 * RATE) : int(0.95 * RATE)]) == pytest.approx(440, rel=1e-3)
    m.pitch = 12.0
    out = project.render(0.0, 2.0)[:, 0]
    assert peak_hz(out[int(0.55 * RATE) : int(0.95 * RATE)]) == pytest.approx(880, rel=1e-3)


def test_import_then_render_and_export_round_trips(tmp_path):
    mf = mido.MidiFile(type=1, ticks_per_beat=480)
    mf.tracks.append(
        mido.MidiTrack(
            [
                mido.MetaMessage("set_tempo", tempo=500000, time=0),
                mido.MetaMessage("time_signature", numerator=3, denominator=4, time=0),
                mido.MetaMessage("set_tempo", tempo=750000, time=960),
            ]
        )
    )
    for name, note in (("Lead", 72), ("Bass", 36)):
        mf.tracks.append(
            mido.MidiTrack(
                [
                    mido.MetaMessage("track_name", name=name, time=0),
                    mido.Message("note_on", note=note, velocity=100, time=0),
                    mido.Message("note_off", note=note, time=480),
                    mido.Message("note_on", note=note + 2, velocity=80, time=960),
                    mido.Message("note_off", note=note + 2, time=480),
                ]
            )
        )
    mf.save(str(tmp_path / "song.mid"))
    p = mt.import_midi(tmp_path / "song.mid", sample_rate=RATE)
    assert [t.name for t in p.tracks] == ["Lead", "Bass"]
    notes = [(n.pitch, n.start, n.duration) for n in p.tracks[0].midi_clips[0].notes]
    # beat 3 falls after the change to 80 bpm at beat 2: 1.0 s + 0.75 s
    assert notes == [(72, 0.0, 0.5), (74, 1.75, 0.75)]
    assert p.tempo_map.meters[0].numerator == 3
    mt.export_midi(p, tmp_path / "again.mid")
    q = mt.import_midi(tmp_path / "again.mid", sample_rate=RATE)
    for a, b in zip(p.tracks, q.tracks, strict=True):
        na = [(n.pitch, n.velocity) for n in a.midi_clips[0].notes]
        assert na == [(n.pitch, n.velocity) for n in b.midi_clips[0].notes]
        for x, y in zip(a.midi_clips[0].notes, b.midi_clips[0].notes, strict=True):
            assert abs(x.start - y.start) < 1e-3 and abs(x.duration - y.duration) < 1e-3
    assert np.abs(p.render()).max() > 0.01
    q2 = mt.Project.load(p.save(tmp_path / "song.json"))
    assert np.array_equal(q2.render(), p.render())


def test_cli_imports_midi_then_renders_it(tmp_path):
    from mixtree.cli.main import main

    mf = mido.MidiFile()
    mf.tracks.append(
        mido.MidiTrack(
            [mido.Message("note_on", note=60, velocity=90, time=0), mido.Message("note_off", note=60, time=480)]
        )
    )
    mf.save(str(tmp_path / "s.mid"))
    assert main(["import-midi", str(tmp_path / "s.mid"), "-o", str(tmp_path / "s.json")]) == 0
    assert main(["render", str(tmp_path / "s.json"), "-o", str(tmp_path / "s.wav")]) == 0
    (tmp_path / "bad.mid").write_bytes(b"MThd\x00")
    assert main(["import-midi", str(tmp_path / "bad.mid"), "-o", str(tmp_path / "b.json")]) == 1


def test_notes_can_be_placed_in_beats(project):
    project.tempo_map.set_tempo(at_beat=0, bpm=60.0)
    keys = sine_keys(project)
    clip = keys.add_midi_clip(start=2.0, duration=4.0, in_beats=True)  # beat 2 at 60 bpm: 2 s
    note = clip.add_note(64, 100, start=1.0, duration=0.5, in_beats=True)
    assert (clip.start, clip.duration) == (2.0, 4.0) and (note.start, note.duration) == (1.0, 0.5)


def test_beat_synced_delays_follow_the_project_tempo(project, ones):
    from mixtree import effects as fx

    t = project.add_audio_track("T")
    t.add_clip(project.pool.load(ones), duration=0.01)
    delay = t.add_effect(fx.Delay(beats=1.0, mix=1.0, feedback=0.0))
    project.tempo_map.set_tempo(at_beat=0, bpm=100.0)
    out = project.render(0.0, 1.0)[:, 0]
    assert delay.delay_seconds == pytest.approx(0.6)
    assert np.flatnonzero(out)[0] == int(0.6 * RATE)


@nb.njit(cache=False)
def _organ_kernel(buf, frames, block_start, slots, params, states, ramps, autos, rate, events):
    # a test instrument: while any note is held it outputs a constant 0.25 per note
    ev_time, ev_kind, _, _, lo, hi = events
    for r in range(slots.shape[0]):
        st = states[r]
        e = lo[r]
        while e < hi[r] and ev_time[e] < block_start:
            e += 1
        for i in range(frames):
            while e < hi[r] and ev_time[e] == block_start + i:
                st[0] += 1.0 if ev_kind[e] == NOTE_ON else -1.0 if ev_kind[e] == NOTE_OFF else 0.0
                e += 1
            buf[slots[r], i, 0] += 0.25 * st[0]
            buf[slots[r], i, 1] += 0.25 * st[0]


class _Organ(fx.Effect):
    is_instrument = True
    kernel = staticmethod(_organ_kernel)
    state_size = 1


def test_each_instrument_type_plays_through_its_own_kernel(project):
    synth = project.add_midi_track("Synth")
    synth.add_midi_clip(0.0, 0.5).add_note(69, 100, 0.0, 0.25)
    organ = project.add_midi_track("Organ", instrument=_Organ())
    organ.add_midi_clip(0.0, 0.5).add_note(60, 100, 0.1, 0.2)
    both = project.render(0.0, 0.5)
    organ.mute = True
    synth_alone = project.render(0.0, 0.5)
    organ.mute, synth.mute = False, True
    organ_alone = project.render(0.0, 0.5)
    assert np.allclose(both, synth_alone + organ_alone, atol=1e-6)
    on, off = int(0.1 * RATE), int(0.3 * RATE)
    expected = np.zeros(RATE // 2, np.float32)
    expected[on:off] = 0.25  # an instrument fills both sides: stereo, unity at the centre
    assert np.allclose(organ_alone[:, 0], expected, atol=1e-7)
    assert synth_alone[:, 0].std() > 0.01  # the saw, not the organ's DC
