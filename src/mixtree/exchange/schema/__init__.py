"""DAWproject 1.0's XML schemas (MIT, Bitwig; see LICENSE here) and validation against them."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent


@cache
def _schema(name: str) -> Any:
    import xmlschema

    return xmlschema.XMLSchema(HERE / name)


def validation_errors(project_xml: bytes, metadata_xml: bytes | None = None) -> list[str]:
    """Return what makes ``project_xml`` (and ``metadata_xml``) break Project.xsd
    (MetaData.xsd), one message per problem; empty when both are valid."""
    errors = [str(e.reason or e) for e in _schema("Project.xsd").iter_errors(project_xml.decode("utf-8"))]
    if metadata_xml is not None:
        errors += [str(e.reason or e) for e in _schema("MetaData.xsd").iter_errors(metadata_xml.decode("utf-8"))]
    return errors
