"""mixtree → DAWproject → mixtree: each row of the mapping (docs/exchange.md) comes back."""

from __future__ import annotations

import math
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

import mixtree as mt
from mixtree.effects.compressor import Compressor
from mixtree.effects.filters import EQ3
from mixtree.exchange.dawproject_write import CURVE_TOLERANCE, densify
from mixtree.exchange.schema import validation_errors

RATE = 48000


@pytest.fixture
def noise(tmp_path: Path) -> Path:
    path = tmp_path / "noise.wav"
    data = np.random.default_rng(7).standard_normal((2 * RATE, 2)).astype(np.float32) * 0.2
    sf.write(path, data, RATE, subtype="FLOAT")
    return path


def round_trip(p: mt.Project, tmp_path: Path, embed: bool = True) -> mt.Project:
    out = p.export_dawproject(tmp_path / "song.dawproject", embed=embed)
    with zipfile.ZipFile(out) as z:
        assert validation_errors(z.read("project.xml"), z.read("metadata.xml")) == []
    return mt.import_dawproject(out, sample_rate=p.sample_rate, media_dir=tmp_path / "imported")


def assert_same_render(a: mt.Project, b: mt.Project) -> None:
    ra, rb = a.render(), b.render()
    assert ra.shape == rb.shape
    assert np.array_equal(ra, rb)


def test_tempo_map_with_ramps_and_meters_comes_back_exactly(tmp_path: Path):
    p = mt.Project()
    p.tempo_map.set_tempo(0, 97.5)
    p.tempo_map.set_tempo(8, 140.0, ramp=True)
    p.tempo_map.set_tempo(16, 90.0)
    p.tempo_map.set_meter(2, 7, 8)
    p.tempo_map.set_meter(5, 3, 4)
    q = round_trip(p, tmp_path)
    assert q.tempo_map.tempos == p.tempo_map.tempos
    assert q.tempo_map.meters == p.tempo_map.meters


def test_track_tree_roles_and_faders_come_back(tmp_path: Path, noise: Path):
    p = mt.Project()
    s = p.pool.load(noise)
    a = p.add_audio_track("Drums", volume_db=-4.5, pan=-0.5, mute=False, solo=True)
    a.add_clip(s, 0.25, 1.0)
    bus = p.add_bus("Verb", volume_db=-2.0, pan=0.25)
    a.add_send(bus.id, level_db=-9.0, pre_fader=True)
    g = p.create_metatrack([a.id], "Group")
    g.volume_db = -1.0
    inner = p.add_metatrack("Inner", parent_id=g.id)
    b = p.add_audio_track("Loop", parent_id=inner.id, volume_db=-math.inf)
    b.add_clip(s, 0.0, 0.5)
    b.color = "#a2eabf"
    p.master.volume_db = -0.5
    q = round_trip(p, tmp_path)
    shape = [(type(t).__name__, t.name, t.volume_db, t.pan, t.mute, t.solo) for t in p.tracks]
    assert [(type(t).__name__, t.name, t.volume_db, t.pan, t.mute, t.solo) for t in q.tracks] == shape
    assert [q.track(t.parent_id).name if t.parent_id else None for t in q.tracks] == [
        p.track(t.parent_id).name if t.parent_id else None for t in p.tracks
    ]
    qa = next(t for t in q.tracks if t.name == "Drums")
    assert [(q.track(s.bus_id).name, s.level_db, s.pre_fader) for s in qa.sends] == [("Verb", -9.0, True)]
    assert next(t for t in q.tracks if t.name == "Loop").color == "#a2eabf"
    assert q.master.volume_db == -0.5
    assert_same_render(p, q)


def test_clips_with_fades_mute_speed_gain_and_reverse_render_bit_identically(tmp_path: Path, noise: Path):
    p = mt.Project()
    s = p.pool.load(noise)
    t = p.add_audio_track("A")
    t.add_clip(s, 0.1, 0.5, 0.2, fade_in=0.05, fade_out=0.1)
    t.add_clip(s, 0.7, 0.3, 0.1, speed=1.5, fade_curve="equal_power", fade_in=0.1)
    t.add_clip(s, 1.1, 0.4, 0.0, gain_db=-6.0, reversed=True)
    t.add_clip(s, 1.6, 0.2, muted=True)
    q = round_trip(p, tmp_path)
    fields = [
        "start",
        "duration",
        "offset",
        "speed",
        "fade_in",
        "fade_out",
        "fade_curve",
        "gain_db",
        "reversed",
        "muted",
    ]
    qt = q.tracks[0]
    assert [[getattr(c, f) for f in fields] for c in qt.clips] == [[getattr(c, f) for f in fields] for c in t.clips]
    assert_same_render(p, q)


def test_varispeed_clip_without_mixtree_extras_plays_within_a_sample(tmp_path: Path, noise: Path):
    p = mt.Project()
    s = p.pool.load(noise)
    p.add_audio_track("A").add_clip(s, 0.5, 0.6, 0.3, speed=1.25)
    out = p.export_dawproject(tmp_path / "song.dawproject")
    bare = tmp_path / "bare.dawproject"
    with zipfile.ZipFile(out) as z, zipfile.ZipFile(bare, "w") as w:
        for name in z.namelist():
            if name != "mixtree/extras.json":
                w.writestr(name, z.read(name))
    q = mt.import_dawproject(bare, media_dir=tmp_path / "m")
    c = q.tracks[0].clips[0]
    assert c.speed == 1.25
    assert c.offset == pytest.approx(0.3, abs=1e-12)


def test_metatrack_offset_and_speed_come_back_as_a_nested_clip_with_two_warps(tmp_path: Path, noise: Path):
    p = mt.Project()
    s = p.pool.load(noise)
    a = p.add_audio_track("A")
    a.add_clip(s, 0.0, 0.8)
    m = p.create_metatrack([a.id], "Half speed")
    m.offset = 0.25
    m.speed = 0.5
    m.pitch = 0.0
    q = round_trip(p, tmp_path)
    qm = q.tracks[0]
    assert isinstance(qm, mt.Metatrack)
    assert (qm.offset, qm.speed) == (0.25, 0.5)
    assert [(c.start, c.duration) for c in q.tracks[1].clips] == [(0.0, 0.8)]
    assert_same_render(p, q)


def test_aliases_come_back_as_clip_references_to_the_metatracks_lanes(tmp_path: Path, noise: Path):
    p = mt.Project()
    s = p.pool.load(noise)
    a = p.add_audio_track("A")
    a.add_clip(s, 0.0, 0.5)
    m = p.create_metatrack([a.id], "Phrase")
    host = p.add_audio_track("Again")
    host.add_alias(m.id, start=1.0, duration=0.4, offset=0.05)
    q = round_trip(p, tmp_path)
    alias = next(t for t in q.tracks if t.name == "Again").aliases[0]
    assert q.track(alias.metatrack_id).name == "Phrase"
    assert (alias.start, alias.duration, alias.offset) == (1.0, 0.4, 0.05)
    assert_same_render(p, q)


def test_midi_notes_and_controller_events_come_back_as_notes_and_expression_points(tmp_path: Path):
    p = mt.Project()
    t = p.add_midi_track("Keys", volume_db=-6.0)
    c = t.add_midi_clip(0.5, 2.0, 0.25)
    for k, pitch in enumerate((60, 64, 67)):
        c.add_note(pitch, 40 + k * 30, 0.25 + 0.3 * k, 0.5)
    c.add_event(0.3, "cc", 64, 1)
    c.add_event(0.4, "cc", 127, 1)
    c.add_event(0.5, "pitch_bend", -8192)
    c.add_event(0.6, "pitch_bend", 1234)
    c.add_event(0.7, "program", 5)
    q = round_trip(p, tmp_path)
    with zipfile.ZipFile(tmp_path / "song.dawproject") as z:
        assert 'expression="pitchBend"' in z.read("project.xml").decode()
    qc = q.tracks[0].midi_clips[0]
    assert (qc.start, qc.duration, qc.offset) == (0.5, 2.0, 0.25)
    assert qc.notes == c.notes
    assert qc.events == c.events
    assert_same_render(p, q)


def test_hold_and_linear_automation_comes_back_exactly_in_seconds_and_beats(tmp_path: Path, noise: Path):
    p = mt.Project()
    s = p.pool.load(noise)
    t = p.add_audio_track("A")
    t.add_clip(s, 0.0, 2.0)
    bus = p.add_bus("B")
    send = t.add_send(bus.id, -3.0)
    vol = t.automate("volume_db")
    vol.set_points([(0.0, 0.0, "linear", 0.0), (1.0, -12.0, "hold", 0.0), (1.5, -3.0, "linear", 0.0)])
    pan = t.automate("pan")
    pan.time_base = "beats"
    pan.set_points([(0.0, -0.5, "linear", 0.0), (2.0, 0.5, "hold", 0.0)])
    t.automate("mute").set_points([(1.8, 1.0, "hold", 0.0)])
    send.automate().set_points([(0.0, -20.0, "linear", 0.0), (1.0, 0.0, "linear", 0.0)])
    p.master.automate("volume_db").set_points([(0.5, -1.5, "hold", 0.0)])
    q = round_trip(p, tmp_path)
    got = {lane.label: (lane.time_base, lane.points) for lane in q.lanes}
    want = {lane.label: (lane.time_base, lane.points) for lane in p.lanes}
    assert got == want
    assert_same_render(p, q)


def test_curved_automation_is_densified_within_the_stated_tolerance(tmp_path: Path):
    p = mt.Project()
    t = p.add_audio_track("A")
    lane = t.automate("volume_db")
    lane.set_points([(0.0, 0.0, "s_curve", 0.0), (1.0, -30.0, "bend", 0.6), (2.0, -6.0, "linear", 0.0)])
    dense = densify(lane)
    assert all(shape in ("hold", "linear") for _, _, shape in dense)
    q = round_trip(p, tmp_path)
    back = q.tracks[0].lanes["volume_db"]
    grid = np.linspace(0.0, 2.0, 4001)
    error = max(abs(lane.value_at(x) - back.value_at(x)) for x in grid)
    assert error <= CURVE_TOLERANCE


def test_eq3_and_compressor_come_back_with_their_settings(tmp_path: Path, noise: Path):
    p = mt.Project()
    s = p.pool.load(noise)
    t = p.add_audio_track("A")
    t.add_clip(s, 0.0, 1.0)
    t.add_effect(EQ3(low_db=4.0, mid_db=-2.0, high_db=1.5, low_freq=180.0))
    comp = t.add_effect(Compressor(threshold_db=-24.0, ratio=3.0, knee_db=2.0))
    comp.bypass = True
    q = round_trip(p, tmp_path)
    assert [e.get_state() for e in q.tracks[0].effects] == [e.get_state() for e in t.effects]
    assert_same_render(p, q)


def test_media_can_be_referenced_instead_of_embedded(tmp_path: Path, noise: Path):
    p = mt.Project()
    s = p.pool.load(noise)
    p.add_audio_track("A").add_clip(s, 0.0, 1.0)
    out = p.export_dawproject(tmp_path / "song.dawproject", embed=False)
    with zipfile.ZipFile(out) as z:
        assert not any(n.startswith("audio/") for n in z.namelist())
    q = mt.import_dawproject(out, media_dir=tmp_path / "m")
    assert q.tracks[0].clips[0].source.path == noise.resolve()
    assert_same_render(p, q)


def test_pans_that_normalized_values_cannot_hold_exactly_come_back_exactly(tmp_path: Path):
    p = mt.Project()
    pans = [0.3, -0.1, 1e-9, 0.7]
    for k, pan in enumerate(pans):
        p.add_audio_track(f"T{k}", pan=pan)
    q = round_trip(p, tmp_path)
    assert [t.pan for t in q.tracks] == pans


def test_metatrack_pitch_own_tempo_map_and_speed_lane_come_back_through_mixtrees_extras(tmp_path: Path, noise: Path):
    p = mt.Project()
    s = p.pool.load(noise)
    a = p.add_audio_track("A")
    a.add_clip(s, 0.0, 1.0)
    m = p.create_metatrack([a.id], "Tape")
    tm = mt.TempoMap(90.0)
    tm.set_tempo(4, 120.0, ramp=True)
    m.tempo_map = tm
    m.automate("speed").set_points([(0.0, 1.0, "linear", 0.0), (1.0, 0.5, "hold", 0.0)])
    bus = p.add_bus("Safe")
    bus.solo_safe = True
    q = round_trip(p, tmp_path)
    qm = q.tracks[0]
    assert qm.tempo_map.tempos == tm.tempos
    assert qm.lanes["speed"].points == m.lanes["speed"].points
    assert next(t for t in q.tracks if t.name == "Safe").solo_safe
    assert_same_render(p, q)


def test_metatrack_pitch_comes_back(tmp_path: Path):
    p = mt.Project()
    m = p.add_metatrack("Up")
    m.pitch = 3.0
    m.preserve_pitch = True
    q = round_trip(p, tmp_path)
    assert (q.tracks[0].pitch, q.tracks[0].preserve_pitch) == (3.0, True)


@pytest.mark.parametrize("name, tag", [("mtgain.vst3", "Vst3Plugin"), ("mtgain.clap", "ClapPlugin")])
def test_hosted_plugins_come_back_with_their_state(tmp_path: Path, noise: Path, dpf_plugins, name: str, tag: str):
    p = mt.Project()
    s = p.pool.load(noise)
    t = p.add_audio_track("A")
    t.add_clip(s, 0.0, 0.5)
    t.add_effect(mt.Plugin(str(dpf_plugins[name]), gain_db=-7.5))
    out = p.export_dawproject(tmp_path / "song.dawproject")
    with zipfile.ZipFile(out) as z:
        assert f"<{tag} " in z.read("project.xml").decode()
    q = mt.import_dawproject(out, media_dir=tmp_path / "m")
    plugin = q.tracks[0].effects[0]
    assert plugin.info.format == name.rsplit(".", 1)[1] and plugin.gain_db == -7.5
    assert_same_render(p, q)


def test_mixtree_convert_goes_both_ways_by_extension(tmp_path: Path, noise: Path):
    from mixtree.cli.main import main

    p = mt.Project()
    s = p.pool.load(noise)
    p.add_audio_track("A", volume_db=-3.0).add_clip(s, 0.0, 1.0)
    p.save(tmp_path / "song.json")
    assert main(["convert", str(tmp_path / "song.json"), str(tmp_path / "song.dawproject")]) == 0
    assert main(["convert", str(tmp_path / "song.dawproject"), str(tmp_path / "back.mtp")]) == 0
    q = mt.Project.load(tmp_path / "back.mtp")
    assert q.tracks[0].volume_db == -3.0
    assert_same_render(p, q)
    assert main(["convert", str(tmp_path / "song.json"), str(tmp_path / "song.txt")]) == 1


def test_an_export_that_cannot_be_written_raises_save_error_and_leaves_the_old_file(tmp_path: Path):
    p = mt.Project()
    with pytest.raises(mt.SaveError, match="nowhere"):
        p.export_dawproject(tmp_path / "nowhere" / "song.dawproject")
    with pytest.raises(mt.SaveError):
        p.export_otio(tmp_path / "nowhere" / "song.otio")
    old = tmp_path / "song.dawproject"
    old.write_bytes(b"old")
    (tmp_path / ".song.dawproject.tmp").mkdir()  # the temporary file cannot be made
    with pytest.raises(mt.SaveError):
        p.export_dawproject(old)
    assert old.read_bytes() == b"old"
