import threading
import time

import pytest
from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_server import BlockingOSCUDPServer
from pythonosc.udp_client import SimpleUDPClient

from mixtree.studio.osc import BUTTONS, MASTER, METER, SAMPLES, TIME, VALUES, OscServer
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


@pytest.fixture
def listener():
    """A surface's feedback port: (its port, the (address, args) it received)."""
    received: list[tuple[str, tuple]] = []
    d = Dispatcher()
    d.set_default_handler(lambda address, *args: received.append((address, args)))
    surface = BlockingOSCUDPServer(("127.0.0.1", 0), d)  # in the order they come
    thread = threading.Thread(target=surface.serve_forever, daemon=True)
    thread.start()
    yield surface.server_address[1], received
    surface.shutdown()
    surface.server_close()


def test_a_surface_gets_the_feedback_it_asks_for(osc, song, listener):
    server, client = osc
    port, received = listener
    feedback = VALUES | METER | SAMPLES | TIME
    client.send_message("/set_surface", [0, 0, feedback, 0, 0, 0, port])
    client.send_message("/transport_play", [])
    song.tracks[0].volume_db = -3.0
    addresses = ("/position/time", "/position/samples", "/strip/meter", "/strip/gain")
    assert _soon(lambda: {a for a, _ in received} >= set(addresses))
    assert (1, -3.0) in [args for a, args in received if a == "/strip/gain"]
    meters = [args for a, args in received if a == "/strip/meter" and args[0] == 1]
    assert _soon(lambda: any(args[1] > -60 for a, args in list(received) if a == "/strip/meter"))
    assert meters


def test_a_banked_surface_numbers_the_strips_of_its_bank_and_gets_their_feedback(osc, song, listener):
    server, client = osc
    port, received = listener
    keys, rhythm, drums, synth = song.tracks  # strips 1..4
    drums.volume_db = -2.0

    def last(address, ssid):
        return next((args[1] for a, args in reversed(list(received)) if a == address and args[0] == ssid), None)

    client.send_message("/set_surface", [2, 15, BUTTONS | VALUES | MASTER, 0, 0, 0, port])  # 2 faders
    assert _soon(lambda: last("/strip/name", 1) == "Keys" and last("/strip/name", 2) == "Rhythm")
    assert last("/strip/name", 3) is None  # only the bank's strips
    assert _soon(lambda: ("/bank_up", (1,)) in received and ("/bank_down", (0,)) in received)
    client.send_message("/strip/gain", [1, -3.0])
    assert _soon(lambda: keys.volume_db == -3.0)

    received.clear()
    client.send_message("/bank_up", [])
    # the new bank's strips, all sent again: ssid 1 is Drums now
    assert _soon(lambda: last("/strip/name", 1) == "Drums" and last("/strip/name", 2) == "Synth")
    assert last("/strip/gain", 1) == -2.0 and last("/strip/mute", 2) == 0
    assert _soon(lambda: ("/bank_up", (0,)) in received and ("/bank_down", (1,)) in received)
    client.send_message("/strip/gain", [1, -4.5])
    client.send_message("/strip/mute", [2, 1])
    assert _soon(lambda: drums.volume_db == -4.5 and synth.mute)
    assert keys.volume_db == -3.0
    assert _soon(lambda: last("/strip/gain", 1) == -4.5 and last("/strip/mute", 2) == 1)

    # no strip 3 on a 2-strip surface; a client without a bank numbers every strip
    errors = []
    server.session.listen(lambda ms: errors.extend(m["message"] for m in ms if m["type"] == "error"))
    client.send_message("/strip/gain", [3, 0.0])
    assert _soon(lambda: any("no strip 3: this surface's strips are 1..2" in e for e in errors))
    other = SimpleUDPClient("127.0.0.1", server.port)
    other.send_message("/strip/solo", [2, 1])
    assert _soon(lambda: rhythm.solo)

    # past the last bank it stays full (strips 3..4); a release (0) moves nothing; down and back
    client.send_message("/bank_up", [])
    client.send_message("/bank_down", [0])
    client.send_message("/strip/pan_stereo_position", [2, 0.0])
    assert _soon(lambda: synth.pan == -1.0)
    client.send_message("/bank_down", [1])
    client.send_message("/strip/pan_stereo_position", [2, 1.0])
    assert _soon(lambda: rhythm.pan == 1.0)


def test_a_bank_size_past_the_strips_clears_the_strips_it_has_no_track_for(osc, song, listener):
    server, client = osc
    port, received = listener
    client.send_message("/set_surface", [0, 15, BUTTONS | VALUES, 0, 0, 0, port])
    client.send_message("/set_surface/bank_size", [3])
    client.send_message("/bank_up", [])  # 4 strips, 3 faders: the last bank starts at strip 2
    client.send_message("/strip/gain", [3, -7.0])
    assert _soon(lambda: song.tracks[3].volume_db == -7.0)
    client.send_message("/set_surface/bank_size", [6])  # more faders than strips: back to strip 1
    assert _soon(lambda: ("/strip/name", (5, " ")) in received and ("/strip/gain", (6, -193.0)) in received)
    assert ("/strip/name", (1, "Keys")) in received


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
        ("/set_surface", [2**40, 0, 7], "bank size must be a whole number in 0..4096"),
        ("/set_surface", [float("inf"), 0, 7], "bank size must be a whole number"),
        ("/set_surface", [float("nan"), 0, 7], "bank size must be a whole number"),
        ("/set_surface", [2.5, 0, 7], "bank size must be a whole number"),
        ("/set_surface/bank_size", [2**40], "bank size must be a whole number in 0..4096"),
        ("/set_surface/bank_size", [-1], "bank size must be a whole number"),
    ],
)
def test_a_surface_asking_with_bad_arguments_is_refused_on_the_page(osc, address, args, said):
    server, client = osc
    got = _errors(server)
    client.send_message(address, args)
    assert _soon(lambda: any(said in m for m in got))
    assert server.surfaces == {}
    client.send_message("/strip/mute", [1, 1])  # and the server goes on answering
    assert _soon(lambda: server.session.project.tracks[0].mute)
