import math
import socket
import threading
import time

import pytest
from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_message import OscMessage
from pythonosc.osc_server import BlockingOSCUDPServer
from pythonosc.udp_client import SimpleUDPClient

import mixtree as mt
from mixtree.studio.fader import db_to_position, position_to_db
from mixtree.studio.osc import BUTTONS, MASTER, METER, REPLY, SAMPLES, TIME, VALUES, OscServer
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
        ("/set_surface", [0, -1, 7], "strip types must be a whole number in 0..2147483647"),
        ("/set_surface", [0, 2.5, 7], "strip types must be a whole number"),
        ("/set_surface", [0, 3, 7, 4], "fader mode must be a whole number in 0..3"),
        ("/set_surface/strip_types", ["audio"], "strip types must be a whole number"),
        ("/set_surface/gainmode", [float("nan")], "fader mode must be a whole number in 0..3"),
        ("/strip/fader", [1, "up"], "a fader position must be a number in 0..1"),
        ("/strip/fader", [1, float("nan")], "a fader position must be a number in 0..1"),
        ("/master/fader", [float("nan")], "a fader position must be a number in 0..1"),
        ("/undo", ["now"], "/undo takes nothing or a button's 0/1"),
        ("/strip/list", [1], "/strip/list takes no arguments"),
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


def _last(received, address, ssid=None):
    """Return the last value ``address`` (for strip ``ssid``) brought, or None."""
    for a, args in reversed(list(received)):
        if a == address and (ssid is None or args[0] == ssid):
            return args[-1]
    return None


def test_strip_types_choose_each_surfaces_strips_and_their_numbers(osc, song, listener):
    server, client = osc
    port, received = listener
    keys, rhythm, drums, synth = song.tracks  # audio, metatrack (a bus), audio, MIDI
    midi_only = SimpleUDPClient("127.0.0.1", server.port)
    midi_only.send_message("/set_surface", [0, 2, 0])  # MIDI tracks: Synth is strip 1
    busses = SimpleUDPClient("127.0.0.1", server.port)
    busses.send_message("/set_surface/strip_types", [4])  # audio busses: the metatrack
    # audio tracks and the master (last, as Ardour puts it); its feedback numbers them so
    client.send_message("/set_surface", [0, 1 | 32, BUTTONS, 0, 0, 0, port])
    assert _soon(lambda: [_last(received, "/strip/name", k) for k in (1, 2, 3)] == ["Keys", "Drums", "Master"])
    assert _last(received, "/strip/name", 4) is None
    midi_only.send_message("/strip/gain", [1, -5.0])
    busses.send_message("/strip/mute", [1, 1])
    client.send_message("/strip/gain", [3, -2.0])
    client.send_message("/strip/solo", [2, 1])
    assert _soon(lambda: synth.volume_db == -5.0 and rhythm.mute and song.master.volume_db == -2.0 and drums.solo)
    assert keys.volume_db == 0.0 and not keys.mute

    # a change of types goes back to the first bank and sends the new strips
    client.send_message("/set_surface/strip_types", [2 | 4])
    assert _soon(lambda: _last(received, "/strip/name", 1) == "Rhythm" and _last(received, "/strip/name", 2) == "Synth")
    assert _soon(lambda: _last(received, "/strip/name", 3) == " ")  # no third strip now: cleared
    client.send_message("/strip/pan_stereo_position", [2, 0.0])
    assert _soon(lambda: synth.pan == -1.0)
    errors = _errors(server)
    client.send_message("/strip/gain", [3, 0.0])
    assert _soon(lambda: any("no strip 3: this surface's strips are 1..2" in e for e in errors))

    # 0 is Ardour's default (31): every track, no master; and banks walk the chosen strips
    client.send_message("/set_surface", [1, 0, BUTTONS | MASTER, 0, 0, 0, port])
    client.send_message("/bank_up", [])
    client.send_message("/bank_up", [])
    client.send_message("/bank_up", [])
    client.send_message("/bank_up", [])  # the last bank: strip 4 of 4
    client.send_message("/strip/mute", [1, 1])
    assert _soon(lambda: synth.mute)
    assert _soon(lambda: _last(received, "/bank_up") == 0)


def _reply_socket():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(3.0)
    return sock


def _replies(sock, until):
    """Return (address, args) of the datagrams ``sock`` gets, up to the one ``until`` accepts."""
    got = []
    while not got or not until(*got[-1]):
        message = OscMessage(sock.recv(65536))
        got.append((message.address, message.params))
    return got


def test_strip_list_replies_a_message_per_strip_then_the_end_marker(osc, song):
    server, client = osc
    sock = _reply_socket()
    port = sock.getsockname()[1]
    keys, rhythm, drums, synth = song.tracks
    drums.mute = True
    client.send_message("/set_surface", [0, 1 | 2 | 4 | 32, 0, 0, 0, 0, port])
    client.send_message("/strip/list", [])
    got = _replies(sock, lambda address, args: args[0] == "end_route_list")
    assert got == [
        ("#reply", ["AT", "Keys", 0, 2, 0, 0, 1, 0]),
        ("#reply", ["B", "Rhythm", 2, 2, 0, 0, 2]),  # a bus: no record-enable
        ("#reply", ["AT", "Drums", 0, 2, 1, 0, 3, 0]),
        ("#reply", ["MT", "Synth", 0, 2, 0, 0, 4, 0]),
        ("#reply", ["MA", "Master", 2, 2, 0, 0, 5]),
        ("#reply", ["end_route_list", 48000, round(song.duration * 48000), 0]),
    ]
    # feedback bit 14 sends them to /reply; a banked surface lists the strips it numbers
    client.send_message("/set_surface", [2, 2 | 4, REPLY, 0, 0, 0, port])
    client.send_message("/strip/list", [])
    got = _replies(sock, lambda address, args: args[0] == "end_route_list")
    assert [(a, args[1], args[6]) for a, args in got[:-1]] == [("/reply", "Rhythm", 1), ("/reply", "Synth", 2)]
    assert got[-1][0] == "/reply"

    # an unbanked surface that listed is told when the strips change, and lists again
    client.send_message("/set_surface", [0, 0, 0, 0, 0, 0, port])
    client.send_message("/strip/list", [])
    assert len(_replies(sock, lambda address, args: args[0] == "end_route_list")) == 5
    song.add_bus("FX")
    assert _replies(sock, lambda address, args: True) == [("/strip/list", [])]
    client.send_message("/strip/list", [])
    got = _replies(sock, lambda address, args: args[0] == "end_route_list")
    assert [args[:2] for _, args in got[:-1]][-1] == ["B", "FX"]
    sock.close()


def test_strip_fader_moves_a_fader_by_ardours_law_and_feeds_positions_back(osc, song, listener):
    server, client = osc
    port, received = listener
    keys, rhythm, drums, synth = song.tracks
    client.send_message("/strip/fader", [1, 0.5])
    client.send_message("/strip/fader", [2, 1.7])  # past the top: Ardour clamps to +6 dB
    client.send_message("/master/fader", [0.0])
    client.send_message("/strip/fader", [3, 1])  # an int is a position too
    assert _soon(lambda: keys.volume_db == position_to_db(0.5) and song.master.volume_db == -math.inf)
    assert abs(keys.volume_db - -10.469) < 1e-3
    assert _soon(lambda: rhythm.volume_db == drums.volume_db == 20 * math.log10(2.0))

    # fader_mode 1: /strip/fader and /master/fader positions, no dB
    song.master.volume_db = 0.0
    client.send_message("/set_surface", [0, 0, VALUES | MASTER, 1, 0, 0, port])
    assert _soon(lambda: _last(received, "/strip/fader", 4) == pytest.approx(0.78179, abs=1e-5))
    assert _last(received, "/strip/fader", 1) == pytest.approx(0.5)
    assert _soon(lambda: _last(received, "/master/fader") == pytest.approx(db_to_position(0.0)))
    assert _last(received, "/strip/gain") is None and _last(received, "/master/gain") is None
    synth.volume_db = -math.inf
    assert _soon(lambda: _last(received, "/strip/fader", 4) == 0.0)

    # fader_mode 2 (/set_surface/gainmode, Ardour's name): both; 0: dB only
    client.send_message("/set_surface/gainmode", [2])
    assert _soon(lambda: _last(received, "/strip/gain", 1) == pytest.approx(-10.469, abs=1e-3))
    assert _last(received, "/strip/gain", 4) == -193.0 and _last(received, "/master/gain") == 0.0
    received.clear()
    client.send_message("/set_surface/gainmode", [0])
    keys.volume_db = -1.0
    assert _soon(lambda: _last(received, "/strip/gain", 1) == -1.0)
    assert _last(received, "/strip/fader") is None


def test_button_addresses_undo_redo_save_and_toggle_the_transport(osc, song):
    server, client = osc
    engine = server.session.engine
    song.tracks[0].volume_db = -4.0
    client.send_message("/undo", [])
    assert _soon(lambda: song.tracks[0].volume_db == 0.0)
    client.send_message("/redo", [1.0])
    assert _soon(lambda: song.tracks[0].volume_db == -4.0)
    client.send_message("/undo", [0])  # a button's release does nothing
    assert song.saved_version != song.version
    client.send_message("/save_state", [])
    assert _soon(lambda: song.saved_version == song.version)
    assert mt.Project.load(song.path).tracks[0].volume_db == -4.0
    assert song.tracks[0].volume_db == -4.0
    client.send_message("/toggle_roll", [])
    assert _soon(lambda: engine.playing)
    client.send_message("/toggle_roll", [1])
    assert _soon(lambda: not engine.playing)
    client.send_message("/goto_end", [])
    assert _soon(lambda: engine.position == pytest.approx(song.duration, abs=1e-3))
