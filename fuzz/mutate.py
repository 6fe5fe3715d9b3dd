"""Seeded mutations of real files: byte-level, size-field aware, and structure-aware for
project documents (JSON, MessagePack), DAWproject archives and REAPER text."""

from __future__ import annotations

import copy
import io
import json
import random
import re
import zipfile
import zlib
from collections.abc import Callable
from typing import Any

import msgpack

Mutator = Callable[[bytes, random.Random, list[bytes]], bytes]

#: Values that break size and count fields: zero, one, the edges of signed and unsigned words.
INTERESTING = (0, 1, 2, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF)

#: Markers after which (or at which) formats keep a size, count or rate.
MARKERS = (b"RIFF", b"RF64", b"fmt ", b"data", b"ds64", b"fact", b"LIST", b"MThd", b"MTrk", b"OggS", b"fLaC")
MARKERS += (b"Xing", b"Info", b"LAME", b"\xff\x2f", b"\xff\x51", b"\xff\x58", b"\xff\xfb", b"FORM", b"COMM", b"SSND")

#: Values a document field should never be trusted to hold.
ODD_VALUES: tuple[Any, ...] = (
    None,
    True,
    -1,
    0,
    2**63,
    -(2**63),
    1e308,
    -1e308,
    float("nan"),
    float("inf"),
    "",
    "x" * 5000,
)
ODD_VALUES += ([], {}, [[[[[]]]]], "../../../../etc/passwd", "\x00", 0.5, -0.0, 48000, 2**31)

#: Values a text format's numbers are replaced with.
ODD_NUMBERS = ("0", "-1", "1e309", "-1e309", "nan", "inf", "99999999999999999999", "0.0000000001", "-0", "", "1e-320")


def mutate_bytes(data: bytes, rng: random.Random, seeds: list[bytes]) -> bytes:
    """Return ``data`` with one to four byte-level changes (flips, interesting words at size
    fields, insertions, deletions, duplications, truncation, a splice of another seed)."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        _MUTATIONS[rng.randrange(len(_MUTATIONS))](out, rng, seeds)
    return bytes(out)


def _flip(out: bytearray, rng: random.Random, seeds: list[bytes]) -> None:
    if out:
        out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)


def _byte(out: bytearray, rng: random.Random, seeds: list[bytes]) -> None:
    if out:
        out[rng.randrange(len(out))] = rng.choice((0, 0xFF, 0x7F, 0x80, rng.randrange(256)))


def _word_at(out: bytearray, at: int, rng: random.Random) -> None:
    size = rng.choice((2, 4, 8))
    value = rng.choice(INTERESTING) + rng.choice((0, 0, -1, 1))
    value &= (1 << (8 * size)) - 1
    word = value.to_bytes(size, rng.choice(("little", "big")))
    out[at : at + size] = word[: max(0, len(out) - at)]


def _word(out: bytearray, rng: random.Random, seeds: list[bytes]) -> None:
    if out:
        _word_at(out, rng.randrange(len(out)), rng)


def _field(out: bytearray, rng: random.Random, seeds: list[bytes]) -> None:
    """Overwrite a word just after (or a few bytes into) a known chunk marker."""
    hits = [m.start() for marker in MARKERS for m in re.finditer(re.escape(marker), out)]
    if not hits:
        _word(out, rng, seeds)
        return
    at = rng.choice(hits) + rng.choice((4, 4, 6, 8, 10, 12, 14, 16, 20, 24, 28))
    if at < len(out):
        _word_at(out, at, rng)


def _insert(out: bytearray, rng: random.Random, seeds: list[bytes]) -> None:
    at = rng.randrange(len(out) + 1)
    out[at:at] = bytes(rng.randrange(256) for _ in range(rng.choice((1, 2, 4, 16, 64))))


def _delete(out: bytearray, rng: random.Random, seeds: list[bytes]) -> None:
    if out:
        at = rng.randrange(len(out))
        del out[at : at + rng.choice((1, 2, 4, 16, 256))]


def _duplicate(out: bytearray, rng: random.Random, seeds: list[bytes]) -> None:
    if out:
        at = rng.randrange(len(out))
        piece = out[at : at + rng.choice((4, 8, 26, 64, 512))]
        where = rng.randrange(len(out) + 1)
        out[where:where] = piece


def _truncate(out: bytearray, rng: random.Random, seeds: list[bytes]) -> None:
    if out:
        del out[rng.randrange(len(out)) :]


def _splice(out: bytearray, rng: random.Random, seeds: list[bytes]) -> None:
    other = rng.choice(seeds) if seeds else b""
    if other and out:
        a, b = rng.randrange(len(out)), rng.randrange(len(other))
        out[a:] = other[b : b + rng.randrange(1, len(other) - b + 1)]


_MUTATIONS = (_flip, _byte, _word, _field, _field, _field, _insert, _delete, _duplicate, _truncate, _splice)


# -- project documents -----------------------------------------------------------------------
def _nodes(doc: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(doc, dict):
        for key, value in doc.items():
            found += _nodes(value, (*path, key))
    elif isinstance(doc, list):
        for k, value in enumerate(doc):
            found += _nodes(value, (*path, k))
    return found


def _odd(rng: random.Random) -> Any:
    return copy.deepcopy(rng.choice(ODD_VALUES))  # never one list in two places


def mutate_document(doc: Any, rng: random.Random) -> Any:
    """Return a copy of the decoded document ``doc`` with one to three fields replaced by odd
    values, deleted or duplicated."""
    doc = copy.deepcopy(doc)
    for _ in range(rng.randint(1, 3)):
        nodes = [p for p in _nodes(doc) if p]
        if not nodes:
            return _odd(rng)
        path = rng.choice(nodes)
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        key = path[-1]
        action = rng.random()
        if action < 0.6:
            parent[key] = _odd(rng)
        elif action < 0.8:
            del parent[key]
        elif isinstance(parent, list):
            parent.insert(key, copy.deepcopy(parent[key]))
        else:
            parent[key] = _odd(rng) if rng.random() < 0.5 else [parent[key]]
    return doc


def json_mutator(data: bytes, rng: random.Random, seeds: list[bytes]) -> bytes:
    """Mutate a JSON project file: its fields (mostly) or its bytes."""
    if rng.random() < 0.25:
        return mutate_bytes(data, rng, seeds)
    try:
        doc = json.loads(data)
    except ValueError:
        return mutate_bytes(data, rng, seeds)
    return json.dumps(mutate_document(doc, rng)).encode()


def msgpack_mutator(data: bytes, rng: random.Random, seeds: list[bytes]) -> bytes:
    """Mutate a MessagePack project file: its fields (mostly) or its bytes."""
    if rng.random() < 0.25:
        return mutate_bytes(data, rng, seeds)
    try:
        doc = msgpack.unpackb(data, raw=False, strict_map_key=False)
        return msgpack.packb(mutate_document(doc, rng), use_bin_type=True)
    except (ValueError, TypeError, msgpack.UnpackException):
        return mutate_bytes(data, rng, seeds)


# -- text formats ----------------------------------------------------------------------------
_NUMBER = re.compile(rb"-?\d+(?:\.\d+)?(?:e-?\d+)?")
_ATTRIBUTE = re.compile(rb'="[^"]*"')


def text_mutator(data: bytes, rng: random.Random, seeds: list[bytes]) -> bytes:
    """Mutate text (REAPER's RPP, XML): numbers and attribute values to odd ones, lines
    deleted or repeated, or the bytes."""
    choice = rng.random()
    if choice < 0.2:
        return mutate_bytes(data, rng, seeds)
    if choice < 0.4:
        lines = data.split(b"\n")
        at = rng.randrange(len(lines))
        if rng.random() < 0.5:
            del lines[at]
        else:
            lines.insert(at, lines[rng.randrange(len(lines))])
        return b"\n".join(lines)
    pattern = _NUMBER if choice < 0.75 else _ATTRIBUTE
    hits = list(pattern.finditer(data))
    if not hits:
        return mutate_bytes(data, rng, seeds)
    out = data
    for hit in sorted(rng.sample(hits, min(len(hits), rng.randint(1, 3))), key=lambda m: -m.start()):
        odd = rng.choice(ODD_NUMBERS).encode()
        new = odd if pattern is _NUMBER else b'="' + odd + b'"'
        out = out[: hit.start()] + new + out[hit.end() :]
    return out


def zip_mutator(member: str) -> Mutator:
    """Return a mutator of a ZIP archive that mutates its entry ``member`` as text (so the
    archive stays valid and the parser behind it is reached) or, now and then, the archive."""

    def mutate(data: bytes, rng: random.Random, seeds: list[bytes]) -> bytes:
        if rng.random() < 0.15:
            return mutate_bytes(data, rng, seeds)
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                entries = [(info, z.read(info)) for info in z.infolist()]
        except (zipfile.BadZipFile, ValueError, EOFError, OSError, NotImplementedError, zlib.error):
            return mutate_bytes(data, rng, seeds)
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
            for info, body in entries:
                if info.filename == member:
                    body = text_mutator(body, rng, [])
                z.writestr(info.filename, body)
        return out.getvalue()

    return mutate


def mutate_safely(mutator: Mutator, data: bytes, rng: random.Random, seeds: list[bytes]) -> bytes:
    """Return ``mutator``'s mutation of ``data``, or a byte-level one if it failed on this input."""
    try:
        return mutator(data, rng, seeds)
    except Exception:  # noqa: BLE001 - a mutator's own failure must not stop the run
        return mutate_bytes(data, rng, seeds)
