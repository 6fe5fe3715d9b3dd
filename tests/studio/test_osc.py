import threading
import time

import pytest
from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_server import ThreadingOSCUDPServer
from pythonosc.udp_client import SimpleUDPClient

from mixtree.studio.osc import METER, SAMPLES, TIME, VALUES, OscServer
from mixtree.studio.session import Session


@pytest.fixture
def osc(song):
    session = Session(song, driver="null")
    server = OscServer(session, "127.0.0.1", 0)
    yield server, SimpleUDPClient("127.0.0.1", server.port)
    server.close()
    session.close()


def _soon(check, timeout=3.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(0.01)
    return False


def test_strip_addresses_edit_the_tracks_in_tree_order(osc, song):
    server, client = osc
    keys, rhythm = song.tracks[0], song.tracks[1]
    client.send_message("/strip/gain", [1, -6.5])
    client.send_message("/strip/pan_stereo_position", [1, 0.25])
    client.send_message("/strip/mute", [2, 1])
    client.send_message("/strip/solo", [1, 1])
    assert _soon(lambda: keys.volume_db == -6.5 and keys.pan == -0.5 and rhythm.mute and keys.solo)
    assert len(song.history) >= 4  # each one an undoable edit
    song.undo()
    assert not keys.solo


def test_transport_addresses_drive_the_engine(osc):
    server, client = osc
    engine = server.session.engine
    client.send_message("/locate", 2.0)
    assert _soon(lambda: abs(engine.position - 2.0) < 0.05)
    client.send_message("/transport_play", [])
    assert _soon(lambda: engine.playing and engine.position > 2.05)
    client.send_message("/transport_stop", [])
    assert _soon(lambda: not engine.playing)
    client.send_message("/goto_start", [])
    assert _soon(lambda: engine.position == 0.0)
    client.send_message("/loop_toggle", [])
    assert _soon(lambda: server.session.loop[0])
    client.send_message("/locate", [48000, 1])  # Ardour's form: samples, and roll
    assert _soon(lambda: engine.playing and engine.position >= 1.0)


def test_a_bad_message_becomes_an_error_on_the_page(osc):
    server, client = osc
    got = []
    server.session.listen(lambda ms: got.extend(m for m in ms if m["type"] == "error"))
    client.send_message("/strip/gain", [99, 0.0])
    assert _soon(lambda: any("no strip 99" in m["message"] for m in got))


def test_a_surface_gets_the_feedback_it_asks_for(osc, song):
    server, client = osc
    received: list[tuple[str, tuple]] = []
    d = Dispatcher()
    d.set_default_handler(lambda address, *args: received.append((address, args)))
    surface = ThreadingOSCUDPServer(("127.0.0.1", 0), d)
    thread = threading.Thread(target=surface.serve_forever, daemon=True)
    thread.start()
    try:
        feedback = VALUES | METER | SAMPLES | TIME
        client.send_message("/set_surface", [0, 0, feedback, 0, 0, 0, surface.server_address[1]])
        client.send_message("/transport_play", [])
        song.tracks[0].volume_db = -3.0
        addresses = ("/position/time", "/position/samples", "/strip/meter", "/strip/gain")
        assert _soon(lambda: {a for a, _ in received} >= set(addresses))
        assert (1, -3.0) in [args for a, args in received if a == "/strip/gain"]
        meters = [args for a, args in received if a == "/strip/meter" and args[0] == 1]
        assert _soon(lambda: any(args[1] > -60 for a, args in list(received) if a == "/strip/meter"))
        assert meters
    finally:
        surface.shutdown()
        surface.server_close()


# Regressions found by fuzzing the dispatch path (fuzz/messages.py).
def _errors(server):
    got = []
    server.session.listen(lambda ms: got.extend(m["message"] for m in ms if m["type"] == "error"))
    return got


def test_a_bundle_time_tagged_an_hour_ahead_is_applied_at_once_not_held(osc, song):
    from fuzz.messages import _ntp_now, osc_bundle, osc_message

    server, client = osc
    ahead = (int(_ntp_now()) + 3600) << 32
    client._sock.sendto(osc_bundle([osc_message("/strip/gain", [1, -9.0])], ahead), ("127.0.0.1", server.port))
    assert _soon(lambda: song.tracks[0].volume_db == -9.0)


def test_a_datagram_that_is_not_utf8_is_reported_and_the_server_goes_on(osc, song):
    server, client = osc
    got = _errors(server)
    client._sock.sendto(b"/\x92x\x00,\x00\x00\x00", ("127.0.0.1", server.port))
    assert _soon(lambda: any("malformed datagram" in m for m in got))
    client.send_message("/strip/mute", [1, 1])
    assert _soon(lambda: song.tracks[0].mute)


@pytest.mark.parametrize(
    ("address", "args", "said"),
    [
        ("/set_surface", [0, 0, 7, 0, 0, 0, 70000], "reply port must be a whole number in 0..65535"),
        ("/set_surface", [0, 0, "", 0, 0, 0, 0], "feedback must be a whole number"),
        ("/set_surface", [0, 0, float("nan")], "feedback must be a whole number"),
        ("/set_surface/feedback", [""], "feedback must be a whole number"),
    ],
)
def test_a_surface_asking_with_bad_arguments_is_refused_on_the_page(osc, address, args, said):
    server, client = osc
    got = _errors(server)
    client.send_message(address, args)
    assert _soon(lambda: any(said in m for m in got))
    assert server.surfaces == {}
