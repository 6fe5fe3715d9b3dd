"""OSC remote control with the core of Ardour's address space (docs/studio.md).

A UDP server (python-osc) on loopback unless told otherwise. Strips are the tracks in
tree order (`Session.strips`); each client sees them through its bank, as in Ardour: a
surface whose ``/set_surface`` gave a bank size of N numbers the N strips of its current
bank 1..N (``/bank_up`` and ``/bank_down`` move it by N, the last bank kept full), and a
bank size of 0 (the default) numbers every strip. Requests become the same undoable
edits as the page's; a client that sends ``/set_surface`` with feedback bits gets the
position, meters and the values of its bank's strips it asked for, sent from the
server's port to its own (or to the reply port it names), all of them again when its
bank moves. Messages are handled one at a time, in the order they arrive.
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

from mixtree.studio.session import Message, Session, describe
from mixtree.units import gain_to_db

#: Feedback bits of ``/set_surface`` (as Ardour numbers them) that mixtree honours.
BUTTONS, VALUES, MASTER, SMPTE, METER, SAMPLES, TIME = 1, 2, 16, 64, 128, 1024, 2048
#: Feedback messages per second at most.
FEEDBACK_RATE = 20.0
#: The largest bank a surface may ask for: its feedback walks the bank's strips each round.
MAX_BANK = 4096


@dataclass
class Surface:
    """A client that sent ``/set_surface``: its bank, and where to send which feedback.

    ``bank`` is the strip (from 1) its strip 1 stands for; ``bank_size`` 0 means every
    strip. ``sent`` holds the feedback values sent, so only changes go again.
    """

    address: tuple[str, int]
    feedback: int = 0
    bank_size: int = 0
    bank: int = 1
    sent: dict[str, Any] = field(default_factory=dict)

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
            "/goto_start": lambda: session.request({"op": "seek", "seconds": 0.0}),
            "/loop_toggle": session.toggle_loop,
        }
        for address, action in simple.items():
            d.map(address, self._guard(lambda _a, *_args, f=action: f()))
        d.map("/locate", self._guard(self._locate))
        for address, name in (
            ("/strip/gain", "volume_db"),
            ("/strip/pan_stereo_position", "pan"),
            ("/strip/mute", "mute"),
            ("/strip/solo", "solo"),
        ):
            d.map(address, self._guard(self._strip, name), needs_reply_address=True)
        d.map("/master/gain", self._guard(self._master))
        d.map("/set_surface", self._guard(self._set_surface), needs_reply_address=True)
        d.map("/set_surface/feedback", self._guard(self._set_feedback), needs_reply_address=True)
        d.map("/set_surface/bank_size", self._guard(self._set_bank_size), needs_reply_address=True)
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

    def _locate(self, address: str, position: float | int, *roll: Any) -> None:
        # Ardour's form counts samples (an int) and may roll; a float counts seconds
        seconds = position / self.session.project.sample_rate if isinstance(position, int) else float(position)
        self.session.request({"op": "seek", "seconds": seconds})
        if roll and roll[0]:
            self.session.request({"op": "play"})

    def _track_id(self, client: tuple[str, int], ssid: Any) -> int:
        strips = self.session.strips()
        with self._lock:
            surface = self.surfaces.get(client) or Surface(client)
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
        else:
            value = float(value)
        self.session.request({"op": "set", "track": track, "name": name, "value": value})

    def _master(self, address: str, value: Any) -> None:
        master = self.session.project.master.id
        self.session.request({"op": "set", "track": master, "name": "volume_db", "value": float(value)})

    def _set_surface(self, client: tuple[str, int], address: str, *args: Any) -> None:
        # bank_size, strip_types, feedback, fader_mode, send_page_size, plugin_page_size, port
        bank_size = _count("bank size", args[0], MAX_BANK) if args else 0
        feedback = _whole("feedback", args[2], 0, 2**31 - 1) if len(args) > 2 else 0
        port = (_whole("reply port", args[6], 0, 65535) if len(args) > 6 else 0) or client[1]
        with self._lock:  # a new set-up starts at the first bank and sends everything again
            self.surfaces[client] = Surface((client[0], port), feedback, bank_size)

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

    def _bank(self, client: tuple[str, int], address: str, step: int, *press: Any) -> None:
        # ``/bank_up 0`` is a button's release: nothing to do
        if press and not press[0]:
            return
        strips = len(self.session.strips())
        with self._lock:
            surface = self.surfaces.setdefault(client, Surface(client))
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
        strips = self.session.strips()
        master = self.session.project.master
        rate = self.session.project.sample_rate
        sends: list[tuple[tuple[str, int], list[tuple[str, list[Any]]]]] = []
        with self._lock:  # a bank that moves meanwhile waits for this round
            for s in self.surfaces.values():
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
                            out.append(("/strip/meter", [ssid, _db(max(level))]))
                if meters is not None and s.feedback & MASTER and s.feedback & METER:
                    level = meters["peak"].get(str(master.id))
                    if level is not None:
                        out.append(("/master/meter", [_db(max(level))]))
                for ssid in range(1, width + 1):  # a strip past the last track is cleared
                    out += _changed(s, _strip_values(s.feedback, shown.get(ssid)), ssid)
                if s.feedback & MASTER and s.bank_size:
                    # the bank buttons' lights: can the bank move that way?
                    moves = [("/bank_up", int(first + width <= len(strips))), ("/bank_down", int(first > 1))]
                    out += _changed(s, moves)
                sends.append((s.address, out))
        for to, out in sends:
            for path, args in out:
                self._send(to, path, args)

    def _send(self, to: tuple[str, int], path: str, args: list[Any]) -> None:
        b = OscMessageBuilder(address=path)
        for a in args:
            b.add_arg(a)
        try:
            self.server.socket.sendto(b.build().dgram, to)
        except OSError:
            pass  # a surface that went away: UDP has no one to tell


def _strip_values(feedback: int, track: Any) -> list[tuple[str, Any]]:
    """Return the feedback a strip shows for ``track``; with None (a bank past the last
    strip), what clears it, as Ardour clears an unused strip."""
    values: list[tuple[str, Any]] = []
    if track is None:
        if feedback & BUTTONS:
            values += [("/strip/name", " "), ("/strip/mute", 0), ("/strip/solo", 0)]
        if feedback & VALUES:
            values += [("/strip/gain", -193.0), ("/strip/pan_stereo_position", 0.5)]
        return values
    if feedback & BUTTONS:
        values += [("/strip/name", track.name), ("/strip/mute", int(track.mute)), ("/strip/solo", int(track.solo))]
    if feedback & VALUES:
        gain = track.volume_db if math.isfinite(track.volume_db) else -193.0
        values += [("/strip/gain", gain), ("/strip/pan_stereo_position", (track.pan + 1.0) / 2.0)]
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


def _clock(seconds: float) -> str:
    h, rest = divmod(max(0.0, seconds), 3600)
    m, s = divmod(rest, 60)
    return f"{int(h):02d}:{int(m):02d}:{s:06.3f}"


def _smpte(seconds: float, fps: int = 30) -> str:
    whole = int(max(0.0, seconds))
    frames = int((max(0.0, seconds) - whole) * fps)
    return f"{whole // 3600:02d}:{whole // 60 % 60:02d}:{whole % 60:02d}:{frames:02d}"
