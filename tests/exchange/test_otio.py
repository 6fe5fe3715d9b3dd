"""OpenTimelineIO: mixtree → OTIO → mixtree, and timelines other tools wrote."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import opentimelineio as otio
import pytest
import soundfile as sf

import mixtree as mt
from mixtree.effects.compressor import Compressor

RATE = 48000


@pytest.fixture
def noise(tmp_path: Path) -> Path:
    path = tmp_path / "noise.wav"
    data = np.random.default_rng(3).standard_normal((2 * RATE, 2)).astype(np.float32) * 0.2
    sf.write(path, data, RATE, subtype="FLOAT")
    return path


def rt(seconds: float, rate: int = 24) -> otio.opentime.RationalTime:
    return otio.opentime.RationalTime(seconds * rate, rate)


def tr(start: float, duration: float, rate: int = 24) -> otio.opentime.TimeRange:
    return otio.opentime.TimeRange(rt(start, rate), rt(duration, rate))


def session(noise: Path) -> mt.Project:
    p = mt.Project()
    s = p.pool.load(noise)
    p.tempo_map.set_tempo(4, 90.0, ramp=True)
    a = p.add_audio_track("Drums", volume_db=-3.0, pan=0.3)
    a.add_clip(s, 0.1, 0.5, 0.2, fade_in=0.05, gain_db=-2.0)
    a.add_clip(s, 0.4, 0.5, 0.0, speed=1.5)  # overlaps the first: a second lane
    a.add_effect(Compressor(threshold_db=-30.0))
    a.automate("volume_db").set_points([(0.0, 0.0, "smooth", 0.0), (1.0, -6.0, "hold", 0.0)])
    bus = p.add_bus("Verb")
    a.add_send(bus.id, -9.0, pre_fader=True)
    m = p.create_metatrack([a.id], "Half")
    m.offset = 0.25
    m.speed = 0.5
    keys = p.add_midi_track("Keys")
    clip = keys.add_midi_clip(0.5, 1.0, 0.1)
    clip.add_note(60, 90, 0.2, 0.3)
    p.add_audio_track("Again").add_alias(m.id, 2.0, 0.5, 0.1)
    return p


def test_a_project_round_trips_through_otio_to_a_bit_identical_render(tmp_path: Path, noise: Path):
    p = session(noise)
    out = p.export_otio(tmp_path / "song.otio")
    q = mt.import_otio(out)
    assert [(type(t).__name__, t.name, t.parent_id is not None) for t in q.tracks] == [
        (type(t).__name__, t.name, t.parent_id is not None) for t in p.tracks
    ]
    assert q.tempo_map.tempos == p.tempo_map.tempos
    half = q.tracks[0]
    assert (half.offset, half.speed) == (0.25, 0.5)
    fields = ["start", "duration", "offset", "speed", "gain_db", "fade_in"]
    assert [[getattr(c, f) for f in fields] for c in q.tracks[1].clips] == [
        [getattr(c, f) for f in fields] for c in p.tracks[1].clips
    ]
    assert {lane.label: lane.points for lane in q.lanes} == {lane.label: lane.points for lane in p.lanes}
    ra, rb = p.render(), q.render()
    assert np.array_equal(ra, rb)


def test_values_otios_reader_would_read_a_step_off_come_back_exactly(tmp_path: Path, noise: Path):
    # OpenTimelineIO reads -0.9999999999999999 as -1.0 (hypothesis found it): mixtree's
    # metadata also goes as a JSON string, which comes back exactly
    p = mt.Project()
    t = p.add_audio_track("edge", pan=-0.9999999999999999, volume_db=-6.000000000000001)
    t.add_clip(p.pool.load(noise), start=0.1000000000000001)
    q = mt.import_otio(p.export_otio(tmp_path / "edge.otio"))
    back = q.tracks[0]
    assert (back.pan, back.volume_db, back.clips[0].start) == (t.pan, t.volume_db, t.clips[0].start)
    assert np.array_equal(p.render(0.0, 1.0), q.render(0.0, 1.0))


def test_a_metatrack_is_a_leading_gap_and_a_nested_stack_with_a_linear_time_warp(tmp_path: Path, noise: Path):
    p = session(noise)
    timeline = otio.adapters.read_from_file(str(p.export_otio(tmp_path / "song.otio")))
    half = timeline.tracks[0]
    assert half.kind == otio.schema.TrackKind.Audio
    gap, stack = half[0], half[1]
    assert isinstance(gap, otio.schema.Gap) and gap.duration().to_seconds() == pytest.approx(0.25)
    assert isinstance(stack, otio.schema.Stack)
    assert [e.time_scalar for e in stack.effects] == [0.5]
    drums = stack[0]
    clip = next(c for c in drums if isinstance(c, otio.schema.Clip))
    assert clip.media_reference.target_url.endswith("noise.wav")
    assert clip.source_range.start_time.to_seconds() == pytest.approx(0.2)
    assert [t.name for t in stack] == ["Drums", "Drums (lane 2)"]
    assert timeline.tracks[0].metadata["mixtree"]["kind"] == "metatrack"


def test_foreign_timelines_import_audio_gaps_stacks_and_warps_and_name_what_they_lose(tmp_path: Path, noise: Path):
    timeline = otio.schema.Timeline("edit")
    video = otio.schema.Track("V1", kind=otio.schema.TrackKind.Video)
    video.append(otio.schema.Clip("picture", source_range=tr(0, 2)))
    audio = otio.schema.Track("A1", kind=otio.schema.TrackKind.Audio)
    audio.append(otio.schema.Gap(source_range=tr(0, 0.5)))
    ref = otio.schema.ExternalReference(target_url=noise.as_uri(), available_range=tr(3600, 2))
    clip = otio.schema.Clip("noise", media_reference=ref, source_range=tr(3600.25, 1.0))
    audio.append(clip)
    audio.append(otio.schema.Transition(in_offset=rt(0.1), out_offset=rt(0.1)))
    gone = otio.schema.ExternalReference(target_url=(tmp_path / "gone.wav").as_uri(), available_range=tr(0, 3))
    audio.append(otio.schema.Clip("gone", media_reference=gone, source_range=tr(0, 1)))
    nested = otio.schema.Track("A2", kind=otio.schema.TrackKind.Audio)
    nested.append(otio.schema.Gap(source_range=tr(0, 1)))
    stack = otio.schema.Stack("Sub", source_range=tr(0, 1))
    stack.effects.append(otio.schema.LinearTimeWarp(time_scalar=2.0))
    inner = otio.schema.Track("Inner", kind=otio.schema.TrackKind.Audio)
    fast = otio.schema.Clip(
        "fast", media_reference=otio.schema.ExternalReference(target_url=str(noise)), source_range=tr(0, 0.5)
    )
    fast.effects.append(otio.schema.LinearTimeWarp(time_scalar=1.5))
    inner.append(fast)
    stack.append(inner)
    nested.append(stack)
    timeline.tracks.extend([video, audio, nested])
    path = tmp_path / "edit.otio"
    otio.adapters.write_to_file(timeline, str(path))
    with pytest.warns(mt.ExchangeWarning) as caught:
        p = mt.import_otio(path)
    message = str(caught[0].message)
    assert "1 Video tracks ignored" in message and "1 transitions ignored" in message and "gone.wav" in message
    a1, a2, inner_track = p.tracks
    noise_clip, gone_clip = a1.clips
    assert (noise_clip.start, noise_clip.duration) == pytest.approx((0.5, 1.0))
    assert noise_clip.offset == pytest.approx(0.25)
    assert gone_clip.source.offline and gone_clip.start == pytest.approx(1.5)
    assert isinstance(a2, mt.Metatrack) and (a2.offset, a2.speed) == (1.0, 2.0)
    assert inner_track.parent_id == a2.id and inner_track.clips[0].speed == 1.5
    assert p.render().shape[0] > 0


def test_a_file_otio_cannot_read_raises_project_file_error(tmp_path: Path):
    path = tmp_path / "x.otio"
    path.write_text("{ not json")
    with pytest.raises(mt.ProjectFileError, match="OpenTimelineIO cannot read it"):
        mt.import_otio(path)
    with pytest.raises(mt.ProjectFileError, match="no such file"):
        mt.import_otio(tmp_path / "missing.otio")


def test_the_crash_probe_reads_in_a_new_interpreter_never_a_fork_of_this_threaded_one(
    tmp_path: Path, noise: Path, monkeypatch: pytest.MonkeyPatch
):
    from mixtree.exchange import otio_read

    path = tmp_path / "song.otio"
    session(noise).export_otio(path)

    def no_fork() -> int:
        raise AssertionError("forked the importing process")

    monkeypatch.setattr("os.fork", no_fork)
    assert [t.name for t in mt.import_otio(path).tracks]
    # a child that does not finish in time is reported as hung, and the file is refused
    monkeypatch.setattr(otio_read, "PROBE_SECONDS", 0.01)
    with pytest.raises(mt.ProjectFileError, match=r"did not finish reading it within 0\.01 s"):
        mt.import_otio(path)


def test_a_premiere_fcp7_xml_imports_its_audio_through_the_fcp_adapter():
    pytest.importorskip("otio_fcp_adapter")
    path = Path(__file__).parents[1] / "data" / "otio" / "premiere_example.xml"
    with pytest.warns(mt.ExchangeWarning, match="4 Video tracks ignored") as caught:
        p = mt.import_otio(path)
    assert "track_08.wav" in str(caught[0].message)  # missing media: offline, named
    clips = [c for t in p.tracks if isinstance(t, mt.AudioTrack) for c in t.clips]
    assert len(clips) == 6 and all(c.source.offline for c in clips)
    track_08 = next(c for c in clips if c.source.path.name == "track_08.wav")
    assert (track_08.start, track_08.duration) == pytest.approx((5.1, 6.6))
    assert any(isinstance(t, mt.Metatrack) and t.offset == pytest.approx(21.2) for t in p.tracks)
    assert p.render().shape[0] > 0


def test_an_aaf_file_imports_its_audio_clip_through_the_aaf_adapter():
    pytest.importorskip("otio_aaf_adapter")
    path = Path(__file__).parents[1] / "data" / "otio" / "one_audio_clip.aaf"
    with pytest.warns(mt.ExchangeWarning, match="1 Audio Pan clip effects ignored"):
        p = mt.import_otio(path)
    (track,) = p.tracks
    (clip,) = track.clips
    assert (clip.start, clip.duration) == pytest.approx((0.0, 30.0))
    assert clip.source.offline and clip.source.path.name == "tech.fux (loop)-HD.mp4"


def test_a_real_otio_file_imports_its_audio_track_and_ignores_the_video():
    path = Path(__file__).parents[1] / "data" / "otio" / "no_metadata.otio"
    with pytest.warns(mt.ExchangeWarning, match="1 Video tracks ignored, 1 media offline"):
        p = mt.import_otio(path)
    (track,) = p.tracks
    (clip,) = track.clips
    assert clip.start == 0.0 and clip.duration == pytest.approx(10 / 24)
    assert clip.source.offline
