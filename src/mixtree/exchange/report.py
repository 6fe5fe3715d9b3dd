"""What an import could not represent: counted as it reads, told in one warning."""

from __future__ import annotations

import warnings
from collections import Counter
from pathlib import Path


class ExchangeWarning(UserWarning):
    """An imported file held things mixtree cannot represent: the message lists them all."""


def warn_lost(path: Path, lost: Counter[str], stacklevel: int) -> None:
    """Warn once, naming ``path`` and every kind of thing in ``lost`` with its count."""
    if lost:
        listed = ", ".join(f"{n} {what}" for what, n in sorted(lost.items()))
        warnings.warn(f"'{path}': not imported as it was: {listed}", ExchangeWarning, stacklevel=stacklevel + 1)
