"""Check that other programs read a study's REFI-QDA export whole, and print the figures.

Exports a study that has been run (its store) as ``.qdpx`` and a Taguette codebook CSV, then reads
them with: our own reader, pyqdpx, QualCoder's importer (../shared/qualcoder, run headless) and
Taguette's codebook import. Prints counts only (never interview text).

Usage::

    PYTHONPATH=. python benchmarks/refi_readers.py STUDY [--out DIR] [--demo-notes N] [--offsets utf16]

``--demo-notes N`` adds, to the notes the store holds, one note on the project, a theme and a source
and N notes on coded passages (written for this check only, never stored), so the note layouts are
exercised on a study that has none yet.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import pandas as pd

from tests.exchange import readers
from toolkit import schema as s
from toolkit.exchange.refi import notes_from_export, read_qdpx, validate, write_codebook_csv, write_qdpx


def demo_notes(data, n: int) -> pd.DataFrame:
    coded = sorted(set(data.codings[s.SEGMENT_KEY]))[:: max(1, len(set(data.codings[s.SEGMENT_KEY])) // max(n, 1))][:n]
    theme = data.codebook.themes[0].id
    rows = [
        {"text": "Demo memo on the project.", "author": "check", "target": "project"},
        {"text": "Demo memo on a theme.", "author": "check", "target": "code", "theme": theme},
        {"text": "Demo memo on a source.", "author": "check", "target": "source", "path": data.sources[s.PATH].iloc[0]},
    ]
    rows += [{"text": f"Demo note {i} on a passage.", "author": "check", "target": "selection", "segment_key": key}
             for i, key in enumerate(coded)]
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("study")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--demo-notes", type=int, default=0)
    parser.add_argument("--offsets", default="codepoints", choices=("codepoints", "utf16"))
    args = parser.parse_args(argv)

    from toolkit.config import load_config
    from toolkit.export.data import load_export_data
    from toolkit.store import Store

    config = load_config(args.study)
    store = Store(config.store_url)
    data = load_export_data(config, store)
    notes = notes_from_export(
        data,
        comments=store.table(s.COMMENTS),
        summaries=store.latest(s.SUMMARIES, [s.ROW_DIMENSION, s.ROW_VALUE, s.THEME]),
        practices=store.latest(s.PRACTICES, [s.SEGMENT_KEY]),
    )
    if args.demo_notes:
        notes = pd.concat([notes, demo_notes(data, args.demo_notes)], ignore_index=True)
    out = args.out or Path(tempfile.mkdtemp(prefix="refi-readers-"))
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    qdpx = write_qdpx(data, out / "study.qdpx", notes=notes, offsets=args.offsets)
    csv = write_codebook_csv(data.codebook, out / "codebook_taguette.csv")
    figures: dict = {"write_s": round(time.perf_counter() - started, 2), "qdpx_bytes": qdpx.stat().st_size}
    xsd = REPO.parent / "shared" / "realfiles" / "xsd" / "Project-mrt2019.xsd"
    if xsd.is_file():
        figures["schema_errors"] = len(validate(qdpx, "qdpx", xsd))
    started = time.perf_counter()
    ours = read_qdpx(qdpx)
    figures["ours"] = {"read_s": round(time.perf_counter() - started, 2), "sources": len(ours.sources),
                       "codings": len(ours.codings), "notes": len(ours.notes),
                       "notes_by_target": ours.notes["target"].value_counts().to_dict(),
                       "codings_with_note": int(ours.codings["note"].notna().sum())}
    try:
        selections = readers.pyqdpx_selections(qdpx)
        figures["pyqdpx"] = {"codings": len(selections)}
    except readers.ReaderUnavailable as exc:
        figures["pyqdpx"] = f"not run: {exc}"
    try:
        report, log = readers.qualcoder_import(qdpx, out / "qualcoder")
        keys = ("sources_in_file", "sources_in_db", "sources_text_identical", "codings_in_file",
                "code_text_rows_in_db", "coding_checks", "notes_in_file", "annotations_in_db", "journals_in_db",
                "cases_in_file", "cases_in_db")
        figures["qualcoder"] = {k: report.get(k) for k in keys}
        figures["qualcoder"]["cannot_copy_errors"] = log.count("Cannot copy")
    except readers.ReaderUnavailable as exc:
        figures["qualcoder"] = f"not run: {exc}"
    try:
        figures["taguette"] = {"tags": len(readers.taguette_tags(csv))}
    except readers.ReaderUnavailable as exc:
        figures["taguette"] = f"not run: {exc}"
    print(json.dumps(figures, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
