"""DAWproject files other applications wrote, and files that try to do harm."""

from __future__ import annotations

import math
import zipfile
from pathlib import Path

import numpy as np
import pytest

import mixtree as mt
from mixtree.effects.compressor import Compressor
from mixtree.effects.filters import EQ3

BITWIG = Path(__file__).parents[1] / "data" / "dawproject" / "bitwig-studio-5.0-project.xml"


def archive(tmp_path: Path, project_xml: str | bytes | None, **entries: bytes) -> Path:
    path = tmp_path / "in.dawproject"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        if project_xml is not None:
            z.writestr("project.xml", project_xml)
        for name, data in entries.items():
            z.writestr(name, data)
    return path


def wrap(structure: str, lanes: str = "", transport: str = "") -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><Project version="1.0"><Application name="t" version="1"/>'
        f"<Transport>{transport}</Transport><Structure>{structure}</Structure>"
        f'<Arrangement id="arr"><Lanes timeUnit="beats" id="top">{lanes}</Lanes></Arrangement></Project>'
    )


def test_the_bitwig_example_imports_and_renders_listing_what_it_lost(tmp_path: Path):
    path = archive(tmp_path, BITWIG.read_bytes())
    with pytest.warns(mt.ExchangeWarning) as caught:
        p = mt.import_dawproject(path)
    assert len(caught) == 1
    message = str(caught[0].message)
    assert "1 ClapPlugin instruments dropped" in message
    assert "Drumfunk3 170bpm.wav" in message
    assert [(type(t).__name__, t.name) for t in p.tracks] == [("MidiTrack", "Bass"), ("AudioTrack", "Drumloop")]
    assert p.tempo_map.tempos[0].bpm == 149.0
    bass, drums = p.tracks
    assert bass.volume_db == pytest.approx(20 * math.log10(0.659140))
    assert bass.color == "#a2eabf"
    clip = bass.midi_clips[0]
    assert clip.duration == pytest.approx(8 * 60 / 149)
    assert sorted(n.start for n in clip.notes)[:2] == pytest.approx([0.0, 0.5 * 60 / 149])
    assert {n.velocity for n in clip.notes} == {100}
    loop = drums.clips[0]
    assert loop.source.offline
    assert loop.speed == pytest.approx(2.823541666666667 / (8.00003433227539 * 60 / 149))
    out = p.render()
    assert out.shape[0] == pytest.approx(8.00003433227539 * 60 / 149 * 48000, abs=2)
    assert np.abs(out).max() > 0.01  # the bass plays through the PolySynth


def test_foreign_equalizer_compressor_and_linear_volume_map_to_mixtree(tmp_path: Path):
    structure = (
        '<Track contentType="audio" id="t1" name="A"><Channel role="regular" id="c1" destination="m">'
        "<Devices>"
        '<Equalizer deviceName="EQ" deviceRole="audioFX" id="d1">'
        '<Band type="lowShelf"><Freq unit="hertz" value="120"/><Gain unit="decibel" value="3"/></Band>'
        '<Band type="bell"><Freq unit="hertz" value="900"/><Gain unit="decibel" value="-2"/></Band>'
        '<Band type="highShelf"><Freq unit="hertz" value="6000"/><Gain unit="decibel" value="1"/></Band>'
        "</Equalizer>"
        '<Compressor deviceName="C" deviceRole="audioFX" id="d2"><Attack unit="seconds" value="0.01"/>'
        '<Ratio unit="linear" value="6"/><Threshold unit="decibel" value="-30"/></Compressor>'
        '<Vst2Plugin deviceName="Old" deviceRole="audioFX" id="d3"/>'
        "</Devices>"
        '<Pan unit="normalized" value="0.25"/><Volume unit="linear" value="0.5"/></Channel></Track>'
        '<Track contentType="audio" id="t2" name="Master"><Channel role="master" id="m"/></Track>'
    )
    with pytest.warns(mt.ExchangeWarning, match="1 Vst2Plugin devices dropped"):
        p = mt.import_dawproject(archive(tmp_path, wrap(structure)))
    a = p.tracks[0]
    assert a.volume_db == pytest.approx(20 * math.log10(0.5))
    assert a.pan == -0.5
    eq, comp = a.effects
    assert isinstance(eq, EQ3) and isinstance(comp, Compressor)
    assert (eq.get_parameter("low_db"), eq.get_parameter("mid_db"), eq.get_parameter("low_freq")) == (3.0, -2.0, 120.0)
    assert (comp.get_parameter("ratio"), comp.get_parameter("threshold_db")) == (6.0, -30.0)


def test_beats_are_converted_through_the_tempo_map_with_time_units_inherited(tmp_path: Path):
    structure = (
        '<Track contentType="notes" id="t1" name="K"><Channel role="regular" id="c1"/></Track>'
        '<Track contentType="audio" id="t2" name="Master"><Channel role="master" id="m"/></Track>'
    )
    lanes = (
        '<Lanes track="t1"><Clips><Clip time="4" duration="4" playStart="1">'
        '<Notes><Note time="1" duration="1" channel="0" key="60" vel="1.0"/>'
        '<Note time="2" duration="2" channel="0" key="62" vel="0.5"/></Notes></Clip>'
        '<Clip time="2" duration="2" contentTimeUnit="seconds"><Notes>'
        '<Note time="0.5" duration="0.25" channel="0" key="64" vel="0.5"/></Notes></Clip></Clips></Lanes>'
    )
    p = mt.import_dawproject(archive(tmp_path, wrap(structure, lanes, '<Tempo unit="bpm" value="60"/>')))
    late, early = sorted(p.tracks[0].midi_clips, key=lambda c: -c.start)
    assert (late.start, late.duration, late.offset) == (4.0, 4.0, 1.0)
    assert [(n.pitch, n.start, n.duration, n.velocity) for n in late.notes] == [(60, 1.0, 1.0, 127), (62, 2.0, 2.0, 64)]
    assert [(n.start, n.duration) for n in early.notes] == [(0.5, 0.25)]


def test_linear_tempo_points_become_ramps(tmp_path: Path):
    transport = '<Tempo unit="bpm" value="100" id="tempo"/>'
    xml = wrap("", "", transport).replace(
        "</Arrangement>",
        '<TempoAutomation timeUnit="beats"><Target parameter="tempo"/>'
        '<RealPoint time="0" value="100" interpolation="linear"/><RealPoint time="8" value="150" interpolation="hold"/>'
        '<RealPoint time="16" value="90"/></TempoAutomation></Arrangement>',
    )
    p = mt.import_dawproject(archive(tmp_path, xml))
    assert [(c.beat, c.bpm, c.ramp) for c in p.tempo_map.tempos] == [
        (0.0, 100.0, False),
        (8.0, 150.0, True),
        (16.0, 90.0, False),
    ]


# -- hostile and malformed files ---------------------------------------------------------
def test_an_archive_without_project_xml_is_refused_naming_the_file(tmp_path: Path):
    path = archive(tmp_path, None, **{"metadata.xml": b"<MetaData/>"})
    with pytest.raises(mt.ProjectFileError, match="no project.xml") as err:
        mt.import_dawproject(path)
    assert err.value.path == path


def test_a_file_that_is_not_a_zip_is_refused(tmp_path: Path):
    path = tmp_path / "x.dawproject"
    path.write_text("<Project/>")
    with pytest.raises(mt.ProjectFileError, match="not a ZIP"):
        mt.import_dawproject(path)


@pytest.mark.parametrize("name", ["../evil.wav", "/etc/passwd", "audio/../../evil.wav", "C:/x.wav"])
def test_entries_whose_paths_leave_the_archive_are_refused(tmp_path: Path, name: str):
    path = archive(tmp_path, wrap(""), **{name: b"x"})
    with pytest.raises(mt.ProjectFileError, match="leaves the archive") as err:
        mt.import_dawproject(path)
    assert name in err.value.where


def test_a_zip_bomb_is_refused_before_it_inflates(tmp_path: Path):
    path = archive(tmp_path, wrap(""), **{"audio/bomb.wav": bytes(64 << 20)})
    with pytest.raises(mt.ProjectFileError, match="zip bomb"):
        mt.import_dawproject(path)


@pytest.mark.parametrize(
    "xml",
    [
        '<?xml version="1.0"?><!DOCTYPE p [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><Project>&b;</Project>',
        '<?xml version="1.0"?><!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/passwd">]><Project>&x;</Project>',
    ],
)
def test_xml_with_a_dtd_or_entities_is_refused(tmp_path: Path, xml: str):
    with pytest.raises(mt.ProjectFileError, match="DTD or entities") as err:
        mt.import_dawproject(archive(tmp_path, xml))
    assert "project.xml" in err.value.where


def test_malformed_xml_names_the_line(tmp_path: Path):
    with pytest.raises(mt.ProjectFileError, match="not well-formed") as err:
        mt.import_dawproject(archive(tmp_path, "<Project>\n<Structure>\n</Project>"))
    assert "line 3" in err.value.where


def test_external_media_outside_the_files_folder_are_not_read(tmp_path: Path):
    structure = (
        '<Track contentType="audio" id="t1" name="A"><Channel role="regular" id="c1"/></Track>'
        '<Track contentType="audio" id="t2" name="Master"><Channel role="master" id="m"/></Track>'
    )
    lanes = (
        '<Lanes track="t1" timeUnit="seconds"><Clips><Clip time="0" duration="1" playStart="0">'
        '<Audio channels="2" sampleRate="48000" duration="1.0"><File path="/etc/hostname" external="true"/></Audio>'
        "</Clip></Clips></Lanes>"
    )
    with pytest.warns(mt.ExchangeWarning, match="outside the project's folder"):
        p = mt.import_dawproject(archive(tmp_path, wrap(structure, lanes)))
    assert p.tracks[0].clips[0].source.offline


def test_a_bad_value_names_the_element(tmp_path: Path):
    structure = (
        '<Track contentType="audio" id="t1" name="A"><Channel role="regular" id="c1">'
        '<Volume unit="decibel" value="loud"/></Channel></Track>'
    )
    with pytest.raises(mt.ProjectFileError, match="'loud' is not a number") as err:
        mt.import_dawproject(archive(tmp_path, wrap(structure)))
    assert "<Volume>" in err.value.where


def test_a_group_track_with_plain_child_lanes_imports_as_a_metatrack_without_transform(tmp_path: Path):
    structure = (
        '<Track contentType="tracks" id="g" name="Group"><Channel role="submix" id="gc" destination="m"/>'
        '<Track contentType="notes" id="k" name="Keys"><Channel role="regular" id="kc" destination="gc"/></Track>'
        "</Track>"
        '<Track contentType="audio" id="t2" name="Master"><Channel role="master" id="m"/></Track>'
    )
    lanes = (
        '<Lanes track="g"><Lanes track="k"><Clips><Clip time="2" duration="2"><Notes>'
        '<Note time="0" duration="1" channel="0" key="60" vel="0.5"/></Notes></Clip></Clips></Lanes></Lanes>'
    )
    p = mt.import_dawproject(archive(tmp_path, wrap(structure, lanes, '<Tempo unit="bpm" value="120"/>')))
    group, keys = p.tracks
    assert isinstance(group, mt.Metatrack) and keys.parent_id == group.id
    assert (group.offset, group.speed) == (0.0, 1.0)
    assert (keys.midi_clips[0].start, keys.midi_clips[0].duration) == (1.0, 1.0)


def test_container_clips_trim_what_they_hold_to_their_window(tmp_path: Path):
    structure = (
        '<Track contentType="notes" id="k" name="Keys"><Channel role="regular" id="kc"/></Track>'
        '<Track contentType="audio" id="t2" name="Master"><Channel role="master" id="m"/></Track>'
    )
    lanes = (
        '<Lanes track="k" timeUnit="seconds"><Clips><Clip time="10" duration="2" playStart="1"><Clips>'
        '<Clip time="0" duration="4"><Notes><Note time="1.5" duration="0.5" channel="0" key="60" vel="0.5"/>'
        "</Notes></Clip></Clips></Clip></Clips></Lanes>"
    )
    p = mt.import_dawproject(archive(tmp_path, wrap(structure, lanes)))
    clip = p.tracks[0].midi_clips[0]
    assert (clip.start, clip.duration, clip.offset) == (10.0, 2.0, 1.0)
    assert [(n.start, n.duration) for n in clip.notes] == [(1.5, 0.5)]


def test_a_clip_referring_to_another_clips_notes_plays_them_again(tmp_path: Path):
    structure = (
        '<Track contentType="notes" id="k" name="Keys"><Channel role="regular" id="kc"/></Track>'
        '<Track contentType="audio" id="t2" name="Master"><Channel role="master" id="m"/></Track>'
    )
    lanes = (
        '<Lanes track="k" timeUnit="seconds"><Clips><Clip time="0" duration="1"><Notes id="shared">'
        '<Note time="0.25" duration="0.5" channel="0" key="60" vel="0.5"/></Notes></Clip>'
        '<Clip time="4" duration="1" reference="shared"/></Clips></Lanes>'
    )
    p = mt.import_dawproject(archive(tmp_path, wrap(structure, lanes)))
    first, again = p.tracks[0].midi_clips
    assert again.start == 4.0 and again.notes == first.notes


def test_a_reference_to_nothing_is_refused(tmp_path: Path):
    structure = '<Track contentType="notes" id="k" name="Keys"><Channel role="regular" id="kc"/></Track>'
    lanes = '<Lanes track="k"><Clips><Clip time="0" duration="1" reference="nowhere"/></Clips></Lanes>'
    with pytest.raises(mt.ProjectFileError, match="names no element"):
        mt.import_dawproject(archive(tmp_path, wrap(structure, lanes)))


def test_a_foreign_group_clip_with_warps_in_beats_sets_offset_and_speed(tmp_path: Path):
    structure = (
        '<Track contentType="tracks" id="g" name="Group"><Channel role="submix" id="gc"/>'
        '<Track contentType="notes" id="k" name="Keys"><Channel role="regular" id="kc" destination="gc"/></Track>'
        "</Track>"
    )
    lanes = (
        '<Lanes track="g"><Clips><Clip time="2" duration="8"><Warps timeUnit="beats" contentTimeUnit="seconds">'
        '<Lanes><Lanes track="k"><Clips><Clip time="0.5" duration="1"><Notes>'
        '<Note time="0" duration="0.5" channel="0" key="60" vel="0.5"/></Notes></Clip></Clips></Lanes></Lanes>'
        '<Warp time="0" contentTime="0"/><Warp time="4" contentTime="1"/></Warps></Clip></Clips></Lanes>'
    )
    p = mt.import_dawproject(archive(tmp_path, wrap(structure, lanes, '<Tempo unit="bpm" value="120"/>')))
    group, keys = p.tracks
    assert (group.offset, group.speed) == (1.0, 0.5)
    assert (keys.midi_clips[0].start, keys.midi_clips[0].duration) == (0.5, 1.0)  # on the group's own timeline


def test_media_that_cannot_be_written_out_name_the_entry_and_folder(tmp_path: Path):
    p = mt.Project()
    source = tmp_path / "a.wav"
    import soundfile as sf

    sf.write(source, np.zeros((4800, 2), np.float32), 48000)
    p.add_audio_track("A").add_clip(p.pool.load(source), 0.0, 0.1)
    out = p.export_dawproject(tmp_path / "song.dawproject")
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the media folder should be")
    with pytest.raises(mt.ProjectFileError, match="cannot write it into") as err:
        mt.import_dawproject(out, media_dir=blocked)
    assert err.value.where == "entry 'audio/a.wav'"


def test_a_foreign_vst3_device_loads_by_name_where_installed(tmp_path: Path, dpf_plugins, monkeypatch):
    from mixtree.exchange import plugins

    vst3 = Path(dpf_plugins["mtgain.vst3"])
    monkeypatch.setattr(plugins, "VST3_FOLDERS", [vst3.parent])
    structure = (
        '<Track contentType="audio" id="t1" name="A"><Channel role="regular" id="c1"><Devices>'
        '<Vst3Plugin deviceName="mtgain" deviceRole="audioFX" id="d1"><Enabled value="false"/>'
        '<State path="plugins/x.vstpreset"/></Vst3Plugin>'
        '<Vst3Plugin deviceName="NotHere" deviceRole="audioFX" id="d2"/></Devices></Channel></Track>'
    )
    with pytest.warns(mt.ExchangeWarning) as caught:
        p = mt.import_dawproject(archive(tmp_path, wrap(structure)))
    message = str(caught[0].message)
    assert "1 Vst3Plugin devices loaded at their defaults, their state not read (mtgain)" in message
    assert "1 Vst3Plugin devices dropped" in message
    (gain,) = p.tracks[0].effects
    assert gain.info.format == "vst3" and gain.bypass
