"""What an import could not represent: counted as it reads, told in one warning."""

from __future__ import annotations

import warnings
import zlib
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mixtree.errors import ProjectFileError


class ExchangeWarning(UserWarning):
    """An imported file held things mixtree cannot represent: the message lists them all."""


def warn_lost(path: Path, lost: Counter[str], stacklevel: int) -> None:
    """Warn once, naming ``path`` and every kind of thing in ``lost`` with its count."""
    if lost:
        listed = ", ".join(f"{n} {what}" for what, n in sorted(lost.items()))
        warnings.warn(f"'{path}': not imported as it was: {listed}", ExchangeWarning, stacklevel=stacklevel + 1)


#: What a reader raises on a document it did not expect: a value of the wrong type or range
#: somewhere in a stranger's file, a number too big for an int, a corrupt compressed entry.
MALFORMED = (
    ValueError,
    TypeError,
    AttributeError,
    KeyError,
    IndexError,
    OverflowError,
    ZeroDivisionError,
    LookupError,
    RecursionError,
    EOFError,
    zlib.error,
)


@contextmanager
def malformed_file(path: Path, *also: type[Exception]) -> Iterator[None]:
    """Turn what a reader raises on an unexpected document (`MALFORMED`, and the library
    errors ``also``) into a `ProjectFileError` naming ``path``.

    An import reads a stranger's file: whatever in it the reader did not foresee is the
    file's fault, so it is reported as such (what the reader raised chained as the cause).
    """
    try:
        yield
    except ProjectFileError:
        raise
    except (*MALFORMED, *also) as exc:
        reason = str(exc) or type(exc).__name__
        raise ProjectFileError(path, "", f"malformed ({type(exc).__name__}: {reason})") from exc
