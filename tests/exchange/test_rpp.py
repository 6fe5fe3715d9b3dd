"""REAPER projects: real files REAPER wrote, and one written here with audio items."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

import mixtree as mt

DATA = Path(__file__).parents[1] / "data" / "rpp"
RATE = 48000


def test_a_project_reaper_wrote_imports_tracks_folders_midi_and_receives():
    with pytest.warns(mt.ExchangeWarning) as caught:
        p = mt.import_rpp(DATA / "vst.RPP")
    message = str(caught[0].message)
    for lost in ("1 CLICK items dropped", "1 JS plugins dropped", "1 VST plugins dropped (VST: ReaComp (Cockos))"):
        assert lost in message
    assert "PolySynth instead of VSTi: ReaSynth (Cockos)" in message and "3 markers" in message
    names = [t.name for t in p.tracks]
    assert names[:4] == ["5.50", "Synth", "|Beep Boop", "Boop"]
    first, _, folder, boop = p.tracks[:4]
    assert isinstance(folder, mt.Metatrack) and boop.parent_id == folder.id
    assert p.tracks[4].parent_id is None  # the folder closed after Boop
    clip = first.midi_clips[0]
    assert (clip.start, clip.duration) == (0.0, 2.0)
    assert [(n.pitch, n.velocity, n.start, n.duration) for n in clip.notes] == [
        (60, 10, 0.0, 0.5),
        (62, 6, 0.5, 0.5),
        (64, 96, 1.0, 0.5),
        (65, 96, 1.5, 0.5),
    ]
    bus = p.tracks[4]
    assert isinstance(bus, mt.BusTrack) and [s.bus_id for s in first.sends] == [bus.id]
    assert p.render().shape == (2 * RATE, 2)


def test_receives_that_would_loop_are_listed_not_raised():
    with pytest.warns(mt.ExchangeWarning, match="feedback loop"):
        p = mt.import_rpp(DATA / "empty.RPP")
    assert [t.name for t in p.tracks] == ["Trackk", "Track 2"]


RPP = """<REAPER_PROJECT 0.1 "7.0/linux64" 1700000000
  TEMPO 100 3 4
  MASTER_VOLUME 0.5 0 -1 -1 1
  <TEMPOENVEX
    ACT 1 -1
    PT 0 100 0
    PT 6 140 1
    PT 9 90 1 262148
  >
  <TRACK {A}
    NAME "Folder"
    VOLPAN 0.5 -0.25 -1 -1 1
    MUTESOLO 0 2 0
    ISBUS 1 1
    PEAKCOL 33489151
  >
  <TRACK {B}
    NAME Loop
    VOLPAN 1 0 -1 -1 1
    MUTESOLO 1 0 0
    ISBUS 2 -1
    <VOLENV2
      ACT 1 -1
      PT 0 1 0
      PT 1 0.5 1
      PT 2 0.25 0
    >
    <ITEM
      POSITION 0.5
      LENGTH 1
      FADEIN 1 0.1 0 1 0 0
      FADEOUT 1 0.2 0 1 0 0
      MUTE 0
      VOLPAN 0.5 0 1 -1
      SOFFS 0.25
      PLAYRATE 1.5 0 0 -1 0 0.0025
      <SOURCE WAVE
        FILE "noise.wav"
      >
    >
    <ITEM
      POSITION 2
      LENGTH 9
      LOOP 1
      <SOURCE WAVE
        FILE "noise.wav"
      >
    >
  >
  <TRACK {C}
    NAME Verb
    AUXRECV 1 3 0.5 0 0 0 0 0 0 -1:U 0 -1 ''
  >
>
"""


def test_audio_items_folders_tempo_envelope_and_volume_envelope_map_to_mixtree(tmp_path: Path):
    sf.write(
        tmp_path / "noise.wav", np.random.default_rng(5).standard_normal((2 * RATE, 2)).astype(np.float32) * 0.1, RATE
    )
    path = tmp_path / "song.RPP"
    path.write_text(RPP)
    with pytest.warns(mt.ExchangeWarning, match="1 looped items played once"):
        p = mt.import_rpp(path)
    tm = p.tempo_map
    assert [(c.bpm, c.ramp) for c in tm.tempos] == [(100.0, False), (140.0, True), (90.0, False)]
    assert tm.tempos[1].beat == pytest.approx(6 * 120 / 60)  # a ramp 100 → 140 over 6 s: 12 beats
    assert tm.seconds_at(tm.tempos[2].beat) == pytest.approx(9.0)
    assert [(m.numerator, m.denominator) for m in tm.meters] == [(3, 4), (4, 4)]
    assert p.master.volume_db == pytest.approx(20 * math.log10(0.5))
    folder, loop, verb = p.tracks
    assert isinstance(folder, mt.Metatrack) and loop.parent_id == folder.id and verb.parent_id is None
    assert folder.volume_db == pytest.approx(20 * math.log10(0.5)) and folder.pan == -0.25 and folder.solo
    assert folder.color == "#ff00ff" and loop.mute
    first, second = loop.clips
    assert (first.start, first.duration, first.offset, first.speed) == (0.5, 1.0, 0.25, 1.5)
    assert (first.fade_in, first.fade_out) == (0.1, 0.2)
    assert first.gain_db == pytest.approx(20 * math.log10(0.5))
    assert second.duration == pytest.approx(2.0)  # cut to its media: the loop plays once
    assert [(round(pt.value, 6), pt.shape) for pt in loop.lanes["volume_db"].points] == [
        (0.0, "linear"),
        (round(20 * math.log10(0.5), 6), "hold"),
        (round(20 * math.log10(0.25), 6), "linear"),
    ]
    assert isinstance(verb, mt.BusTrack)
    assert [(s.bus_id, round(s.level_db, 6), s.pre_fader) for s in loop.sends] == [
        (verb.id, round(20 * math.log10(0.5), 6), True)
    ]
    assert p.render().shape[0] > 0


@pytest.mark.parametrize(
    "text, where, reason",
    [
        ("<REAPER_PROJECT 0.1\n  <TRACK\n  NAME x\n", "line 2", "never closed"),
        ("hello\n", "line 1", "outside the project block"),
        ("<OTHER 1\n>\n", "line 1", "not a REAPER project"),
        ("<REAPER_PROJECT\n>\n>\n", "line 3", "closes no block"),
    ],
)
def test_malformed_projects_raise_naming_the_line(tmp_path: Path, text: str, where: str, reason: str):
    path = tmp_path / "bad.RPP"
    path.write_text(text)
    with pytest.raises(mt.ProjectFileError, match=reason) as err:
        mt.import_rpp(path)
    assert err.value.where == where


def test_vst3_plugins_load_through_the_host_where_installed(tmp_path: Path, dpf_plugins, monkeypatch):
    from mixtree.exchange import plugins

    vst3 = Path(dpf_plugins["mtgain.vst3"])
    monkeypatch.setattr(plugins, "VST3_FOLDERS", [vst3.parent])
    path = tmp_path / "fx.RPP"
    path.write_text(
        "<REAPER_PROJECT 0.1\n  <TRACK\n    NAME Gain\n    <FXCHAIN\n      BYPASS 1 0 0\n"
        f'      <VST "VST3: mtgain (mixtree)" {vst3.name} 0 "" 1{{0}} ""\n        AAAA\n      >\n'
        '      BYPASS 0 0 0\n      <VST "VST: ReaEQ (Cockos)" reaeq.dll 0 "" 1\n      >\n    >\n  >\n>\n'
    )
    with pytest.warns(mt.ExchangeWarning) as caught:
        p = mt.import_rpp(path)
    message = str(caught[0].message)
    assert "REAPER's saved state not read (VST3: mtgain (mixtree))" in message
    assert "1 VST plugins dropped (VST: ReaEQ (Cockos))" in message
    (gain,) = p.tracks[0].effects
    assert gain.info.format == "vst3" and gain.bypass


def test_mixtree_convert_reads_rpp_and_writes_otio(tmp_path: Path, capsys):
    from mixtree.cli.main import main

    assert main(["convert", str(DATA / "vst.RPP"), str(tmp_path / "vst.otio")]) == 0
    printed = " ".join(capsys.readouterr().out.split())  # rich wraps long lines
    assert printed.startswith("warning:") and "1 CLICK items dropped" in printed
    q = mt.import_otio(tmp_path / "vst.otio")
    assert [t.name for t in q.tracks][:4] == ["5.50", "Synth", "|Beep Boop", "Boop"]
    assert len(q.tracks[0].midi_clips[0].notes) == 4
