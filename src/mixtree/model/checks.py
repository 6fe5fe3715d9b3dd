"""Validators for model attributes: each returns the normalised value or raises ValueError."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from mixtree.dsp.fades import curve_code


def number(name: str, low: float = -math.inf, high: float = math.inf) -> Callable[[Any], float]:
    """Return a check for a finite float within [low, high]."""

    def check(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{name} must be a number, not {value!r}")
        v = float(value)
        if math.isnan(v) or (math.isinf(v) and not (v == low == -math.inf)) or v < low or v > high:
            lo = "-inf" if math.isinf(low) else f"{low:.10g}"
            hi = "inf" if math.isinf(high) else f"{high:.10g}"
            raise ValueError(f"{name} must be within {lo}..{hi}, not {value!r}")
        return v

    return check


def flag(name: str) -> Callable[[Any], bool]:
    """Return a check for a boolean."""

    def check(value: Any) -> bool:
        if not isinstance(value, bool | int) or value not in (0, 1):
            raise ValueError(f"{name} must be True or False, not {value!r}")
        return bool(value)

    return check


def text(name: str) -> Callable[[Any], str]:
    """Return a check for a non-empty string."""

    def check(value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"{name} must be a non-empty string, not {value!r}")
        return value

    return check


def fade_curve(value: Any) -> str:
    """Check a fade curve name."""
    curve_code(value)
    return value


def color(value: Any) -> str | None:
    """Check a display colour: None or ``#rrggbb``."""
    if value is None:
        return None
    if (
        not isinstance(value, str) or len(value) != 7 or value[0] != "#"
        or any(c not in "0123456789abcdefABCDEF" for c in value[1:])
    ):  # fmt: skip
        raise ValueError(f"color must be None or '#rrggbb', not {value!r}")
    return value.lower()
