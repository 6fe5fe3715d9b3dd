import pytest

import mixtree as mt
from mixtree import effects as fx
from mixtree.batch import resolve, set_parameter
from mixtree.model.automation import Address
from tests.batch.conftest import make_project


@pytest.fixture
def p(tmp_path) -> mt.Project:
    return make_project(tmp_path)


def _track(p, name):
    return next(t for t in p.tracks if t.name == name)


def test_track_name_and_fader_parameter_resolve_to_the_automation_address(p):
    assert resolve(p, "Drums.volume_db") == Address(_track(p, "Drums").id, "volume_db")
    assert resolve(p, "Master.pan") == Address(p.master.id, "pan")


def test_a_parameter_only_one_effect_of_the_chain_has_resolves_to_that_effect(p):
    verb = _track(p, "Verb").effects[0]
    assert resolve(p, "Verb.mix") == Address(verb.id, "mix")


def test_effects_are_named_by_class_or_place_in_the_chain(p):
    lowpass = _track(p, "Bass").effects[0]
    assert resolve(p, "Bass.Filter.freq") == resolve(p, "Bass.0.freq") == Address(lowpass.id, "freq")


def test_ids_and_addresses_resolve_as_they_are(p):
    verb = _track(p, "Verb").effects[0]
    assert resolve(p, f"#{verb.id}.mix") == Address(verb.id, "mix")
    assert resolve(p, Address(verb.id, "room_size")) == Address(verb.id, "room_size")


def test_a_send_level_is_addressed_from_track_to_bus(p):
    send = _track(p, "Drums").sends[0]
    assert resolve(p, "Drums->Verb.level_db") == Address(send.id, "level_db")


def test_a_track_name_with_dots_is_matched_longest_first(p):
    t = p.add_audio_track("Gtr.L")
    assert resolve(p, "Gtr.L.pan") == Address(t.id, "pan")


def test_unknown_track_parameter_or_ambiguous_effect_is_a_value_error_naming_it(p):
    with pytest.raises(ValueError, match="'Nope.volume_db' names no track"):
        resolve(p, "Nope.volume_db")
    with pytest.raises(ValueError, match="'wet' of 'Drums' is not a parameter"):
        resolve(p, "Drums.wet")
    bass = _track(p, "Bass")
    bass.add_effect(fx.Filter("highpass", 30.0))
    with pytest.raises(ValueError, match="more than one effect on 'Bass' has 'freq'"):
        resolve(p, "Bass.freq")


def test_set_parameter_checks_the_value_and_overrides_a_playing_lane(p):
    drums = _track(p, "Drums")
    lane = drums.automate("volume_db")
    lane.add_point(0.0, -30.0)
    set_parameter(p, "Drums.volume_db", -6.0)
    assert drums.volume_db == -6.0 and lane.mode == "off"
    set_parameter(p, "Verb.mix", 0.75)
    assert _track(p, "Verb").effects[0].get_parameter("mix") == 0.75
    with pytest.raises(ValueError, match="Verb.mix"):
        set_parameter(p, "Verb.mix", 3.0)
