"""Check a REFI-QDA file against the standard's XML schemas (``Project-mrt2019.xsd``, ``Codebook-mrt2019.xsd``).

The schemas are not shipped with the toolkit: pass their path (www.qdasoftware.org publishes them).

Examples
--------
>>> validate("exports/study.qdpx", "qdpx", "Project-mrt2019.xsd")  # doctest: +SKIP
[]
"""

from __future__ import annotations

from pathlib import Path

from toolkit.errors import ToolkitError
from toolkit.exchange.refi.archive import DEFAULT_LIMITS, ProjectArchive, ZipLimits
from toolkit.exchange.refi.read import parse_xml

__all__ = ["validate"]


def validate(path: str | Path, kind: str, xsd: str | Path, *, limits: ZipLimits = DEFAULT_LIMITS) -> list[str]:
    """Check a ``.qdpx`` (its ``project.qde``), a ``.qde`` or a ``.qdc`` against a REFI-QDA schema.

    Parameters
    ----------
    path : the file to check.
    kind : ``"qdpx"``, ``"qde"`` or ``"qdc"``.
    xsd : the schema file (``Project-mrt2019.xsd`` for projects, ``Codebook-mrt2019.xsd`` for codebooks).
    limits : what a zip may hold before it is refused.

    Returns the schema errors, one line each (``"line 12: ..."``); empty when the file is valid.

    Examples
    --------
    >>> validate("exports/study.qdpx", "qdpx", "Project-mrt2019.xsd")  # doctest: +SKIP
    []
    """
    from lxml import etree

    if kind not in ("qdpx", "qde", "qdc"):
        raise ToolkitError(f"Unknown REFI-QDA kind '{kind}'. Choose qdpx, qde or qdc.")
    xsd = Path(xsd)
    if not xsd.is_file():
        raise ToolkitError(f"No schema at {xsd}. Pass the path of the REFI-QDA .xsd file.")
    path = Path(path)
    with ProjectArchive.open(path, limits) as archive:
        document = parse_xml(archive.project_bytes(), path)
    schema = etree.XMLSchema(etree.parse(str(xsd)))
    if schema.validate(document):
        return []
    return [f"line {e.line}: {e.message}" for e in schema.error_log]
