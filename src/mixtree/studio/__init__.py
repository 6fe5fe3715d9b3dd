"""The studio: a web page to see, hear and edit a project, and OSC remote control.

``mt.studio(project)`` plays the project and serves its page (see `start`). `server.Studio`
runs it (``mixtree studio`` too); `session.Session` is its bridge to the engine and the
project; `state` is the project as the page draws it; `peaks` makes waveforms'
overviews; `osc` serves Ardour's core OSC addresses. The page itself is in ``static/``.
Importing this package loads no web framework.
"""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mixtree.model.project import Project
    from mixtree.studio.server import Studio


def start(
    project: Project,
    *,
    port: int = 0,
    host: str = "127.0.0.1",
    osc: int | None = None,
    driver: str = "sounddevice",
    device: int | str | None = None,
    blocksize: int = 256,
    open_browser: bool = True,
) -> Studio:
    """Play ``project`` and serve its studio page; return the running `Studio` (``.url``
    with its token, ``.engine``, ``.close()``). ``osc``: also serve OSC on that UDP port."""
    from mixtree.studio.server import Studio

    return Studio(
        project, host=host, port=port, osc=osc, driver=driver, device=device, blocksize=blocksize,
        open_browser=open_browser,
    )  # fmt: skip


class _CallableModule(types.ModuleType):
    """This package, callable: ``mt.studio(project)`` is `start`."""

    def __call__(self, project: Project, **options: object) -> Studio:
        """Return `start` (``project``, ``options``)."""
        return start(project, **options)  # type: ignore[arg-type]


sys.modules[__name__].__class__ = _CallableModule
