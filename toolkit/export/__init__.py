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
    target.parent.mkdir(parents=True, exist_ok=True)
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


def import_qdpx_codings(path: str | Path, store, *, coder: str | None = None) -> str:
    """Bring a REFI-QDA project's codings into the store as human codings; returns a summary line.

    Selections are matched to the study's segments by source text and offsets. Codes that
    are ours ("<theme> - <polarity>") become theme and polarity; other codes are reported
    and not stored. Nothing is written if nothing matches.
    """
    import pandas as pd

    from toolkit import schema as s
    from toolkit.exchange.refi import codings_from_project, read_qdc, read_qdpx

    path = Path(path)
    if path.suffix.lower() == ".qdc":
        book = read_qdc(path)
        return f"{path.name}: a codebook with {len(book.codes)} codes; it holds no codings to import."
    project = read_qdpx(path)
    segments = store.segments_frame(evidence_only=True).merge(
        store.table(s.SOURCES)[[s.SOURCE_ID, s.TEXT]].rename(columns={s.TEXT: "source_text"}), on=s.SOURCE_ID
    )
    codings = codings_from_project(project, segments)
    from toolkit.exchange.refi.common import parse_code_name

    ours_codes = codings["code"].map(parse_code_name).notna()  # only our "<theme> - <polarity>" codes, as before
    ours = codings[codings[s.SEGMENT_KEY].notna() & ours_codes].copy()
    if ours.empty:
        return (
            f"{path.name}: {len(project.codings)} codings, none matched this study's segments with a "
            "codebook theme; nothing was stored."
        )
    ours[s.CODER] = coder or ours.get(s.CODER, pd.Series("qdpx", index=ours.index)).fillna("qdpx")
    ours[s.DECISION] = "add"
    texts = segments.set_index(s.SEGMENT_KEY)[s.TEXT]
    ours[s.TEXT] = ours[s.SEGMENT_KEY].map(texts)
    n = store.add_human_codings(ours)
    other = len(codings) - len(ours)
    return f"{path.name}: stored {n} codings; {other} selection(s) were not ours or matched no segment."
