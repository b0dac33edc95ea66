"""Exports researchers hand on: spreadsheets, REFI-QDA projects, the findings report.

Every exporter reads an :class:`~toolkit.export.data.ExportData` snapshot of the
store (pseudonymised data only) and writes one file.
"""

from __future__ import annotations

from pathlib import Path

from toolkit.errors import ConfigError

FORMATS = ("xlsx", "csv", "parquet", "qdpx", "qdc", "report")
EXPORT_DIR = "exports"


def export_study(config, store, fmt: str, out: str | Path | None = None) -> list[Path]:
    """Write one export of a study; returns the files written.

    ``out`` is a file (or, for csv/parquet, a file name stem) and defaults to
    ``<study>/exports/<study-folder>.<ext>``. ``report`` writes ``.docx`` unless ``out`` ends in ``.html``.

    Examples
    --------
    >>> export_study(config, store, "xlsx")  # doctest: +SKIP
    [PosixPath('interviews/exports/interviews.xlsx')]
    """
    from toolkit.export.data import load_export_data

    if fmt not in FORMATS:
        raise ConfigError(f"Unknown export format '{fmt}'. Choose one of: {', '.join(FORMATS)}.")
    data = load_export_data(config, store)
    stem = config.root.name
    default_dir = config.root / EXPORT_DIR
    suffix = {"xlsx": ".xlsx", "csv": ".csv", "parquet": ".parquet", "qdpx": ".qdpx", "qdc": ".qdc", "report": ".docx"}[fmt]
    target = Path(out) if out else default_dir / f"{stem}{suffix}"
    if not target.parent.exists():  # a new exports folder is private to the user, like the files in it
        from toolkit.io import ensure_folder

        ensure_folder(target.parent, private=True)
    if fmt == "xlsx":
        from toolkit.export.tables import write_workbook

        return [write_workbook(data, target)]
    if fmt in ("csv", "parquet"):
        from toolkit.export.tables import write_long, write_matrix

        base = target.with_suffix("")
        return [
            write_long(data, base.with_name(base.name + "_codings").with_suffix(suffix), fmt=fmt),
            write_matrix(data, base.with_name(base.name + "_matrix").with_suffix(suffix), fmt=fmt),
        ]
    if fmt == "qdpx":
        from toolkit.exchange.refi import write_qdpx

        return [write_qdpx(data, target)]
    if fmt == "qdc":  # the REFI-QDA codebook, and the same codebook as a CSV for Taguette beside it
        from toolkit.exchange.refi import write_codebook_csv, write_qdc

        taguette = target.with_name(target.stem + "_taguette.csv")
        return [write_qdc(data.codebook, target), write_codebook_csv(data.codebook, taguette)]
    from toolkit.export.report import write_report

    return [write_report(data, target)]
