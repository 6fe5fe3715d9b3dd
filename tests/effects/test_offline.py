"""Effects a process cannot make open as offline placeholders: audio through, settings kept."""

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import mixtree as mt
from tests.conftest import RATE, sine

USER_EFFECT = textwrap.dedent(
    """
    import numpy as np
    import mixtree as mt
    from mixtree import effects as fx


    class Fuzz(fx.Effect):
        PARAMETERS = (fx.Parameter("drive", "Drive", 0.0, 10.0, 1.0),)

        def process_block(self, block, sample_rate):
            np.tanh(block * self.get_parameter("drive"), out=block)
    """
)


@pytest.fixture
def saved_with_user_effect(tmp_path):
    (tmp_path / "userfx.py").write_text(USER_EFFECT)
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(tmp_path)!r})
        import numpy as np, soundfile as sf
        import mixtree as mt
        from mixtree import effects as fx
        from userfx import Fuzz
        t = np.arange({RATE}) / {RATE}
        sf.write({str(tmp_path / "tone.wav")!r}, 0.5 * np.sin(2 * np.pi * 220 * t), {RATE})
        p = mt.Project()
        track = p.add_audio_track("Guitar")
        track.add_clip(p.pool.load({str(tmp_path / "tone.wav")!r}))
        track.add_effect(Fuzz(drive=4.0))
        track.add_effect(fx.Gain(db=-6.0))
        keys = p.add_midi_track("Keys")
        p.save({str(tmp_path / "song.json")!r})
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True)
    return tmp_path / "song.json"


def test_a_project_holding_an_unknown_effect_opens_with_one_warning_naming_it(saved_with_user_effect):
    with pytest.warns(mt.EffectWarning, match=r"tracks\[0\]\.effects\[0\] 'userfx\.Fuzz' on 'Guitar'"):
        p = mt.Project.load(saved_with_user_effect)
    fuzz, gain = p.tracks[0].effects
    assert isinstance(fuzz, mt.OfflineEffect) and fuzz.offline.startswith("unknown effect type 'userfx.Fuzz'")
    assert fuzz.get_parameter("drive") == 4.0
    with pytest.raises(ValueError, match="cannot set 'drive'"):
        fuzz.set_parameter("drive", 1.0)
    # the placeholder passes the audio through: what plays is the clip through the gain alone
    heard = p.render()
    assert np.abs(heard).max() < 0.5 * 10 ** (-6 / 20)  # no drive
    p.tracks[0].remove_effect(fuzz.id)
    assert np.array_equal(heard, p.render())


def test_an_offline_effect_saves_back_unchanged(saved_with_user_effect, tmp_path):
    original = json.loads(saved_with_user_effect.read_text())
    with pytest.warns(mt.EffectWarning):
        p = mt.Project.load(saved_with_user_effect)
    p.tracks[0].volume_db = -1.0
    again = json.loads(p.save(tmp_path / "again.json").read_text())
    assert again["tracks"][0]["effects"] == original["tracks"][0]["effects"]
    # and a process that has the class opens it as itself again
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(tmp_path)!r})
        import userfx, mixtree as mt
        p = mt.Project.load({str(tmp_path / "again.json")!r})
        assert type(p.tracks[0].effects[0]).__name__ == "Fuzz", p.tracks[0].effects
        assert p.tracks[0].effects[0].drive == 4.0
        """
    )
    subprocess.run([sys.executable, "-W", "error", "-c", script], check=True)


def test_an_unknown_instrument_opens_silent(project, tmp_path):
    keys = project.add_midi_track("Keys")
    keys.add_midi_clip(0.0, 1.0).add_note(60, 100, 0.0, 0.5)
    path = project.save(tmp_path / "song.json")
    doc = json.loads(path.read_text())
    doc["tracks"][0]["instrument"]["type"] = "somevendor.Synth"
    path.write_text(json.dumps(doc))
    with pytest.warns(mt.EffectWarning, match=r"instrument 'somevendor\.Synth' on 'Keys'"):
        p = mt.Project.load(path)
    assert p.tracks[0].instrument.is_instrument and not p.render().any()
    saved = json.loads(p.save(tmp_path / "again.json").read_text())
    assert saved["tracks"][0]["instrument"] == doc["tracks"][0]["instrument"]


def test_a_user_effect_is_saved_under_its_import_path(project, wav):
    class Quiet(mt.effects.Effect):
        def process_block(self, block, sample_rate):
            block *= 0.5

    t = project.add_audio_track("T")
    t.add_clip(project.pool.load(wav(sine(440, 0.1))))
    effect = t.add_effect(Quiet())
    assert effect.get_state()["type"].endswith("test_a_user_effect_is_saved_under_its_import_path.<locals>.Quiet")


def test_an_offline_effect_writes_back_even_a_bypass_it_cannot_read():
    state = {"id": 7, "type": "vendor.Thing", "parameters": {"x": 1}, "bypass": "false"}
    effect = mt.OfflineEffect(state)
    assert not effect.bypass and effect.get_state() == {k: v for k, v in state.items() if k != "id"}
    effect.bypass = True
    assert effect.get_state()["bypass"] is True


def test_a_known_effect_that_wants_arguments_is_a_clear_error_on_load(project, tmp_path):
    class Convolver(mt.effects.Effect):
        def __init__(self, impulse):
            super().__init__()
            self.impulse = impulse

        def process_block(self, block, sample_rate):
            pass

    project.add_audio_track("T").add_effect(Convolver("hall.wav"))
    path = project.save(tmp_path / "song.json")
    with pytest.raises(mt.ProjectFileError, match=r"effects\[0\]: .*Convolver' cannot be made from its saved state"):
        mt.Project.load(path)
