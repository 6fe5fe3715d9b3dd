"""Any project made of random edits comes back from DAWproject and OTIO rendering bit for bit."""

from __future__ import annotations

import zipfile

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mixtree as mt
from mixtree.exchange.schema import validation_errors
from tests.conftest import RATE
from tests.model.test_persistence import OPS, _random_edit


def _project(ones, ops) -> mt.Project:
    p = mt.Project(sample_rate=RATE)
    source = p.pool.load(ones)
    p.add_audio_track("Base").add_clip(source, duration=0.5)
    for op in ops:
        _random_edit(p, source, *op)
    return p


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_random_projects_round_trip_through_dawproject_bit_identically(ones, tmp_path, ops):
    p = _project(ones, ops)
    out = p.export_dawproject(tmp_path / "song.dawproject")
    with zipfile.ZipFile(out) as z:
        assert validation_errors(z.read("project.xml"), z.read("metadata.xml")) == []
    q = mt.import_dawproject(out, media_dir=tmp_path / "media")
    assert [(type(t).__name__, t.name) for t in q.tracks] == [(type(t).__name__, t.name) for t in p.tracks]
    assert np.array_equal(q.render(0.0, 2.0), p.render(0.0, 2.0))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_random_projects_round_trip_through_otio_bit_identically(ones, tmp_path, ops):
    p = _project(ones, ops)
    q = mt.import_otio(p.export_otio(tmp_path / "song.otio"))
    assert [(type(t).__name__, t.name) for t in q.tracks] == [(type(t).__name__, t.name) for t in p.tracks]
    assert np.array_equal(q.render(0.0, 2.0), p.render(0.0, 2.0))


EXCHANGE_OPS = st.lists(
    st.tuples(
        st.sampled_from(
            ["clip", "lane", "send_lane", "alias", "offset", "events", "ramp", "meter", "fades", "group", "mute", "bus"]
        ),
        st.integers(0, 1000),
        st.floats(-1.0, 1.0),
    ),
    min_size=1,
    max_size=10,
)


def _exchange_edit(p: mt.Project, source: mt.Source, kind: str, k: int, x: float) -> None:
    tracks = p.tracks
    pick = tracks[k % len(tracks)]
    audio = [t for t in tracks if isinstance(t, mt.AudioTrack)]
    metas = [t for t in tracks if isinstance(t, mt.Metatrack)]
    try:
        if kind == "clip" and audio:
            audio[k % len(audio)].add_clip(
                source, start=abs(x), duration=0.25, offset=0.1, speed=1.0 + x / 2, gain_db=-3 * abs(x)
            )
        elif kind == "fades" and audio and audio[k % len(audio)].clips:
            clip = audio[k % len(audio)].clips[0]
            clip.fade_in, clip.fade_out = 0.05 * abs(x), 0.02
            clip.fade_curve = ("linear", "equal_power", "s_curve")[k % 3]
            clip.reversed = k % 2 == 0
        elif kind == "lane":
            name = ("volume_db", "pan", "mute")[k % 3]
            lane = pick.automate(name)
            lane.time_base = ("seconds", "beats")[k % 2]
            value = {"volume_db": -12 * abs(x), "pan": x, "mute": float(k % 2)}[name]
            shape = "hold" if name == "mute" else ("hold", "linear")[k % 2]
            lane.set_points([(0.0, 0.0, shape, 0.0), (abs(x) + 0.1, value, shape, 0.0)])
        elif kind == "send_lane" and pick.sends:
            pick.sends[0].automate().set_points(
                [(0.0, -6.0, "linear", 0.0), (0.5 + abs(x), -20.0 * abs(x), "hold", 0.0)]
            )
        elif kind == "bus":
            bus = p.add_bus(f"B{k}")
            pick.add_send(bus.id, level_db=-6.0 * abs(x), pre_fader=k % 2 == 0)
        elif kind == "group":
            p.create_metatrack([pick.id], name=f"G{k}")
        elif kind == "offset" and metas:
            m = metas[k % len(metas)]
            m.offset, m.speed = abs(x) / 2, 1.0 + x / 2
        elif kind == "alias" and metas:
            host = p.add_audio_track(f"A{k}")
            host.add_alias(metas[k % len(metas)].id, start=abs(x), duration=0.3, offset=0.0)
        elif kind == "events":
            clip = p.add_midi_track(f"K{k}").add_midi_clip(0.1, 0.8, 0.05)
            clip.add_note(48 + k % 24, 1 + k % 127, 0.1, 0.3)
            clip.add_event(0.2, "cc", k % 128, 74)
            clip.add_event(0.3, "pitch_bend", int(8191 * x))
        elif kind == "ramp":
            p.tempo_map.set_tempo(at_beat=1.0 + k % 6, bpm=60.0 + k % 120, ramp=k % 2 == 0)
        elif kind == "meter":
            p.tempo_map.set_meter(1 + k % 4, 1 + k % 7, (2, 4, 8)[k % 3])
        elif kind == "mute":
            pick.mute = not pick.mute
    except ValueError:
        pass  # a refused edit changes nothing


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=EXCHANGE_OPS)
def test_random_exchange_edits_round_trip_through_dawproject_bit_identically(ones, tmp_path, ops):
    p = mt.Project(sample_rate=RATE)
    source = p.pool.load(ones)
    p.add_audio_track("Base").add_clip(source, duration=0.5)
    for op in ops:
        _exchange_edit(p, source, *op)
    out = p.export_dawproject(tmp_path / "song.dawproject")
    with zipfile.ZipFile(out) as z:
        assert validation_errors(z.read("project.xml"), z.read("metadata.xml")) == []
    q = mt.import_dawproject(out, media_dir=tmp_path / "media")
    assert q.tempo_map.tempos == p.tempo_map.tempos and q.tempo_map.meters == p.tempo_map.meters
    assert {lane.label: lane.points for lane in q.lanes} == {lane.label: lane.points for lane in p.lanes}
    assert np.array_equal(q.render(0.0, 2.0), p.render(0.0, 2.0))
    r = mt.import_otio(p.export_otio(tmp_path / "song.otio"))
    assert np.array_equal(r.render(0.0, 2.0), p.render(0.0, 2.0))
