import contextlib
import io
import sys

import numpy as np
import pytest
import soundfile as sf

import mixtree as mt
from mixtree import effects as fx
from mixtree.cli import demo, picture
from mixtree.cli.main import _parser, main


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """Run ``mixtree demo`` once (drawing the picture where matplotlib is installed)."""
    folder = tmp_path_factory.mktemp("demo")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(["demo", "-o", str(folder)] + (["--picture"] if picture.available() else [])) == 0
    return folder, " ".join(printed.getvalue().split())  # the words as they read, however wrapped


@pytest.fixture(scope="module")
def song(run):
    folder, _ = run
    mix, rate = sf.read(str(folder / "demo.wav"), dtype="float32")
    assert rate == 48000
    project = mt.Project.load(folder / "demo.json")
    _, parts = demo.build(folder / "again")
    return project, parts, mix


def _track(project, name):
    return next(t for t in project.tracks if t.name == name)


def _db(x):
    return 20 * np.log10(max(float(x), 1e-12))


def test_the_song_is_a_short_song_at_120_bpm(song):
    project, _, mix = song
    assert 16.0 <= project.duration <= 24.0
    assert project.tempo_map.bpm_at(0.0) == demo.TEMPO == 120.0
    assert mix.shape == (round(project.duration * 48000), 2)
    assert demo.SECTIONS[0][0] == 0.0 and demo.SECTIONS[-1][1] == pytest.approx(project.duration)


def test_a_metatrack_with_a_speed_change_holds_tracks_and_is_heard(song):
    project, _, mix = song
    slowed = [t for t in project.tracks if isinstance(t, mt.Metatrack) and t.speed != 1.0 and t.children]
    assert slowed, "no metatrack with a speed change contains tracks"
    half = slowed[0]
    start, end = half.offset, half.offset + project.content_end(half) / half.speed
    assert (start, end) == (demo.SECTIONS[2][0], demo.SECTIONS[2][1])  # it is the breakdown
    half.mute = True
    try:
        without = project.render(start, end - start)
    finally:
        half.mute = False
    with_it = mix[round(start * 48000) : round(end * 48000)]
    assert _db(np.sqrt(np.mean((with_it - without) ** 2))) > -30.0


def test_the_drums_are_a_metatrack_whose_offset_moves_all_its_tracks(song):
    project, _, _ = song
    drums = _track(project, "Drums")
    assert isinstance(drums, mt.Metatrack) and drums.offset == 4.0
    assert {c.name for c in drums.children} == {"Kick", "Snare", "Hats"}
    lanes = {label: spans for label, _, _, spans in picture.lanes(project)}
    assert lanes["Kick"][0][0] == lanes["Hats"][0][0] == 4.0  # written from 0, heard from bar 3
    assert lanes["Drums again (alias of Drums)"] == [(12.0, 16.0)]  # one bar stretched over two


def test_a_midi_track_plays_notes_through_a_polysynth(song):
    project, _, _ = song
    midi = [t for t in project.tracks if isinstance(t, mt.MidiTrack)]
    assert midi and all(isinstance(t.instrument, mt.PolySynth) for t in midi)
    assert sum(len(c.notes) for t in midi for c in t.midi_clips) >= 40


def test_tracks_carry_eq_compressor_filter_and_a_delay_in_beats(song):
    project, _, _ = song
    chains = [e for t in project.tracks for e in t.effects]
    kinds = {type(e) for e in chains}
    assert {fx.EQ3, fx.Compressor, fx.Filter, fx.Delay, fx.Reverb} <= kinds
    assert any(isinstance(e, fx.Delay) and e.beats > 0 for e in chains)


def test_a_reverb_bus_is_fed_by_sends_from_several_tracks(song):
    project, _, _ = song
    buses = [t for t in project.tracks if isinstance(t, mt.BusTrack)]
    assert len(buses) == 1 and any(isinstance(e, fx.Reverb) for e in buses[0].effects)
    senders = {t.name for t in project.tracks for s in t.sends if s.bus_id == buses[0].id}
    assert len(senders) >= 3


def test_every_section_sounds_and_nothing_clips(song):
    _, _, mix = song
    assert _db(np.abs(mix).max()) < -0.5
    for start, end, name, _ in demo.SECTIONS:
        part = mix[round(start * 48000) : round(end * 48000)]
        assert _db(np.sqrt(np.mean(part**2))) > -35.0, name
        # and no stretch of it (a quarter second) drops out
        quarters = part[: len(part) // 12000 * 12000].reshape(-1, 12000, 2)
        assert _db(np.abs(quarters).max(axis=(1, 2)).min()) > -60.0, name


def test_every_part_is_described(song):
    project, parts, _ = song
    names = {t.name for t in project.tracks}
    assert {part for part, _ in parts} <= names
    assert {"Drums", "Half-time", "Arp", "Reverb"} <= {part for part, _ in parts}


def test_the_command_prints_the_song_and_what_each_part_shows(run, song):
    _, out = run
    _, parts, _ = song
    for part, shows in parts:
        assert f"{part}: {shows}" in out
    for _, _, name, what in demo.SECTIONS:
        assert f"{name}: {what}" in out


def test_picture_draws_the_mix_as_a_png(run):
    pytest.importorskip("matplotlib")
    folder, out = run
    png = (folder / "demo.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and 20_000 < len(png) < 600_000
    assert f"drew {folder / 'demo.png'}" in out


def test_picture_takes_a_file_name(tmp_path):
    pytest.importorskip("matplotlib")
    assert _parser().parse_args(["demo", "--picture", "x.png"]).picture == "x.png"
    assert _parser().parse_args(["demo", "--picture", "-o", "d"]).picture == ""  # DIR/demo.png
    assert _parser().parse_args(["demo"]).picture is None
    rate = 8000
    mix = np.zeros((2 * rate, 2), dtype=np.float32)
    mix[rate:, 0] = 0.5 * np.sin(2 * np.pi * 440 * np.arange(rate) / rate)
    lanes = [("Tone", 0, "audio", [(1.0, 2.0)])]
    path = picture.draw(tmp_path / "x.png", mix, rate, lanes, [(0, 1, "a"), (1, 2, "b")])
    assert path.read_bytes().startswith(b"\x89PNG")


def test_picture_without_matplotlib_says_how_to_install_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now fails
    assert main(["demo", "-o", str(tmp_path / "out"), "--picture"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pip install 'matplotlib>=3.7'" in err
    assert not (tmp_path / "out").exists()  # refused before any work
