"""OSC remote control with the core of Ardour's address space (docs/studio.md).

A UDP server (python-osc) on loopback unless told otherwise. Strips are the tracks in
tree order (`Session.strips`) of the kinds a surface's ``strip_types`` asks for (the
master last, if asked); each client sees them through its bank, as in Ardour: a surface
whose ``/set_surface`` gave a bank size of N numbers the N strips of its current bank
1..N (``/bank_up`` and ``/bank_down`` move it by N, the last bank kept full), and a bank
size of 0 (the default) numbers every strip. Requests become the same undoable edits as
the page's; a client that sends ``/set_surface`` with feedback bits gets the position,
meters and the values of its bank's strips it asked for (faders in dB or as positions,
as its ``fader_mode`` says), sent from the server's port to its own (or to the reply
port it names), all of them again when its bank moves. Messages are handled one at a
time, in the order they arrive.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from pythonosc import osc_packet
from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.osc_server import BlockingOSCUDPServer

from mixtree.model.tracks import AudioTrack, BusTrack, MasterTrack, Metatrack, MidiTrack, Track
from mixtree.studio.fader import db_to_position, position_to_db
from mixtree.studio.session import Message, Session, describe
from mixtree.units import gain_to_db

#: Feedback bits of ``/set_surface`` (as Ardour numbers them) that mixtree honours.
BUTTONS, VALUES, MASTER, SMPTE, METER, SAMPLES, TIME = 1, 2, 16, 64, 128, 1024, 2048
#: Feedback bit that sends ``/strip/list``'s replies to ``/reply`` instead of ``#reply``.
REPLY = 16384
#: Strip-type bits of ``/set_surface`` (Ardour's) that mixtree's track kinds answer to.
AUDIO_TRACKS, MIDI_TRACKS, AUDIO_BUSSES, MASTER_STRIP = 1, 2, 4, 32
#: Ardour's default strip types (audio and MIDI tracks and busses, VCAs): what 0 stands for.
DEFAULT_STRIPS = 31
#: The largest ``fader_mode``: 0 dB, 1 position, 2 both, 3 position (Ardour's ``gainmode``).
MAX_FADER_MODE = 3
#: Feedback messages per second at most.
FEEDBACK_RATE = 20.0
#: The largest bank a surface may ask for: its feedback walks the bank's strips each round.
MAX_BANK = 4096


@dataclass
class Surface:
    """A client that sent ``/set_surface``: its bank, and where to send which feedback.

    ``bank`` is the strip (from 1) its strip 1 stands for; ``bank_size`` 0 means every
    strip. ``strip_types`` picks the kinds of tracks that are strips (Ardour's bits; 0:
    `DEFAULT_STRIPS`); ``fader_mode`` says whether faders go in dB or as positions.
    ``sent`` holds the feedback values sent, so only changes go again; ``listed`` the
    strips' ids when it last asked for ``/strip/list`` (None if it never did); ``numbered``
    how many strips its last feedback numbered, so those no longer there are cleared.
    """

    address: tuple[str, int]
    feedback: int = 0
    bank_size: int = 0
    strip_types: int = 0
    fader_mode: int = 0
    bank: int = 1
    sent: dict[str, Any] = field(default_factory=dict)
    listed: tuple[int, ...] | None = None
    numbered: int = 0

    def first(self, strips: int) -> int:
        """Return the strip (from 1) the bank starts at, kept within ``strips`` strips:
        the last bank full, as Ardour keeps it."""
        size = self.bank_size or strips
        if size >= strips:
            return 1
        return min(max(self.bank, 1), strips - size + 1)

    def width(self, strips: int) -> int:
        """Return how many strips the surface numbers (its bank size, or all of them)."""
        return self.bank_size or strips


class OscServer:
    """Serve OSC for ``session`` on ``host``:``port`` (UDP) in a thread of its own."""

    def __init__(self, session: Session, host: str = "127.0.0.1", port: int = 9000) -> None:
        self.session = session
        self.surfaces: dict[tuple[str, int], Surface] = {}  # by the client's address
        self._lock = threading.Lock()
        self._last = 0.0
        d = _Dispatcher(session)
        simple = {
            "/transport_play": lambda: session.request({"op": "play"}),
            "/transport_stop": lambda: session.request({"op": "pause"}),
            "/toggle_roll": lambda: session.request({"op": "pause" if session.engine.playing else "play"}),
            "/goto_start": lambda: session.request({"op": "seek", "seconds": 0.0}),
            "/goto_end": lambda: session.request({"op": "seek", "seconds": session.project.duration}),
            "/loop_toggle": session.toggle_loop,
            "/undo": lambda: session.request({"op": "undo"}),
            "/redo": lambda: session.request({"op": "redo"}),
            "/save_state": lambda: session.request({"op": "save"}),
        }
        for address, action in simple.items():
            d.map(address, self._guard(self._press, action))
        d.map("/locate", self._guard(self._locate))
        for address, name in (
            ("/strip/gain", "volume_db"),
            ("/strip/fader", "fader"),
            ("/strip/pan_stereo_position", "pan"),
            ("/strip/mute", "mute"),
            ("/strip/solo", "solo"),
        ):
            d.map(address, self._guard(self._strip, name), needs_reply_address=True)
        d.map("/strip/list", self._guard(self._list), needs_reply_address=True)
        d.map("/master/gain", self._guard(self._master, "volume_db"))
        d.map("/master/fader", self._guard(self._master, "fader"))
        d.map("/set_surface", self._guard(self._set_surface), needs_reply_address=True)
        d.map("/set_surface/feedback", self._guard(self._set_feedback), needs_reply_address=True)
        d.map("/set_surface/bank_size", self._guard(self._set_bank_size), needs_reply_address=True)
        d.map("/set_surface/strip_types", self._guard(self._set_strip_types), needs_reply_address=True)
        d.map("/set_surface/gainmode", self._guard(self._set_fader_mode), needs_reply_address=True)
        d.map("/bank_up", self._guard(self._bank, 1), needs_reply_address=True)
        d.map("/bank_down", self._guard(self._bank, -1), needs_reply_address=True)
        self.server = BlockingOSCUDPServer((host, port), d)
        self.host, self.port = self.server.server_address[:2]
        self._thread = threading.Thread(target=self.server.serve_forever, name="mixtree-osc", daemon=True)
        self._thread.start()
        session.listen(self._feedback)

    def close(self) -> None:
        """Stop serving."""
        self.session.unlisten(self._feedback)
        self.server.shutdown()
        self.server.server_close()
        self._thread.join()

    # -- requests ------------------------------------------------------------------------
    def _guard(self, handler: Any, *fixed: Any) -> Any:
        # a bad message is shown on the page, never raised into the server's thread; a
        # handler mapped with the client's address gets it first
        def run(*args: Any) -> None:
            client: tuple[Any, ...] = ()
            if args and isinstance(args[0], tuple):
                client, args = (args[0],), args[1:]
            address, args = args[0], args[1:]
            try:
                handler(*client, address, *fixed, *args)
            except Exception as exc:
                self.session.error(f"OSC {address} {' '.join(map(str, args))}: {describe(exc)}")

        return run

    def _press(self, address: str, action: Any, *press: Any) -> None:
        # a button sends 1 when pressed and may send 0 when released: 0 does nothing
        if len(press) > 1 or (press and not isinstance(press[0], int | float)):
            raise ValueError(f"{address} takes nothing or a button's 0/1, not {list(press)!r:.40}")
        if not press or press[0]:
            action()

    def _locate(self, address: str, position: float | int, *roll: Any) -> None:
        # Ardour's form counts samples (an int) and may roll; a float counts seconds
        seconds = position / self.session.project.sample_rate if isinstance(position, int) else float(position)
        self.session.request({"op": "seek", "seconds": seconds})
        if roll and roll[0]:
            self.session.request({"op": "play"})

    def strips(self, surface: Surface) -> list[Track]:
        """Return the strips ``surface`` numbers (before its bank): the tracks of the kinds
        its ``strip_types`` asks for, in tree order, then the master if it asks for it."""
        return _of_types(self.session.strips(), self.session.project.master, surface.strip_types)

    def _track_id(self, client: tuple[str, int], ssid: Any) -> int:
        with self._lock:
            surface = self.surfaces.get(client) or Surface(client)
            strips = self.strips(surface)
            first, width = surface.first(len(strips)), surface.width(len(strips))
        shown = min(width, len(strips) - first + 1)
        if isinstance(ssid, bool) or not isinstance(ssid, int) or not 1 <= ssid <= shown:
            bank = f" (its bank starts at strip {first})" if first > 1 else ""
            raise ValueError(f"no strip {ssid!r}: this surface's strips are 1..{shown}{bank}")
        return strips[first + ssid - 2].id

    def _strip(self, client: tuple[str, int], address: str, name: str, ssid: Any, value: Any) -> None:
        track = self._track_id(client, ssid)
        if name == "pan":
            value = 2.0 * float(value) - 1.0  # Ardour's 0 (left) .. 1 (right)
        elif name in ("mute", "solo"):
            value = bool(value)
        elif name == "fader":
            name, value = "volume_db", _fader_db(value)
        else:
            value = float(value)
        self.session.request({"op": "set", "track": track, "name": name, "value": value})

    def _master(self, address: str, name: str, value: Any) -> None:
        level = _fader_db(value) if name == "fader" else float(value)
        master = self.session.project.master.id
        self.session.request({"op": "set", "track": master, "name": "volume_db", "value": level})

    def _list(self, client: tuple[str, int], address: str, *args: Any) -> None:
        # Ardour's answer: a message per strip the surface numbers, then the end marker
        if args:
            raise ValueError(f"{address} takes no arguments, not {list(args)!r:.40}")
        with self._lock:
            surface = self.surfaces.setdefault(client, Surface(client))
            strips = self.strips(surface)
            first, width = surface.first(len(strips)), surface.width(len(strips))
            shown = strips[first - 1 : first - 1 + width]
            surface.listed = tuple(t.id for t in strips)
            surface.sent.clear()  # and every feedback value again, as Ardour does
            to, path = surface.address, "/reply" if surface.feedback & REPLY else "#reply"
        project = self.session.project
        for ssid, track in enumerate(shown, 1):
            self._send(to, path, _list_entry(track, ssid))
        end = round(project.duration * project.sample_rate)
        self._send(to, path, ["end_route_list", (project.sample_rate, "h"), (end, "h"), 0])

    def _set_surface(self, client: tuple[str, int], address: str, *args: Any) -> None:
        # bank_size, strip_types, feedback, fader_mode, send_page_size, plugin_page_size, port
        bank_size = _count("bank size", args[0], MAX_BANK) if args else 0
        strip_types = _count("strip types", args[1], 2**31 - 1) if len(args) > 1 else 0
        feedback = _whole("feedback", args[2], 0, 2**31 - 1) if len(args) > 2 else 0
        fader_mode = _count("fader mode", args[3], MAX_FADER_MODE) if len(args) > 3 else 0
        port = (_whole("reply port", args[6], 0, 65535) if len(args) > 6 else 0) or client[1]
        with self._lock:  # a new set-up starts at the first bank and sends everything again
            self.surfaces[client] = Surface((client[0], port), feedback, bank_size, strip_types, fader_mode)

    def _set_feedback(self, client: tuple[str, int], address: str, *args: Any) -> None:
        feedback = _whole("feedback", args[0], 0, 2**31 - 1) if args else 0
        with self._lock:
            surface = self.surfaces.setdefault(client, Surface(client))
            surface.feedback = feedback
            surface.sent.clear()

    def _set_bank_size(self, client: tuple[str, int], address: str, size: Any) -> None:
        bank_size = _count("bank size", size, MAX_BANK)
        with self._lock:
            surface = self.surfaces.setdefault(client, Surface(client))
            surface.bank_size, surface.bank = bank_size, 1
            surface.sent.clear()

    def _set_strip_types(self, client: tuple[str, int], address: str, types: Any) -> None:
        strip_types = _count("strip types", types, 2**31 - 1)
        with self._lock:  # other strips: back to the first bank, all of them sent again
            surface = self.surfaces.setdefault(client, Surface(client))
            surface.strip_types, surface.bank = strip_types, 1
            surface.sent.clear()

    def _set_fader_mode(self, client: tuple[str, int], address: str, mode: Any) -> None:
        fader_mode = _count("fader mode", mode, MAX_FADER_MODE)
        with self._lock:
            surface = self.surfaces.setdefault(client, Surface(client))
            surface.fader_mode = fader_mode
            surface.sent.clear()

    def _bank(self, client: tuple[str, int], address: str, step: int, *press: Any) -> None:
        # ``/bank_up 0`` is a button's release: nothing to do
        if press and not press[0]:
            return
        with self._lock:
            surface = self.surfaces.setdefault(client, Surface(client))
            strips = len(self.strips(surface))
            first = surface.first(strips)
            surface.bank = max(1, first + step * surface.bank_size)
            surface.bank = surface.first(strips)  # within the strips, the last bank full
            if surface.bank != first:
                surface.sent.clear()  # the bank's strips are new to the surface: all of them again

    # -- feedback ------------------------------------------------------------------------
    def _feedback(self, messages: list[Message]) -> None:
        # the session's thread, at its rate: send what each surface asked for and lacks
        now = time.monotonic()
        if now - self._last < 1.0 / FEEDBACK_RATE or not self.surfaces:
            return
        self._last = now
        transport = next((m for m in messages if m["type"] == "transport"), None)
        meters = next((m for m in messages if m["type"] == "meters"), None)
        tracks = self.session.strips()
        master = self.session.project.master
        rate = self.session.project.sample_rate
        sends: list[tuple[tuple[str, int], list[tuple[str, list[Any]]]]] = []
        with self._lock:  # a bank that moves meanwhile waits for this round
            for s in self.surfaces.values():
                strips = _of_types(tracks, master, s.strip_types)
                if s.listed is not None and not s.bank_size and s.listed != tuple(t.id for t in strips):
                    # a surface that lists the strips is told when they change, as Ardour tells it
                    s.listed = tuple(t.id for t in strips)
                    sends.append((s.address, [("/strip/list", [])]))
                if not s.feedback:
                    continue
                first, width = s.first(len(strips)), s.width(len(strips))
                shown = {k: strips[first + k - 2] for k in range(1, width + 1) if first + k - 2 < len(strips)}
                out: list[tuple[str, list[Any]]] = []
                if transport is not None:
                    seconds = float(transport["position"])
                    if s.feedback & SAMPLES:
                        out.append(("/position/samples", [str(round(seconds * rate))]))
                    if s.feedback & TIME:
                        out.append(("/position/time", [_clock(seconds)]))
                    if s.feedback & SMPTE:
                        out.append(("/position/smpte", [_smpte(seconds)]))
                if meters is not None and s.feedback & METER:
                    for ssid, track in shown.items():
                        level = meters["peak"].get(str(track.id))
                        if level is not None:
                            out.append(("/strip/meter", [ssid, _meter(max(level), s.fader_mode)]))
                if meters is not None and s.feedback & MASTER and s.feedback & METER:
                    level = meters["peak"].get(str(master.id))
                    if level is not None:
                        out.append(("/master/meter", [_meter(max(level), s.fader_mode)]))
                # a strip past the last track (or the last of a list that shrank) is cleared
                for ssid in range(1, max(width, s.numbered) + 1):
                    out += _changed(s, _strip_values(s.feedback, s.fader_mode, shown.get(ssid)), ssid)
                s.numbered = width
                if s.feedback & MASTER:
                    out += _changed(s, _levels("/master", s.fader_mode, master.volume_db))
                if s.feedback & MASTER and s.bank_size:
                    # the bank buttons' lights: can the bank move that way?
                    moves = [("/bank_up", int(first + width <= len(strips))), ("/bank_down", int(first > 1))]
                    out += _changed(s, moves)
                sends.append((s.address, out))
        for to, out in sends:
            for path, args in out:
                self._send(to, path, args)

    def _send(self, to: tuple[str, int], path: str, args: list[Any]) -> None:
        try:
            self.server.socket.sendto(datagram(path, args), to)
        except OSError:
            pass  # a surface that went away: UDP has no one to tell


def datagram(path: str, args: list[Any]) -> bytes:
    """Return the OSC message ``path`` with ``args``; an argument given as ``(value, tag)``
    gets that type tag (``"h"``: a 64-bit integer), the others the one their type implies."""
    b = OscMessageBuilder(address=path)
    for a in args:
        if isinstance(a, tuple):
            b.add_arg(a[0], a[1])
        else:
            b.add_arg(a)
    return b.build().dgram


def _of_types(tracks: list[Track], master: Track, strip_types: int) -> list[Track]:
    """Return the tracks of the kinds ``strip_types`` asks for (0: `DEFAULT_STRIPS`), in
    their order, then ``master`` if it asks for the master (last, as Ardour puts it)."""
    types = strip_types or DEFAULT_STRIPS
    kept = [t for t in tracks if types & _type_bit(t)]
    return kept + [master] if types & MASTER_STRIP else kept


def _type_bit(track: Track) -> int:
    """Return the strip-type bit a track answers to: a metatrack mixes its children as
    an Ardour bus mixes what is routed to it, so both kinds of bus are audio busses."""
    if isinstance(track, AudioTrack):
        return AUDIO_TRACKS
    if isinstance(track, MidiTrack):
        return MIDI_TRACKS
    if isinstance(track, BusTrack | Metatrack):
        return AUDIO_BUSSES
    return 0


def _list_entry(track: Track, ssid: int) -> list[Any]:
    """Return ``/strip/list``'s reply for one strip, as Ardour builds it: type, name,
    audio inputs, outputs, mute, solo, ssid, and for a track (not a bus) record-enable."""
    if isinstance(track, MasterTrack):
        kind = "MA"
    elif isinstance(track, AudioTrack | MidiTrack):
        kind = "AT" if isinstance(track, AudioTrack) else "MT"
    else:
        kind = "B"
    # mixtree's strips are stereo; a track plays what it holds, with no audio input, as
    # Ardour counts a MIDI track's; it never records, so its record-enable is 0
    inputs = 0 if kind in ("AT", "MT") else 2
    entry = [kind, track.name, inputs, 2, int(track.mute), int(track.solo), ssid]
    return entry + [0] if kind in ("AT", "MT") else entry


def _fader_db(position: Any) -> float:
    """Return the level in dB of a fader position sent by a surface (clamped to 0..1, as
    Ardour clamps it), or raise ``ValueError`` for what is not a number."""
    if isinstance(position, bool) or not isinstance(position, int | float) or math.isnan(position):
        raise ValueError(f"a fader position must be a number in 0..1, not {position!r:.40}")
    return position_to_db(float(position))


def _levels(prefix: str, fader_mode: int, volume_db: float | None) -> list[tuple[str, Any]]:
    """Return a fader's feedback as ``fader_mode`` asks: ``gain`` in dB (mode 0 and 2;
    −193 for silence), ``fader`` as a position (modes 1..3); None: what clears it."""
    values: list[tuple[str, Any]] = []
    if fader_mode:
        values.append((f"{prefix}/fader", 0.0 if volume_db is None else db_to_position(volume_db)))
    if fader_mode in (0, 2):
        finite = volume_db is not None and math.isfinite(volume_db)
        values.append((f"{prefix}/gain", volume_db if finite else -193.0))
    return values


def _strip_values(feedback: int, fader_mode: int, track: Any) -> list[tuple[str, Any]]:
    """Return the feedback a strip shows for ``track``; with None (a bank past the last
    strip), what clears it, as Ardour clears an unused strip."""
    values: list[tuple[str, Any]] = []
    if track is None:
        if feedback & BUTTONS:
            values += [("/strip/name", " "), ("/strip/mute", 0), ("/strip/solo", 0)]
        if feedback & VALUES:
            values += [*_levels("/strip", fader_mode, None), ("/strip/pan_stereo_position", 0.5)]
        return values
    if feedback & BUTTONS:
        values += [("/strip/name", track.name), ("/strip/mute", int(track.mute)), ("/strip/solo", int(track.solo))]
    if feedback & VALUES:
        pan = (track.pan + 1.0) / 2.0
        values += [*_levels("/strip", fader_mode, track.volume_db), ("/strip/pan_stereo_position", pan)]
    return values


def _changed(surface: Surface, values: list[tuple[str, Any]], ssid: int | None = None) -> list[tuple[str, list[Any]]]:
    """Return the messages for those of ``values`` the surface has not been sent yet."""
    out = []
    for path, value in values:
        key = f"{path} {ssid}"
        if surface.sent.get(key) != value:
            surface.sent[key] = value
            out.append((path, [value] if ssid is None else [ssid, value]))
    return out


class _Dispatcher(Dispatcher):
    """python-osc's dispatcher, minus what one stray datagram could do to the server: a
    bundle's time tag is not waited for (a tag an hour ahead would hold a thread for an
    hour), and a datagram its parser refuses, with its ``ParseError`` or with a
    ``UnicodeDecodeError`` it lets escape (an address not UTF-8), is reported and dropped."""

    def __init__(self, session: Session) -> None:
        super().__init__(strict_timing=False)
        self._session = session

    def call_handlers_for_packet(self, data: bytes, client_address: tuple[str, int]) -> list:
        """Check that ``data`` parses, then call the handlers of its messages."""
        try:
            osc_packet.OscPacket(data)
        except (osc_packet.ParseError, UnicodeDecodeError) as exc:
            host, port = client_address[:2]
            self._session.error(f"OSC: ignored a malformed datagram from {host}:{port}: {exc}")
            return []
        return super().call_handlers_for_packet(data, client_address)


def _whole(name: str, value: Any, low: int, high: int) -> int:
    """Return ``value`` if it is a whole number in ``low..high``, or raise ``ValueError`` naming it."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name} must be a whole number in {low}..{high}, not {value!r:.40}")
    return value


def _count(what: str, value: Any, most: int) -> int:
    """Return ``value`` as a whole number in ``0..most`` (an integral float too, as touch
    surfaces send numbers), or raise ``ValueError`` naming ``what``."""
    whole = isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= most
    if not whole or value != int(value):
        raise ValueError(f"{what} must be a whole number in 0..{most}, not {value!r:.40}")
    return int(value)


def _db(level: float) -> float:
    return max(-193.0, gain_to_db(level)) if level > 0 else -193.0


def _meter(level: float, fader_mode: int) -> float:
    """Return a peak meter as a surface wants it: dB (−193 for silence), or with a
    ``fader_mode`` Ardour's 0..1 scale, (dB + 94) / 100, floored at 0."""
    db = _db(level)
    return db if not fader_mode else min(1.0, max(0.0, (db + 94.0) / 100.0))


def _clock(seconds: float) -> str:
    h, rest = divmod(max(0.0, seconds), 3600)
    m, s = divmod(rest, 60)
    return f"{int(h):02d}:{int(m):02d}:{s:06.3f}"


def _smpte(seconds: float, fps: int = 30) -> str:
    whole = int(max(0.0, seconds))
    frames = int((max(0.0, seconds) - whole) * fps)
    return f"{whole // 3600:02d}:{whole // 60 % 60:02d}:{whole % 60:02d}:{frames:02d}"
