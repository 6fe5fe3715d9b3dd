"""Compressor."""

from __future__ import annotations

from mixtree.dsp.dynamics import STATE_SIZE, compressor_kernel
from mixtree.effects.base import Effect
from mixtree.effects.parameters import Parameter


class Compressor(Effect):
    """A stereo-linked feed-forward compressor with a soft knee.

    Above ``threshold_db`` the level rises ``1/ratio`` as fast; ``knee_db`` rounds the
    corner; ``attack`` and ``release`` (seconds) are the gain reduction's time constants;
    ``makeup_db`` is added after; ``detection`` is ``"peak"`` or ``"rms"`` (10 ms). The
    gain is computed every 8 frames and glides in between.
    """

    effect_type = "compressor"
    PARAMETERS = (
        Parameter("threshold_db", "Threshold", -60.0, 0.0, -18.0, "dB", "db"),
        Parameter("ratio", "Ratio", 1.0, 50.0, 4.0, ":1", "log"),
        Parameter("knee_db", "Knee", 0.0, 24.0, 6.0, "dB", "db"),
        Parameter("attack", "Attack", 0.0001, 1.0, 0.005, "s", "log"),
        Parameter("release", "Release", 0.001, 5.0, 0.1, "s", "log"),
        Parameter("makeup_db", "Makeup", 0.0, 24.0, 0.0, "dB", "db"),
        Parameter("detection", "Detection", 0, 1, 0, choices=("peak", "rms"), ramp=0.0),
    )
    kernel = staticmethod(compressor_kernel)
    state_size = STATE_SIZE

    def __init__(
        self,
        threshold_db: float = -18.0,
        ratio: float = 4.0,
        knee_db: float = 6.0,
        attack: float = 0.005,
        release: float = 0.1,
        makeup_db: float = 0.0,
        detection: str = "peak",
    ) -> None:
        super().__init__(
            threshold_db=threshold_db,
            ratio=ratio,
            knee_db=knee_db,
            attack=attack,
            release=release,
            makeup_db=makeup_db,
            detection=detection,
        )
