"""Effects that misbehave on purpose, for the batch tests: workers import this module."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import numpy as np

from mixtree.effects.base import Effect
from mixtree.effects.parameters import Parameter

#: The file whose absence makes `KillOnce` kill its process (it creates it first).
ONCE = "MIXTREE_TEST_KILL_ONCE"


class Killer(Effect):
    """Kill the process that renders it (SIGKILL) while ``armed``; else pass audio through."""

    PARAMETERS = (Parameter("armed", "Armed", 0, 1, 0, choices=("off", "on")),)

    def process_block(self, block: np.ndarray, sample_rate: int) -> None:
        if self.value("armed") and self.strikes():
            os.kill(os.getpid(), signal.SIGKILL)

    def strikes(self) -> bool:
        return True


class KillOnce(Killer):
    """A `Killer` that strikes only while the file ``$MIXTREE_TEST_KILL_ONCE`` does not exist."""

    def strikes(self) -> bool:
        marker = Path(os.environ[ONCE])
        if marker.exists():
            return False
        marker.touch()
        return True
