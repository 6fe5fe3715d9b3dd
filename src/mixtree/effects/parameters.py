"""Parameter descriptions: what an effect exposes, with range, unit, scale and smoothing."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Parameter:
    """One parameter of an effect.

    ``scale`` says how a UI should map it (``linear``, ``log`` for frequencies and times,
    ``db``); ``choices`` names the values of a discrete parameter (its value is the
    index); ``ramp`` is how long a change takes to arrive, in seconds (0: at once).
    """

    id: str
    name: str
    min: float
    max: float
    default: float
    unit: str = ""
    scale: str = "linear"
    choices: tuple[str, ...] = ()
    ramp: float = 0.02

    def check(self, value: float | str) -> float:
        """Return ``value`` as a float within range (a choice may be given by name)."""
        if self.choices and isinstance(value, str):
            if value not in self.choices:
                raise ValueError(f"{self.id} must be one of {', '.join(self.choices)}, not {value!r}")
            return float(self.choices.index(value))
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{self.id} must be a number, not {value!r}")
        v = float(value)
        if math.isnan(v) or not self.min <= v <= self.max:
            raise ValueError(f"{self.id} must be within {self.min:g}..{self.max:g}, not {value!r}")
        if self.choices and v != int(v):
            raise ValueError(f"{self.id} must be a whole choice index, not {value!r}")
        return v

    def __repr__(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        return f"Parameter({self.id!r}, {self.min:g}..{self.max:g}{unit}, default={self.default:g})"
