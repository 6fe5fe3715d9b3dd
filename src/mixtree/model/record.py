"""Model records whose every attribute assignment is an operation."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mixtree.model.operations import SetAttribute

if TYPE_CHECKING:
    from mixtree.model.project import Project


class Edited:
    """An attribute of a `Record`: assigning it applies a `SetAttribute` operation.

    ``check`` validates and normalises the value (raising ``ValueError`` naming the valid
    range); the value lives in the slot ``_<name>``.
    """

    def __init__(self, check: Callable[[Any], Any], doc: str = "") -> None:
        self.check = check
        self.__doc__ = doc

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name
        self.slot = "_" + name

    def __get__(self, obj: Record | None, owner: type) -> Any:
        if obj is None:
            return self
        return getattr(obj, self.slot)

    def __set__(self, obj: Record, value: Any) -> None:
        value = self.check(value)
        if obj.project is None:
            setattr(obj, self.slot, value)
            obj.validate()
            return
        obj.project.apply(SetAttribute(obj.id, self.name, value))


class Record:
    """Something the project owns under a stable id: a track, a clip, a source."""

    __slots__ = ("id", "project")

    def __init__(self, ident: int, project: Project | None) -> None:
        self.id = ident
        self.project = project

    def validate(self) -> None:
        """Raise ``ValueError`` if attributes contradict each other (single ones are checked on set)."""

    def edited_fields(self) -> dict[str, Any]:
        """Return every `Edited` attribute's current value, by name."""
        return {name: getattr(self, "_" + name) for name in self.edited_names()}

    @classmethod
    def edited_names(cls) -> list[str]:
        """Return the names of the class's `Edited` attributes, base classes' first."""
        return [
            name for klass in reversed(cls.__mro__) for name, attr in vars(klass).items() if isinstance(attr, Edited)
        ]
