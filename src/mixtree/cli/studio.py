"""``mixtree studio``: the web page (and optional OSC server) over a playing project."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from rich.console import Console

from mixtree.model.project import Project


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``studio`` command to ``sub`` and return its parser."""
    studio = sub.add_parser("studio", help="see, hear and edit a project in a web page (and over OSC)")
    studio.add_argument("project", type=Path, metavar="PROJECT")
    studio.add_argument("--recover", action="store_true", help="open its newer autosave")
    studio.add_argument("--port", type=int, default=0, metavar="N", help="web port (default: a free one)")
    studio.add_argument(
        "--host", default="127.0.0.1", metavar="H", help="listen there instead of loopback (the token is still needed)"
    )
    studio.add_argument("--osc", type=int, default=None, metavar="PORT", help="also serve OSC on this UDP port")
    studio.add_argument("--osc-host", default="127.0.0.1", metavar="H", help="OSC listens there (default: loopback)")
    studio.add_argument("--no-browser", action="store_true", help="print the URL only, open no browser")
    return studio


def _idle() -> None:
    """Wait a while: the command's own thread has nothing to do but wait for Ctrl-C."""
    time.sleep(0.5)


def run(project: Project, args: argparse.Namespace, console: Console) -> None:
    """Serve the studio for ``project`` until Ctrl-C."""
    from mixtree.studio.server import Studio

    device = int(args.device) if args.device is not None and str(args.device).isdigit() else args.device
    studio = Studio(
        project,
        host=args.host,
        port=args.port,
        osc=args.osc,
        osc_host=args.osc_host,
        driver=args.driver,
        device=device,
        blocksize=args.block,
        open_browser=not args.no_browser,
    )
    try:
        if studio.session.notice:
            console.print(f"note: {studio.session.notice}", markup=False, soft_wrap=True)
        console.print(f"mixtree studio: {studio.url}", markup=False, soft_wrap=True)
        if not args.no_browser and not studio.browser:
            console.print("no graphical browser here: open the URL above in one")
        if studio.osc is not None:
            console.print(f"OSC on udp://{studio.osc.host}:{studio.osc.port}")
        if args.host not in ("127.0.0.1", "localhost", "::1"):
            console.print(
                f"warning: listening on {args.host}: anyone who can reach it and has the URL drives the engine"
            )
        console.print("Ctrl-C to stop")
        while True:
            _idle()
    finally:
        studio.close()
