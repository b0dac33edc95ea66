"""The optional ``manifest.csv``: who and where each raw file comes from.

Columns (only ``file`` is required; names are matched case-insensitively):
``file`` (path relative to the study folder, or a bare file name), ``participant_id``,
``place``, ``organisation_type``, ``sector``, ``role``, ``interview_date``,
``interviewer`` (names of interviewers as they appear as speakers; ``;`` between several).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from toolkit.errors import InputDataError
from toolkit.ingest.encoding import read_text_file
from toolkit.schema import SourceMeta

MANIFEST_COLUMNS = (
    "file",
    "participant_id",
    "place",
    "organisation_type",
    "sector",
    "role",
    "interview_date",
    "interviewer",
)


def read_manifest(path: str | Path) -> dict[str, SourceMeta]:
    """Read a manifest into ``{file key: SourceMeta}``.

    The key is the ``file`` cell with forward slashes; :func:`lookup` matches it
    against a file's path relative to the study, or its bare name.

    Examples
    --------
    >>> meta = read_manifest("interviews/manifest.csv")  # doctest: +SKIP
    >>> meta["Brackenford/BK03_data_analyst.txt"].participant_id  # doctest: +SKIP
    'BK03'
    """
    path = Path(path)
    text, _ = read_text_file(path)
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames:
        raise InputDataError(path, "has no header row.", f"The first row must name the columns: {', '.join(MANIFEST_COLUMNS)}.")
    columns = {name.strip().casefold(): name for name in reader.fieldnames if name}
    if "file" not in columns:
        raise InputDataError(
            path,
            f"has no 'file' column. Found: {', '.join(reader.fieldnames)}.",
            "Add a 'file' column with each file's path relative to the study folder.",
        )
    unknown = [name for key, name in columns.items() if key not in MANIFEST_COLUMNS]
    if unknown:
        raise InputDataError(
            path,
            f"has unknown column(s) {', '.join(unknown)}.",
            f"Use only: {', '.join(MANIFEST_COLUMNS)}.",
        )
    out: dict[str, SourceMeta] = {}
    for line, row in enumerate(reader, start=2):
        get = lambda key: (row.get(columns.get(key, ""), "") or "").strip() or None  # noqa: E731
        key = get("file")
        if not key:
            if any((v or "").strip() for v in row.values()):
                raise InputDataError(path, "has a row without a file name.", "Fill in the 'file' cell.", f"line {line}")
            continue
        key = key.replace("\\", "/").lstrip("./")
        if key in out:
            raise InputDataError(path, f"lists '{key}' twice.", "Keep one row per file.", f"line {line}")
        interviewers = tuple(n.strip() for n in (get("interviewer") or "").split(";") if n.strip())
        out[key] = SourceMeta(
            place=get("place"),
            participant_id=get("participant_id"),
            organisation_type=get("organisation_type"),
            sector=get("sector"),
            role=get("role"),
            interview_date=get("interview_date"),
            interviewers=interviewers,
        )
    return out


def lookup(manifest: dict[str, SourceMeta], relative: str) -> SourceMeta | None:
    """The manifest entry for a file, by relative path first, then by bare name."""
    if relative in manifest:
        return manifest[relative]
    name = relative.rsplit("/", 1)[-1]
    matches = [meta for key, meta in manifest.items() if key.rsplit("/", 1)[-1] == name]
    return matches[0] if len(matches) == 1 else None
