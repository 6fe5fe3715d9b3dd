"""The undo history: applied operations, undone ones to redo, continuous edits merged."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from mixtree.model.operations import Operation, SetAttribute, SetEffectParameter

if TYPE_CHECKING:
    from mixtree.model.project import Project

#: How many edits the history keeps by default.
DEFAULT_DEPTH = 1000
#: Edits of the same value closer together than this merge into one step (a fader drag).
MERGE_WINDOW = 1.0


class Inverse(Operation):
    """The undoing of ``op``: applying it reverts ``op``; listeners see it like any edit."""

    def __init__(self, op: Operation) -> None:
        self.op = op
        self.structural = False  # it restores a state that passed the checks

    def apply(self, project: Project) -> None:
        """Revert the wrapped operation."""
        self.op.revert(project)

    def revert(self, project: Project) -> None:
        """Re-apply the wrapped operation."""
        self.op.apply(project)

    @property
    def description(self) -> str:
        """Return what is undone."""
        return f"undo {self.op.description}"


def _merge_key(op: Operation) -> tuple | None:
    if isinstance(op, SetAttribute):
        return ("attr", op.ident, op.name)
    if isinstance(op, SetEffectParameter):
        return ("param", op.effect_id, op.parameter)
    return None


class History:
    """Done and undone operations of one project, at most ``depth`` steps; undo and redo."""

    def __init__(self, depth: int = DEFAULT_DEPTH) -> None:
        self.depth = depth
        self.done: list[Operation] = []
        self.undone: list[Operation] = []
        self._last_key: tuple | None = None
        self._last_time = 0.0

    def record(self, op: Operation) -> None:
        """Remember a new edit: clears redo; merges a quick repeat of the same setting."""
        self.undone.clear()
        key = _merge_key(op)
        now = time.monotonic()
        if key is not None and key == self._last_key and now - self._last_time < MERGE_WINDOW and self.done:
            previous = self.done[-1]
            op.old = previous.old  # type: ignore[attr-defined]
            self.done[-1] = op
        else:
            self.done.append(op)
            if len(self.done) > self.depth:
                del self.done[0]
        self._last_key = key
        self._last_time = now

    def undo(self, project: Project) -> bool:
        """Revert the last edit through ``project`` (its listeners are told); return False
        if there was none. If the project refuses the undoing, nothing changes."""
        if not self.done:
            return False
        op = self.done[-1]
        project._commit(Inverse(op))
        self.done.pop()
        self.undone.append(op)
        self.break_merge()
        return True

    def redo(self, project: Project) -> bool:
        """Apply the last undone edit again; return False if there was none."""
        if not self.undone:
            return False
        op = self.undone[-1]
        project._commit(op)
        self.undone.pop()
        self.done.append(op)
        self.break_merge()
        return True

    def break_merge(self) -> None:
        """Make the next edit a step of its own even if it repeats the last setting."""
        self._last_key = None

    def clear(self) -> None:
        """Forget everything."""
        self.done.clear()
        self.undone.clear()
        self._last_key = None

    @property
    def descriptions(self) -> list[str]:
        """Return the done edits' descriptions, oldest first."""
        return [op.description for op in self.done]
