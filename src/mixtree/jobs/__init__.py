"""Whole-project work above the render layer: export, stems, freeze, bounce, collect.

Importing this package offers the jobs as `Project` methods (``render``, ``export``,
``export_stems``, ``freeze``, ``bounce``, ``latency``) through `mixtree.model.project.JOBS`,
so the model never imports upward.
"""

from mixtree.jobs.bounce import bounce, freeze
from mixtree.jobs.export import export
from mixtree.jobs.stems import export_stems
from mixtree.model.project import JOBS
from mixtree.render.offline import latency, render

JOBS.update(render=render, export=export, export_stems=export_stems, freeze=freeze, bounce=bounce, latency=latency)
