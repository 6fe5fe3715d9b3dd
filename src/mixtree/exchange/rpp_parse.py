"""REAPER project text (``.RPP``): a tree of ``<TAG args … >`` blocks holding lines of tokens."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from mixtree.errors import ProjectFileError

#: The largest project file read, bytes.
MAX_BYTES = 256 << 20
#: The deepest nesting of blocks accepted.
MAX_DEPTH = 64


@dataclass
class Block:
    """One ``<TAG …>`` block: its tag, arguments, lines (token lists) and child blocks, in order."""

    tag: str
    args: list[str]
    line: int
    items: list[Block | list[str]] = field(default_factory=list)

    def blocks(self, tag: str) -> Iterator[Block]:
        """Yield the child blocks named ``tag``."""
        return (b for b in self.items if isinstance(b, Block) and b.tag == tag)

    def block(self, tag: str) -> Block | None:
        """Return the first child block named ``tag``, or None."""
        return next(self.blocks(tag), None)

    def lines(self, key: str) -> Iterator[list[str]]:
        """Yield the arguments of every line starting with ``key``."""
        return (i[1:] for i in self.items if isinstance(i, list) and i and i[0] == key)

    def get(self, key: str) -> list[str] | None:
        """Return the arguments of the first line starting with ``key``, or None."""
        return next(self.lines(key), None)


def tokens(line: str) -> list[str]:
    """Split one line into REAPER's tokens: words, or text in "…", '…' or `…` quotes."""
    out: list[str] = []
    i, n = 0, len(line)
    while i < n:
        c = line[i]
        if c.isspace():
            i += 1
        elif c in "\"'`":
            j = line.find(c, i + 1)
            j = n if j < 0 else j
            out.append(line[i + 1 : j])
            i = j + 1
        else:
            j = i
            while j < n and not line[j].isspace():
                j += 1
            out.append(line[i:j])
            i = j
    return out


def parse(text: str, path: Path) -> Block:
    """Return the ``REAPER_PROJECT`` block of ``text``; malformed text raises `ProjectFileError`."""
    stack: list[Block] = []
    root: Block | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("<"):
            parts = tokens(line[1:])
            if not parts:
                raise ProjectFileError(path, f"line {number}", "a block without a name")
            block = Block(parts[0], parts[1:], number)
            if stack:
                stack[-1].items.append(block)
            elif root is None:
                root = block
            else:
                raise ProjectFileError(path, f"line {number}", "text after the project's end")
            stack.append(block)
            if len(stack) > MAX_DEPTH:
                raise ProjectFileError(path, f"line {number}", f"blocks nest deeper than {MAX_DEPTH}")
        elif line == ">":
            if not stack:
                raise ProjectFileError(path, f"line {number}", "a '>' closes no block")
            stack.pop()
        elif not stack:
            raise ProjectFileError(path, f"line {number}", "text outside the project block")
        else:
            stack[-1].items.append([line] if line.startswith("|") else tokens(line))
    if root is None or root.tag != "REAPER_PROJECT":
        raise ProjectFileError(path, "line 1", "not a REAPER project (no <REAPER_PROJECT block)")
    if stack:
        raise ProjectFileError(path, f"line {stack[-1].line}", f"<{stack[-1].tag} is never closed")
    return root


def read(path: Path) -> Block:
    """Return the project block of the file ``path``."""
    try:
        if path.stat().st_size > MAX_BYTES:
            raise ProjectFileError(path, "", f"larger than {MAX_BYTES} bytes")
        with path.open("rb") as f:
            data = f.read()  # its size was checked
    except FileNotFoundError:
        raise ProjectFileError(path, "", "no such file") from None
    except IsADirectoryError:
        raise ProjectFileError(path, "", "a folder, not a project file") from None
    except OSError as exc:
        raise ProjectFileError(path, "", exc.strerror or str(exc)) from exc
    if len(data) > MAX_BYTES:
        raise ProjectFileError(path, "", f"larger than {MAX_BYTES} bytes")
    return parse(data.decode("utf-8", errors="replace"), path)
