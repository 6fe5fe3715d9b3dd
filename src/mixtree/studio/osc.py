"""OSC remote control with the core of Ardour's address space (docs/studio.md).

A UDP server (python-osc) on loopback unless told otherwise. Strips are numbered from 1
in tree order (`Session.strips`). Requests become the same undoable edits as the page's;
a client that sends ``/set_surface`` with feedback bits gets the position, meters and
strip values it asked for, sent from the server's port to its own (or to the reply port
it names).
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from typing import Any

from pythonosc import osc_packet
from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.osc_server import ThreadingOSCUDPServer

from mixtree.studio.session import Message, Session, describe
from mixtree.units import gain_to_db

#: Feedback bits of ``/set_surface`` (as Ardour numbers them) that mixtree honours.
BUTTONS, VALUES, MASTER, SMPTE, METER, SAMPLES, TIME = 1, 2, 16, 64, 128, 1024, 2048
#: Feedback messages per second at most.
FEEDBACK_RATE = 20.0


@dataclass
class Surface:
    """A client that asked for feedback: where to send it and which bits."""

    address: tuple[str, int]
    feedback: int
    sent: dict[str, Any]


class OscServer:
    """Serve OSC for ``session`` on ``host``:``port`` (UDP) in a thread of its own."""

    def __init__(self, session: Session, host: str = "127.0.0.1", port: int = 9000) -> None:
        self.session = session
        self.surfaces: dict[tuple[str, int], Surface] = {}
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
        d.map("/strip/gain", self._guard(self._strip, "volume_db"))
        d.map("/strip/pan_stereo_position", self._guard(self._strip, "pan"))
        d.map("/strip/mute", self._guard(self._strip, "mute"))
        d.map("/strip/solo", self._guard(self._strip, "solo"))
        d.map("/master/gain", self._guard(self._master))
        d.map("/set_surface", self._guard_from(self._set_surface), needs_reply_address=True)
        d.map("/set_surface/feedback", self._guard_from(self._set_feedback), needs_reply_address=True)
        self.server = ThreadingOSCUDPServer((host, port), d)
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
        # a bad message is shown on the page, never raised into the server's thread
        def run(address: str, *args: Any) -> None:
            try:
                handler(address, *fixed, *args)
            except Exception as exc:
                self.session.error(f"OSC {address} {' '.join(map(str, args))}: {describe(exc)}")

        return run

    def _guard_from(self, handler: Any) -> Any:
        # `_guard` for a handler that is given the client's address first
        def run(client: tuple[str, int], address: str, *args: Any) -> None:
            try:
                handler(client, address, *args)
            except Exception as exc:
                self.session.error(f"OSC {address} {' '.join(map(str, args))}: {describe(exc)}")

        return run

    def _locate(self, address: str, position: float | int, *roll: Any) -> None:
        # Ardour's form counts samples (an int) and may roll; a float counts seconds
        seconds = position / self.session.project.sample_rate if isinstance(position, int) else float(position)
        self.session.request({"op": "seek", "seconds": seconds})
        if roll and roll[0]:
            self.session.request({"op": "play"})

    def _track_id(self, ssid: Any) -> int:
        strips = self.session.strips()
        if isinstance(ssid, bool) or not isinstance(ssid, int) or not 1 <= ssid <= len(strips):
            raise ValueError(f"no strip {ssid!r}: strips are 1..{len(strips)}")
        return strips[ssid - 1].id

    def _strip(self, address: str, name: str, ssid: Any, value: Any) -> None:
        track = self._track_id(ssid)
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
        feedback = _whole("feedback", args[2], 0, 2**31 - 1) if len(args) > 2 else 0
        port = _whole("reply port", args[6], 0, 65535) if len(args) > 6 else 0
        self._register(client, (client[0], port or client[1]), feedback)

    def _set_feedback(self, client: tuple[str, int], address: str, *args: Any) -> None:
        self._register(client, client, _whole("feedback", args[0], 0, 2**31 - 1) if args else 0)

    def _register(self, client: tuple[str, int], reply: tuple[str, int], feedback: int) -> None:
        with self._lock:
            self.surfaces.pop(client, None)
            if feedback:
                self.surfaces[reply] = Surface(reply, feedback, {})

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
        with self._lock:
            surfaces = list(self.surfaces.values())
        rate = self.session.project.sample_rate
        for s in surfaces:
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
                for ssid, track in enumerate(strips, 1):
                    level = meters["peak"].get(str(track.id))
                    if level is not None:
                        out.append(("/strip/meter", [ssid, _db(max(level))]))
            if meters is not None and s.feedback & MASTER and s.feedback & METER:
                level = meters["peak"].get(str(master.id))
                if level is not None:
                    out.append(("/master/meter", [_db(max(level))]))
            for ssid, track in enumerate(strips, 1):
                values: list[tuple[str, Any]] = []
                if s.feedback & VALUES:
                    gain = track.volume_db if math.isfinite(track.volume_db) else -193.0
                    values += [("/strip/gain", gain), ("/strip/pan_stereo_position", (track.pan + 1.0) / 2.0)]
                if s.feedback & BUTTONS:
                    values += [("/strip/mute", int(track.mute)), ("/strip/solo", int(track.solo))]
                for path, value in values:
                    if s.sent.get(f"{path} {ssid}") != value:
                        s.sent[f"{path} {ssid}"] = value
                        out.append((path, [ssid, value]))
            for path, args in out:
                self._send(s.address, path, args)

    def _send(self, to: tuple[str, int], path: str, args: list[Any]) -> None:
        b = OscMessageBuilder(address=path)
        for a in args:
            b.add_arg(a)
        try:
            self.server.socket.sendto(b.build().dgram, to)
        except OSError:
            pass  # a surface that went away: UDP has no one to tell


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
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name} must be a whole number in {low}..{high}, not {value!r:.40}")
    return value


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
