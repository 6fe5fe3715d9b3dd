"""Ardour's fader law: a fader's position 0..1 and the gain it stands for, in dB.

Ardour's ``gain_to_slider_position_with_max`` (libs/pbd/pbd/control_math.h, with its
default ``max-gain`` of 2.0): position = ((6·log2(g) + 192) / 198)^8 for a gain g of at
most 2 (+6.02 dB, position 1), 0 for silence; so 0 dB sits at 0.782. (Ardour scales g
by 2 / max-gain first: 1 with its default, so that step is left out.) OSC surfaces that
ask for fader positions (``fader_mode``) send and get these.
"""

from __future__ import annotations

import math

#: The loudest gain a fader reaches at position 1, as Ardour's default ``max-gain`` (2.0).
MAX_GAIN = 2.0
#: That gain in dB (+6.02).
MAX_DB = 20.0 * math.log10(MAX_GAIN)
# 6·log2(g) per dB: log2(g) = dB / (20·log10(2))
_PER_DB = 6.0 / (20.0 * math.log10(2.0))


def db_to_position(volume_db: float) -> float:
    """Return the fader position (0..1) of a level of ``volume_db`` dB: 0 for −inf (and
    below about −192 dB, where Ardour's law leaves 0..1), 1 at `MAX_DB` and above."""
    if math.isnan(volume_db):
        raise ValueError("a fader level must be a number of dB, not nan")
    base = (_PER_DB * min(volume_db, MAX_DB) + 192.0) / 198.0
    return max(0.0, base) ** 8


def position_to_db(position: float) -> float:
    """Return the level in dB of fader position ``position``, clamped to 0..1 as Ardour
    clamps it (0 gives −inf, 1 gives `MAX_DB`)."""
    if math.isnan(position):
        raise ValueError("a fader position must be a number in 0..1, not nan")
    position = min(max(position, 0.0), 1.0)
    if position == 0.0:
        return -math.inf
    return (position ** (1.0 / 8.0) * 198.0 - 192.0) / _PER_DB
