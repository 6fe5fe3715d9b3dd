"""Offline effects: stand-ins for effects a project file names but this process cannot make.

A user's `Effect` subclass whose module is not imported, or a plugin that does not load
here, opens as an `OfflineEffect`: it passes audio through (an offline instrument
is silent), keeps the settings the file held and writes them back unchanged, like a
missing medium opens as a silent offline source.
"""

from __future__ import annotations

import copy
from typing import Any

from mixtree.effects.base import Effect


class EffectWarning(UserWarning):
    """A project opened, but some of its effects are offline placeholders (named)."""


class OfflineEffect(Effect):
    """Holds the saved ``state`` of an effect of an unknown type; passes audio through.

    ``missing_type`` names the type (``reason``, if given, why it is offline instead).
    Its parameters can be read (`get_parameter`) but not changed; `bypass` can be. With
    ``instrument``, it stands in for a MIDI track's instrument and plays nothing.
    """

    effect_type = "offline"
    loadable = False

    def __init__(self, state: dict[str, Any], instrument: bool = False, reason: str | None = None) -> None:
        super().__init__()
        self.reason = reason
        self.saved = copy.deepcopy({k: v for k, v in state.items() if k != "id"})
        self.missing_type = str(state.get("type"))
        self.is_instrument = instrument
        self._bypass = state.get("bypass") is True

    @property
    def offline(self) -> str:
        """Return why the effect does not run."""
        if self.reason is not None:
            return self.reason
        kind = "instrument" if self.is_instrument else "effect"
        return f"unknown {kind} type {self.missing_type!r}: not installed or not imported"

    def get_parameter(self, key: str) -> Any:
        """Return a saved parameter's value."""
        parameters = self.saved.get("parameters", {})
        if not isinstance(parameters, dict) or key not in parameters:
            raise ValueError(f"offline {self.missing_type!r} has no saved parameter {key!r}")
        return parameters[key]

    def set_parameter(self, key: str, value: float | str) -> None:
        """Refuse: an offline effect's settings are kept as they were saved."""
        raise ValueError(f"cannot set {key!r}: {self.offline}")

    def process_block(self, block: Any, sample_rate: int) -> None:
        """Pass the audio through untouched."""

    def get_state(self) -> dict[str, Any]:
        """Return the saved state as it was read (with the bypass as it is now)."""
        state = copy.deepcopy(self.saved)
        if self._bypass != (state.get("bypass") is True):  # only if it was switched
            state["bypass"] = self._bypass
        return state

    def __repr__(self) -> str:
        return f"OfflineEffect({self.missing_type!r})"
