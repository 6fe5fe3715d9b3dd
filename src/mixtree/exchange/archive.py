"""Exchange archives: ZIP containers read defensively, and XML parsed without entities.

A ``.dawproject`` is a ZIP a stranger may have made. Reading one checks every entry name
(no absolute paths, no ``..``), caps what each entry and the whole archive may inflate
to (a zip bomb stops at the cap, whatever the header claims) and parses XML with
DTDs and entities refused. Every refusal is a `ProjectFileError` naming the file and
the entry; nothing outside the archive is ever read.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
import zlib
from pathlib import Path
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as safe_et
from defusedxml import DefusedXmlException

from mixtree.errors import ProjectFileError

#: The most one entry may inflate to, bytes (media included).
MAX_ENTRY_BYTES = 2 << 30
#: The most all entries together may inflate to, bytes.
MAX_TOTAL_BYTES = 8 << 30
#: The most an XML document may inflate to, bytes.
MAX_XML_BYTES = 256 << 20
#: The highest compression ratio an entry may claim or show (above: a zip bomb).
MAX_RATIO = 1000
#: The most entries an archive may hold.
MAX_ENTRIES = 100_000


class Archive:
    """The entries of one ZIP, read with the checks of the module; use it as a context."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self._zip = zipfile.ZipFile(self.path)
        except FileNotFoundError:
            raise ProjectFileError(self.path, "", "no such file") from None
        except IsADirectoryError:
            raise ProjectFileError(self.path, "", "a folder, not a project file") from None
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            raise ProjectFileError(self.path, "", f"not a ZIP archive: {exc}") from exc
        except NotImplementedError as exc:  # a ZIP version or feature Python does not read
            raise ProjectFileError(self.path, "", f"a ZIP archive Python cannot read: {exc}") from exc
        self._infos: dict[str, zipfile.ZipInfo] = {}
        try:
            self._check()
        except BaseException:
            self._zip.close()
            raise

    def _check(self) -> None:
        infos = self._zip.infolist()
        if len(infos) > MAX_ENTRIES:
            raise ProjectFileError(self.path, "", f"{len(infos)} entries, more than {MAX_ENTRIES}")
        total = 0
        for info in infos:
            name = info.filename
            where = f"entry {name!r}"
            if not safe_name(name):
                raise ProjectFileError(self.path, where, "its path leaves the archive (absolute or with '..')")
            if info.file_size > MAX_ENTRY_BYTES:
                raise ProjectFileError(self.path, where, f"inflates to {info.file_size} bytes, over the limit")
            if info.compress_size and info.file_size / info.compress_size > MAX_RATIO and info.file_size > 1 << 20:
                raise ProjectFileError(self.path, where, "compressed more than a real file can be (a zip bomb?)")
            total += info.file_size
            if not info.is_dir():
                self._infos[name] = info
        if total > MAX_TOTAL_BYTES:
            raise ProjectFileError(self.path, "", f"inflates to {total} bytes, over the limit")

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the ZIP file."""
        self._zip.close()

    def names(self) -> list[str]:
        """Return the names of the archive's files (not folders)."""
        return list(self._infos)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and normal(name) in self._infos

    def read(self, name: str, limit: int = MAX_ENTRY_BYTES) -> bytes:
        """Return the bytes of entry ``name``, refusing more than its header declares or ``limit``."""
        key = normal(name)
        where = f"entry {name!r}"
        info = self._infos.get(key) if key is not None else None
        if info is None:
            raise ProjectFileError(self.path, where, "no such entry in the archive")
        cap = min(info.file_size, limit)
        if info.file_size > limit:
            raise ProjectFileError(self.path, where, f"inflates to {info.file_size} bytes, over {limit}")
        try:
            with self._zip.open(info) as f:
                chunks, size = [], 0
                while size <= cap:  # never more than one chunk past what the header declares
                    chunk = f.read(min(1 << 20, cap + 1 - size))
                    if not chunk:
                        break
                    chunks.append(chunk)
                    size += len(chunk)
                data = b"".join(chunks)
        except (
            zipfile.BadZipFile,
            OSError,
            ValueError,
            EOFError,
            NotImplementedError,
            RuntimeError,
            zlib.error,
        ) as exc:
            raise ProjectFileError(self.path, where, f"cannot be read: {exc}") from exc
        if len(data) > cap:  # the header lied about the size
            raise ProjectFileError(self.path, where, "inflates past the size its header declares")
        if info.compress_size and len(data) / info.compress_size > MAX_RATIO and len(data) > 1 << 20:
            raise ProjectFileError(self.path, where, "compressed more than a real file can be (a zip bomb?)")
        return data

    def xml(self, name: str) -> Element:
        """Return entry ``name`` parsed as XML (no DTD, no entities)."""
        return parse_xml(self.read(name, MAX_XML_BYTES), self.path, f"entry {name!r}")


def safe_name(name: str) -> bool:
    """Return True if the archive entry ``name`` stays inside the archive's folder."""
    return normal(name) is not None


def normal(name: str) -> str | None:
    """Return ``name`` as a clean relative POSIX path, or None if it escapes or is absolute."""
    if not name or "\\" in name or "\x00" in name or name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return None
    parts = name.split("/")
    if any(p == ".." for p in parts):
        return None
    clean = posixpath.normpath(name)
    return None if clean.startswith("..") or clean == "." else clean


def parse_xml(data: bytes, path: Path, where: str) -> Element:
    """Return ``data`` parsed as XML; a DTD, an entity or bad XML raises `ProjectFileError`."""
    try:
        return safe_et.parse(io.BytesIO(data), forbid_dtd=True, forbid_entities=True, forbid_external=True).getroot()
    except DefusedXmlException as exc:
        raise ProjectFileError(path, where, f"XML with a DTD or entities is refused ({exc})") from None
    except ParseError as exc:
        line, column = exc.position
        raise ProjectFileError(path, f"{where} line {line} column {column}", f"not well-formed XML: {exc}") from None
    except LookupError as exc:  # an encoding Python does not know, declared by the document
        raise ProjectFileError(path, where, f"not readable XML: {exc}") from None
