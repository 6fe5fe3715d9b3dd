"""Migrations: older project documents brought up to the version this mixtree writes."""

from __future__ import annotations

from typing import Any

from mixtree.model.document import FORMAT, VERSION, DocumentError


def _migrate_1(doc: dict[str, Any]) -> dict[str, Any]:
    # format 1 (the first release) had flat audio tracks and no tempo map, nesting limit,
    # sends, effects or MIDI: give it the defaults format 2 writes.
    doc.setdefault("max_nesting", 10)
    doc.setdefault("tempo", [[0.0, 120.0]])
    doc.setdefault("meters", [[0, 4, 4]])
    return doc


def _migrate_2(doc: dict[str, Any]) -> dict[str, Any]:
    # format 3 added automation lanes ("automation" on tracks, sends and effects): a
    # format-2 document has none, and reads as it is
    return doc


#: One migration per format bump: MIGRATIONS[n] turns a format-n document into n + 1.
MIGRATIONS = {1: _migrate_1, 2: _migrate_2}


def migrate(doc: Any) -> dict[str, Any]:
    """Bring a document of any older format up to `VERSION`; refuse newer ones.

    Raises `DocumentError` for something that is not a mixtree project document.
    """
    if not isinstance(doc, dict):
        raise DocumentError("", "not a mixtree project (the document is not an object)")
    if doc.get("format") != FORMAT:
        raise DocumentError("format", f"not a mixtree project (format {doc.get('format')!r})")
    version = doc.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise DocumentError("version", f"bad format version {version!r}")
    if version > VERSION:
        raise DocumentError(
            "version", f"written by a newer mixtree (format {version}; this one reads up to {VERSION}): upgrade mixtree"
        )
    while version < VERSION:
        doc = MIGRATIONS[version](doc)
        version += 1
        doc["version"] = version
    return doc
