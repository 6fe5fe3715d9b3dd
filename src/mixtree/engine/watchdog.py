"""Tells, from the control thread, whether a started driver still calls back.

A device can go away under a running stream in two ways: PortAudio marks the stream
inactive (a JACK server that shuts down tells its clients so), or the callbacks simply
stop coming while the stream claims to run. The watchdog sees both from what the
control thread can read without touching the audio thread: the driver's ``alive`` flag
and the player's count of blocks.
"""

from __future__ import annotations

#: How long a started stream may go without a callback before it counts as lost, seconds.
STALL_LIMIT = 1.0
#: ... and at least this many block periods (large blocks at low rates).
STALL_PERIODS = 20


class Watchdog:
    """Watches one started driver: `check` it every round of the control thread.

    Parameters
    ----------
    period
        The driver's block period, seconds.
    blocks
        The player's block count when the driver started.
    now
        The time it started (``time.monotonic()``), seconds.
    """

    def __init__(self, period: float, blocks: int, now: float) -> None:
        self.limit = max(STALL_LIMIT, STALL_PERIODS * period)
        self._blocks = blocks
        self._since = now

    def check(self, alive: bool, blocks: int, now: float) -> str | None:
        """Return why the driver counts as lost (None while it plays on).

        ``alive`` is the driver's own word, ``blocks`` the player's block count now.
        """
        if not alive:
            return "the stream stopped"
        if blocks != self._blocks:
            self._blocks = blocks
            self._since = now
            return None
        if now - self._since > self.limit:
            return f"no callback for {now - self._since:.1f} s"
        return None
