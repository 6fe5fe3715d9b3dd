"""Exchange with other applications: DAWproject files (`dawproject_read`, `dawproject_write`).

Importing this package offers ``Project.export_dawproject`` through
`mixtree.model.project.JOBS`, so the model never imports upward.
"""

from mixtree.exchange.dawproject_read import ExchangeWarning, import_dawproject
from mixtree.exchange.dawproject_write import export_dawproject
from mixtree.model.project import JOBS

JOBS.update(export_dawproject=export_dawproject)

__all__ = ["ExchangeWarning", "export_dawproject", "import_dawproject"]
