"""Exchange with other applications: DAWproject (`dawproject_read`, `dawproject_write`),
OpenTimelineIO (`otio_read`, `otio_write`) and REAPER (`rpp_read`) files.

Importing this package offers ``Project.export_dawproject`` and ``Project.export_otio``
through `mixtree.model.project.JOBS`, so the model never imports upward. OpenTimelineIO
is imported on first use only.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from mixtree.exchange.dawproject_read import import_dawproject
from mixtree.exchange.dawproject_write import export_dawproject
from mixtree.exchange.report import ExchangeWarning
from mixtree.exchange.rpp_read import import_rpp
from mixtree.model.project import JOBS

if TYPE_CHECKING:
    from mixtree.model.project import Project


def export_otio(project: Project, path: str | Path) -> Path:
    """Write ``project`` as OpenTimelineIO (`mixtree.exchange.otio_write.export_otio`)."""
    from mixtree.exchange.otio_write import export_otio as write

    return write(project, path)


def import_otio(path: str | Path, sample_rate: int | None = None) -> Project:
    """Read an OpenTimelineIO file into a new project (`mixtree.exchange.otio_read.import_otio`)."""
    from mixtree.exchange.otio_read import import_otio as read

    return read(path, sample_rate)


JOBS.update(export_dawproject=export_dawproject, export_otio=export_otio)

__all__ = ["ExchangeWarning", "export_dawproject", "export_otio", "import_dawproject", "import_otio", "import_rpp"]
