"""Fuzz targets for the studio's messages: raw OSC datagrams into the OSC server's dispatch,
and request bodies into the session as the web server hands them on.

The property: every input is handled, or refused with the documented error (shown on the
page, answered as ``{"ok": false, …}``) — never another exception or a hang — and after
each the project still writes a document that reads back to the same document.

One session (null driver) and one OSC server serve every input of a worker process, so
the project evolves as the inputs edit it; saving goes nowhere but the project's own file.
"""

from __future__ import annotations

import gc
import json
import math
import random
import struct
from pathlib import Path
from typing import Any

from fuzz.mutate import ODD_VALUES, json_mutator, mutate_bytes

#: Where OSC datagrams come from: a client address no one listens on.
CLIENT = ("127.0.0.1", 9)

#: The OSC addresses the server answers (Ardour's names), with the arguments they take.
OSC_ADDRESSES: dict[str, list[list[Any]]] = {
    "/transport_play": [[]],
    "/transport_stop": [[]],
    "/toggle_roll": [[], [1.0], [0]],
    "/goto_start": [[]],
    "/goto_end": [[], [1]],
    "/loop_toggle": [[]],
    "/undo": [[], [1]],
    "/redo": [[], [1.0]],
    "/save_state": [[]],
    "/locate": [[48000, 0], [1.5], [96000, 1]],
    "/strip/gain": [[1, -6.0], [2, 0.0]],
    "/strip/fader": [[1, 0.782], [2, 0.0], [3, 1.0]],
    "/strip/list": [[]],
    "/strip/pan_stereo_position": [[1, 0.25], [3, 1.0]],
    "/strip/mute": [[1, 1], [2, 0]],
    "/strip/solo": [[1, 1], [4, 0]],
    "/master/gain": [[-3.0]],
    "/master/fader": [[0.5], [1.0]],
    "/set_surface": [[0, 159, 7, 0, 0, 0, 0], [0, 159, 2199, 0, 0, 0, 8000], [2, 35, 16531, 1, 0, 0, 0]],
    "/set_surface/feedback": [[7], [3216]],
    "/set_surface/bank_size": [[2], [0]],
    "/set_surface/strip_types": [[1], [36], [0]],
    "/set_surface/gainmode": [[1], [2], [0]],
    "/bank_up": [[], [1]],
    "/bank_down": [[], [0]],
}

_sessions: dict[Path, Any] = {}


def _session(folder: Path) -> Any:
    # one session per worker process: a project on disk in ``folder``, played by the null driver
    if folder not in _sessions:
        from fuzz.targets import _seed_project
        from mixtree.studio.osc import OscServer
        from mixtree.studio.session import Session

        class FuzzedSession(Session):
            """A session whose saves go to the project's own file only."""

            def _op_save(self, m: dict[str, Any]) -> dict[str, Any]:
                if m.get("path"):
                    raise ValueError("under fuzz, a project saves to its own file only")
                return super()._op_save(m)

        class FuzzedOsc(OscServer):
            """An OSC server whose feedback is built and parsed back, never sent."""

            def _send(self, to: tuple[str, int], path: str, args: list[Any]) -> None:
                from pythonosc.osc_message import OscMessage

                from mixtree.studio.osc import datagram

                if not (isinstance(to[1], int) and 0 < to[1] < 65536):
                    raise ValueError(f"feedback to port {to[1]!r}")  # sendto would raise OverflowError
                OscMessage(datagram(path, args))

        project = _seed_project(folder)
        project.save(folder / "song.json")
        session = FuzzedSession(project, driver="null")
        _sessions[folder] = (session, FuzzedOsc(session, port=0))
    return _sessions[folder]


def _consistent(project: Any, folder: Path) -> None:
    """Raise `PropertyViolation` unless the project writes a document that reads back the same."""
    from fuzz.targets import PropertyViolation
    from mixtree.model.document import from_document, to_document

    with project.lock:
        doc = to_document(project, folder)
    try:
        text = json.dumps(doc, sort_keys=True, allow_nan=False)
        again = to_document(from_document(json.loads(text), folder).project, folder)
    except Exception as exc:
        raise PropertyViolation(f"the project no longer reads back: {type(exc).__name__}: {exc}") from exc
    finally:
        # a started engine leaves old objects to young collections only (`Engine.start`):
        # the read-back project's cycles would outlive every input and pass the memory bound
        gc.collect()
    if json.dumps(again, sort_keys=True) != text:
        raise PropertyViolation("the project reads back different from what it wrote")


# -- OSC -------------------------------------------------------------------------------------
def feed_osc(data: bytes, folder: Path) -> None:
    """Hand ``data`` to the OSC server as a datagram from `CLIENT`, then send feedback."""
    session, osc = _session(folder)
    osc.server.dispatcher.call_handlers_for_packet(data, CLIENT)
    osc._last = 0.0  # feedback now, whatever the rate limit says
    osc._feedback(session.tick())
    _consistent(session.project, folder)


def _osc_string(text: str) -> bytes:
    raw = text.encode() + b"\0"
    return raw + b"\0" * (-len(raw) % 4)


def osc_message(address: str, args: list[Any]) -> bytes:
    """Return the datagram of ``address`` with ``args`` (int → i or h, float → f or d, str, bytes,
    True/False/None → T/F/N), written by hand so any value fits."""
    tags, body = ",", b""
    for a in args:
        if a is True or a is False or a is None:
            tags += {True: "T", False: "F", None: "N"}[a]
        elif isinstance(a, int):
            if -(2**31) <= a < 2**31:
                tags, body = tags + "i", body + struct.pack(">i", a)
            else:
                tags, body = tags + "h", body + struct.pack(">q", max(-(2**63), min(a, 2**63 - 1)))
        elif isinstance(a, float):
            if math.isfinite(a) and abs(a) > 3e38:
                tags, body = tags + "d", body + struct.pack(">d", a)
            else:
                tags, body = tags + "f", body + struct.pack(">f", a)
        elif isinstance(a, bytes):
            tags, body = tags + "b", body + struct.pack(">i", len(a)) + a + b"\0" * (-len(a) % 4)
        else:
            tags, body = tags + "s", body + _osc_string(str(a))
    return _osc_string(address) + _osc_string(tags) + body


def osc_bundle(messages: list[bytes], timetag: int = 1) -> bytes:
    """Return a bundle of ``messages`` (timetag 1: at once)."""
    out = b"#bundle\0" + struct.pack(">Q", timetag)
    for m in messages:
        out += struct.pack(">i", len(m)) + m
    return out


def osc_seeds(scratch: Path, system: bool) -> list[bytes]:
    """Return a well-formed message for every address and form, and a bundle of two."""
    seeds = [osc_message(address, args) for address, forms in OSC_ADDRESSES.items() for args in forms]
    return [*seeds, osc_bundle(seeds[4:6])]


_OSC_ODD: tuple[Any, ...] = (0, 1, -1, 2**31 - 1, -(2**31), 2**40, 7, 65535, 65536, 0.0, -0.0, 0.5, 1e30)
_OSC_ODD += (float("nan"), float("inf"), float("-inf"), 1e300, "", "x" * 300, "1", b"", b"\x00\x01", True, False, None)


def osc_mutator(data: bytes, rng: random.Random, seeds: list[bytes]) -> bytes:
    """Mutate OSC: a message to a known address with odd arguments (types, values, arity),
    a bundle (with a timetag far ahead now and then), or the bytes."""
    choice = rng.random()
    if choice < 0.3:
        return mutate_bytes(data, rng, seeds)
    address = rng.choice([*OSC_ADDRESSES, "/strip", "/", "/strip/gain/x", "/*", "/strip/*"])
    forms = OSC_ADDRESSES.get(address, [[]])
    args = list(rng.choice(forms))
    for _ in range(rng.randint(1, 3)):
        what = rng.random()
        if what < 0.5 and args:
            args[rng.randrange(len(args))] = rng.choice(_OSC_ODD)
        elif what < 0.75:
            args.insert(rng.randint(0, len(args)), rng.choice(_OSC_ODD))
        elif args:
            del args[rng.randrange(len(args))]
    message = osc_message(address, args)
    if choice < 0.85:
        return message
    later = rng.choice([1, 0, 2**64 - 1, (int(_ntp_now()) + 3600) << 32])
    return osc_bundle([message, rng.choice(seeds)], later)


def _ntp_now() -> float:
    import time

    return time.time() + 2208988800  # seconds since 1900, OSC's epoch


# -- web -------------------------------------------------------------------------------------
def feed_web(data: bytes, folder: Path) -> None:
    """Hand ``data`` to the session as the server does a request body; the reply must be
    JSON, a refusal one of the errors the server answers as ``{"ok": false, …}``."""
    from mixtree.errors import MixtreeError
    from mixtree.studio.server import _clean

    session, _ = _session(folder)
    try:
        message = json.loads(data)
        if not isinstance(message, dict):
            raise ValueError("a request is a JSON object")
        reply = session.request(message)
    except (ValueError, LookupError, MixtreeError):  # documented: answered as {"ok": false, "error": …}
        pass
    else:
        json.dumps(_clean(reply), allow_nan=False)
    _consistent(session.project, folder)


def web_seeds(scratch: Path, system: bool) -> list[bytes]:
    """Return a request of every kind the page sends, naming the seed project's records."""
    from fuzz.targets import _seed_project

    project = _seed_project(scratch / "seed-web")
    tracks = [t.id for t in project.tracks]
    clips = [c.id for t in project.tracks for c in getattr(t, "clips", [])]
    lane = next(lane.id for t in project.tracks for lane in t.lanes.values())
    requests: list[dict[str, Any]] = [
        {"op": "play"},
        {"op": "pause"},
        {"op": "stop"},
        {"op": "seek", "seconds": 0.05},
        {"op": "loop", "on": True, "start": 0.0, "end": 0.2},
        {"op": "undo"},
        {"op": "redo"},
        {"op": "save"},
        {"op": "set", "track": tracks[0], "name": "volume_db", "value": -6.0},
        {"op": "set", "track": tracks[1], "name": "pan", "value": 0.5},
        {"op": "set", "track": tracks[0], "name": "mute", "value": True},
        {"op": "set", "track": tracks[1], "name": "solo", "value": False},
        {"op": "set", "track": tracks[2], "name": "speed", "value": 1.5},
        {"op": "set", "track": tracks[2], "name": "offset", "value": 0.1},
        {"op": "set", "track": tracks[2], "name": "pitch", "value": 2.0},
        {"op": "set", "track": tracks[2], "name": "collapsed", "value": True},
        {"op": "set", "track": tracks[0], "name": "name", "value": "Lead"},
        {"op": "move_clip", "clip": clips[0], "start": 0.2},
        {"op": "move_clip", "clip": clips[0], "start": 0.0, "track": tracks[1]},
        {"op": "trim_clip", "clip": clips[1], "start": 0.1, "duration": 0.05, "offset": 0.01},
        {"op": "fade", "clip": clips[0], "fade_in": 0.02, "fade_out": 0.01},
        {"op": "set_points", "lane": lane, "points": [[0.0, -3.0], [0.1, 0.0]]},
    ]
    return [json.dumps(r).encode() for r in requests] + [b"[]", b"{}", b"not json"]


def web_mutator(data: bytes, rng: random.Random, seeds: list[bytes]) -> bytes:
    """Mutate a request: its fields to odd values, ids to other records', or its bytes."""
    if rng.random() < 0.3:
        try:
            doc = json.loads(data)
            keys = [k for k in doc if k in ("track", "clip", "lane")] if isinstance(doc, dict) else []
            if keys:
                doc[rng.choice(keys)] = rng.choice([*range(0, 40), *ODD_VALUES[:8]])
                return json.dumps(doc).encode()
        except ValueError:
            pass
    return json_mutator(data, rng, seeds)
