"""The studio's web server: the page, its JSON API and its WebSocket, behind a token.

Every URL starts with a random per-session token (``http://127.0.0.1:PORT/TOKEN/``):
the page, its scripts, the API and the WebSocket are refused without it, so another
local user, or a web page in the same browser (cross-site requests, DNS rebinding),
cannot drive the engine. The server listens on loopback unless a host is given
explicitly; on loopback it also refuses a ``Host`` header that does not name loopback.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import socket
import sys
import threading
import time
import webbrowser
from pathlib import Path
from typing import Any

import numpy as np
import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from mixtree.model.project import Project
from mixtree.studio.session import Message, Session, describe

STATIC = Path(__file__).parent / "static"
LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")
#: Messages a slow page may have waiting before transport and meter updates are dropped.
CLIENT_QUEUE = 256


class TokenGate:
    """ASGI middleware: let through only paths that start with ``/TOKEN``, with it removed."""

    def __init__(self, app: ASGIApp, token: str, loopback: bool) -> None:
        self.app = app
        self.token = token
        self.loopback = loopback

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the token (and, on loopback, the Host header), then pass the request on."""
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        first, _, rest = path.lstrip("/").partition("/")
        ok = secrets.compare_digest(first.encode(), self.token.encode()) and self._host_ok(scope)
        if not ok:
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 4403})
                return
            await Response("forbidden: this studio's URL carries a token", status_code=403)(scope, receive, send)
            return
        if not rest and not path.endswith("/"):  # /TOKEN → /TOKEN/, so relative URLs resolve under it
            await Response(status_code=307, headers={"location": f"/{first}/"})(scope, receive, send)
            return
        await self.app({**scope, "path": "/" + rest}, receive, send)

    def _host_ok(self, scope: Scope) -> bool:
        if not self.loopback:
            return True
        host = dict(scope.get("headers") or []).get(b"host", b"").decode(errors="replace")
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        return name in LOOPBACK


class Hub:
    """The open WebSockets: every session message goes to each, as JSON text."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.queues: set[asyncio.Queue[str]] = set()

    def send(self, messages: list[Message]) -> None:
        """Hand ``messages`` to every page (from the session's thread)."""
        if not self.queues:
            return
        texts = [(m["type"], json.dumps(m, allow_nan=False, default=_jsonable)) for m in messages]
        self.loop.call_soon_threadsafe(self._fan_out, texts)

    def _fan_out(self, texts: list[tuple[str, str]]) -> None:
        for q in self.queues:
            for kind, text in texts:
                if q.qsize() < CLIENT_QUEUE or kind in ("project", "error", "peaks"):
                    q.put_nowait(text)


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} does not go into JSON")


def _clean(value: Any) -> Any:
    """Return ``value`` with infinities and NaN as None (JSON has neither)."""
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def make_app(session: Session, token: str, loopback: bool = True) -> ASGIApp:
    """Return the studio's ASGI application for ``session``, gated by ``token``."""
    hubs: list[Hub] = []

    def hub() -> Hub:
        if not hubs:
            hubs.append(Hub(asyncio.get_running_loop()))
            session.listen(hubs[0].send)
        return hubs[0]

    async def index(request: Request) -> Response:
        return FileResponse(STATIC / "index.html", headers={"cache-control": "no-store"})

    async def state(request: Request) -> Response:
        return JSONResponse(_clean(await run_in_threadpool(session.state)))

    async def op(request: Request) -> Response:
        try:
            message = await request.json()
            if not isinstance(message, dict):
                raise ValueError("a request is a JSON object")
            result = await run_in_threadpool(session.request, message)
        except Exception as exc:
            return JSONResponse({"ok": False, "error": describe(exc)}, status_code=400)
        return JSONResponse(_clean(result))

    async def peaks(request: Request) -> Response:
        try:
            source = int(request.path_params["source"])
            level = int(request.query_params.get("level", "0"))
        except ValueError:
            return JSONResponse({"error": "source and level are whole numbers"}, status_code=400)
        overview = session.peaks.get(source)
        if overview is None:
            return JSONResponse({"error": f"no waveform of source #{source} yet"}, status_code=404)
        level = min(max(level, 0), len(overview.levels) - 1)
        data = np.clip(np.round(overview.levels[level] * 127.0), -127, 127).astype(np.int8)
        headers = {
            "x-rate": str(overview.rate),
            "x-frames-per-bucket": str(overview.frames_per_bucket(level)),
            "x-frames": str(overview.frames),
            "cache-control": "no-store",
        }
        return Response(data.tobytes(), media_type="application/octet-stream", headers=headers)

    async def notes(request: Request) -> Response:
        try:
            key, count, data = await run_in_threadpool(session.notes, int(request.path_params["clip"]))
        except (ValueError, KeyError) as exc:
            return JSONResponse({"error": describe(exc)}, status_code=404)
        headers = {"x-notes": str(count), "x-key": key, "cache-control": "no-store"}
        return Response(data, media_type="application/octet-stream", headers=headers)

    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        queue: asyncio.Queue[str] = asyncio.Queue()
        h = hub()
        h.queues.add(queue)
        session.resend()  # this page needs the whole project

        async def pump() -> None:
            while True:
                await websocket.send_text(await queue.get())

        sender = asyncio.create_task(pump())
        try:
            while True:
                text = await websocket.receive_text()
                reply: Message
                ident = None
                try:
                    message = json.loads(text)
                    if not isinstance(message, dict):
                        raise ValueError("a request is a JSON object")
                    ident = message.get("id")
                    reply = {"type": "reply", "id": ident, **await run_in_threadpool(session.request, message)}
                except Exception as exc:
                    reply = {"type": "reply", "id": ident, "ok": False, "error": describe(exc)}
                await queue.put(json.dumps(_clean(reply)))
        except WebSocketDisconnect:
            pass
        finally:
            h.queues.discard(queue)
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await sender

    routes = [
        Route("/", index),
        Route("/api/state", state),
        Route("/api/op", op, methods=["POST"]),
        Route("/api/peaks/{source}", peaks),
        Route("/api/notes/{clip}", notes),
        WebSocketRoute("/ws", ws),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    return TokenGate(Starlette(routes=routes), token, loopback)


class Studio:
    """A running studio: the session, its web server and (optionally) its OSC server.

    ``url`` is the page's address, token included; `close` stops everything. Made by
    `mixtree.studio` and ``mixtree studio``.
    """

    def __init__(
        self,
        project: Project,
        host: str = "127.0.0.1",
        port: int = 0,
        osc: int | None = None,
        osc_host: str = "127.0.0.1",
        driver: str = "sounddevice",
        device: int | str | None = None,
        blocksize: int = 256,
        open_browser: bool = False,
    ) -> None:
        self.token = secrets.token_urlsafe(24)
        self.session = Session(project, driver=driver, device=device, blocksize=blocksize)
        self.osc = None
        try:
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
            self.host, self.port = host, sock.getsockname()[1]
            app = make_app(self.session, self.token, loopback=host in LOOPBACK)
            config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
            self._server = uvicorn.Server(config)
            self._thread = threading.Thread(
                target=self._server.run, kwargs={"sockets": [sock]}, name="mixtree-web", daemon=True
            )
            self._thread.start()
            deadline = time.monotonic() + 10.0
            while not self._server.started and self._thread.is_alive() and time.monotonic() < deadline:
                time.sleep(0.01)
            if not self._server.started:
                raise OSError(f"the web server did not start on {host}:{self.port}")
            if osc is not None:
                from mixtree.studio.osc import OscServer

                self.osc = OscServer(self.session, osc_host, osc)
        except BaseException:
            self.session.close()
            raise
        self.browser = open_browser and _open(self.url)

    @property
    def url(self) -> str:
        """Return the page's address, with its token."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/{self.token}/"

    @property
    def engine(self) -> Any:
        """Return the engine playing the project."""
        return self.session.engine

    def close(self) -> None:
        """Stop the OSC server, the web server and the engine."""
        if self.osc is not None:
            self.osc.close()
        self._server.should_exit = True
        self._thread.join(10.0)
        self.session.close()

    def __enter__(self) -> Studio:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Studio(url={self.url!r})"


def _open(url: str) -> bool:
    """Open ``url`` in a graphical browser if this machine has one; return whether it did
    (on a machine without a display a text browser would take the terminal over: none)."""
    graphical = sys.platform in ("darwin", "win32") or os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    if not graphical:
        return False
    try:
        webbrowser.get()
    except webbrowser.Error:
        return False
    return webbrowser.open(url)
