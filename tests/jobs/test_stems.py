"""Stems: one file per top-level track, adding up to the mix."""

import numpy as np
import pytest
import soundfile as sf

from mixtree import MediaError
from mixtree import effects as fx
from mixtree.jobs.stems import export_stems, stem_name
from tests.conftest import RATE, sine


@pytest.fixture
def song(project, wav):
    noise = (np.random.default_rng(9).standard_normal((RATE, 2)) * 0.2).astype(np.float32)
    drums = project.add_audio_track("Drums", volume_db=-3.0, pan=-0.4)
    drums.add_clip(project.pool.load(wav(noise, name="n.wav")), start=0.0)
    drums.add_effect(fx.Compressor(threshold_db=-20.0))
    bass = project.add_audio_track("Bass/Sub", pan=0.5)
    bass.add_clip(project.pool.load(wav(sine(55, 1.0), name="b.wav")), start=0.25)
    keys = project.add_audio_track("Keys")
    keys.add_clip(project.pool.load(wav(sine(440, 1.0), name="k.wav")), start=0.5)
    group = project.create_metatrack([bass.id, keys.id], name="Music")  # passes through
    verb = project.add_bus("Verb")
    verb.add_effect(fx.Reverb())
    drums.add_send(verb.id, level_db=-6.0)
    return project, drums, group, verb


def test_stems_add_up_to_the_mix_and_keep_sends_on_the_bus(song, tmp_path):
    project, drums, group, verb = song
    paths = project.export_stems(tmp_path / "stems")
    assert [p.name for p in paths] == ["01 Drums.wav", "02 Music.wav", "03 Verb.wav"]
    stems = [sf.read(str(p), dtype="float32")[0] for p in paths]
    mix = project.render()
    assert all(s.shape == mix.shape for s in stems)
    assert np.allclose(sum(stems), mix, atol=1e-6)
    # the drum stem is the drums through their fader, without the reverb they send to
    for t in (group, verb):
        t.mute = True
    assert np.allclose(stems[0], project.render(), atol=1e-7)
    assert np.abs(stems[2]).max() > 1e-3  # the reverb return lives on the bus's stem


def test_chosen_stems_in_24_bit_flac_over_a_range(song, tmp_path):
    project, drums, group, verb = song
    calls = []
    paths = export_stems(
        project, tmp_path, start=0.5, duration=0.25, subtype="24", extension="flac", tracks=[group.id],
        progress=lambda done, total: calls.append((done, total)),
    )  # fmt: skip
    assert [p.name for p in paths] == ["01 Music.flac"]
    audio, rate = sf.read(str(paths[0]), dtype="float32")
    assert rate == RATE and audio.shape == (RATE // 4, 2)
    assert calls[-1] == (RATE // 4, RATE // 4)
    drums.mute = verb.mute = True
    assert np.abs(audio - project.render(0.5, 0.25)).max() < 2.0**-22  # the group alone, to 24 bits
    assert export_stems(project, tmp_path, tracks=[]) == []
    with pytest.raises(ValueError, match="not a top-level track"):
        export_stems(project, tmp_path, tracks=[group.children[0].id])


def test_stem_names_are_safe_file_names():
    assert stem_name(3, "Bass/Sub: low", "wav") == "03 Bass_Sub_ low.wav"
    assert stem_name(12, "???", "flac") == "12 _.flac"
    assert stem_name(1, "", ".ogg") == "01 track.ogg"


def test_an_unwritable_folder_is_a_media_error_naming_it(song, tmp_path):
    project = song[0]
    (tmp_path / "taken").write_text("a file where the folder should go")
    with pytest.raises(MediaError, match="taken"):
        export_stems(project, tmp_path / "taken")
