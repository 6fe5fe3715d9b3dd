"""Session requests refuse malformed fields with the documented errors (regressions found
by fuzzing the web requests, fuzz/messages.py): never a TypeError from deep inside."""

import pytest

from mixtree.engine.commands import Event
from mixtree.studio.session import Session


@pytest.fixture
def session(song):
    s = Session(song, driver="null")
    yield s
    s.close()


@pytest.mark.parametrize("bad", [None, [1], {"id": 1}, True, "x", 1.5])
def test_an_id_of_the_wrong_type_is_a_value_error_naming_the_field(session, bad):
    with pytest.raises(ValueError, match="track must be an id"):
        session.request({"op": "set", "track": bad, "name": "mute", "value": True})
    with pytest.raises(ValueError, match="clip must be an id"):
        session.request({"op": "fade", "clip": bad, "fade_in": 0.1})
    with pytest.raises(ValueError, match="lane must be an id"):
        session.request({"op": "set_points", "lane": bad, "points": []})


def test_a_missing_id_is_a_key_error(session):
    with pytest.raises(KeyError):
        session.request({"op": "move_clip", "start": 1.0})


@pytest.mark.parametrize("name", ["pan", "speed", "volume_db"])
@pytest.mark.parametrize("bad", [[0.5], {"v": 1}, "0.5"])
def test_a_value_that_is_not_a_number_is_a_value_error(session, song, name, bad):
    track = song.tracks[2] if name == "speed" else song.tracks[0]
    with pytest.raises(ValueError, match="value must be a number"):
        session.request({"op": "set", "track": track.id, "name": name, "value": bad})


def test_pan_without_a_value_is_a_value_error(session, song):
    with pytest.raises(ValueError, match="value must be a number, not None"):
        session.request({"op": "set", "track": song.tracks[0].id, "name": "pan"})


@pytest.mark.parametrize("field", ["start", "end"])
def test_a_loop_bound_that_is_not_a_number_is_a_value_error(session, field):
    with pytest.raises(ValueError, match=f"{field} must be a number"):
        session.request({"op": "loop", "on": True, field: [0.0]})


@pytest.mark.parametrize("points", [3, [1, 2], [[0.0]], [[0.0, 1.0, 2.0]], [[[0.0], 1.0]], [["a", 1.0]]])
def test_points_that_are_not_number_pairs_are_a_value_error(session, song, points):
    lane = song.tracks[0].lanes["volume_db"]
    before = list(lane.points)
    with pytest.raises(ValueError):
        session.request({"op": "set_points", "lane": lane.id, "points": points})
    assert lane.points == before


def test_a_long_bad_value_is_cut_short_in_the_message(session, song):
    with pytest.raises(ValueError) as info:
        session.request({"op": "seek", "seconds": "x" * 5000})
    assert len(str(info.value)) < 200


def test_a_lost_audio_device_is_shown_on_the_page(session):
    message = "audio device 'system, JACK' lost: the stream stopped; playback stopped, start() opens it again"
    session._on_event(Event("device_lost", device="system, JACK", message=message))
    assert {"type": "error", "message": message} in session.tick()
