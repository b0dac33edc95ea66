"""Spreadsheets and analysis tables: a formatted Excel workbook, and long or matrix CSV/Parquet.

Every function reads one :class:`~toolkit.export.data.ExportData` snapshot (pseudonymised
data only) and writes one file, whole or not at all (a temporary file beside the target is
renamed into place). Nothing here reads raw files or logs interview text.

- :func:`write_workbook`: one Excel workbook for reading and sharing, one sheet per purpose
  (read me, framework matrix as NVivo lays it out, theme counts, barrier to remedy, practices, memos,
  cases, coded segments, quotes by theme, survey summary, good practice, codebook; the framework
  sheets are built in :mod:`toolkit.export.framework_sheets`).
- :func:`write_long`: one row per (segment, theme) coding with its metadata, for R or Python.
- :func:`write_matrix`: a 0/1 segment-by-theme matrix (plus barrier/enabler/neutral columns).

Examples
--------
>>> from toolkit.export.tables import write_workbook, write_long, write_matrix
>>> write_workbook(data, "exports/study.xlsx")  # doctest: +SKIP
PosixPath('exports/study.xlsx')
>>> write_matrix(data, "exports/study_matrix.parquet", fmt="parquet")  # doctest: +SKIP
PosixPath('exports/study_matrix.parquet')
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from toolkit import schema as s
from toolkit.analysis.columns import (
    AGREE,
    DISAGREE,
    MEAN,
    N_ANSWERS,
    NEUTRAL_ANSWER,
    NO_VALUE,
    OFF_SCALE,
    PARTICIPANT,
    REFERENCE,
    SCALE_POINTS,
)
from toolkit.analysis.matrix import framework_matrix, matrix_cells
from toolkit.analysis.overview import corpus_counts
from toolkit.analysis.quotes import select_quotes
from toolkit.analysis.surveys import likert_percentages
from toolkit.errors import ExportPathError, ToolkitError
from toolkit.export.excel import _missing, fill_sheet
from toolkit.export.framework_sheets import (
    cases_sheet,
    framework_sheet,
    memos_sheet,
    practice_passages_sheet,
    practices_sheet,
    remedies_sheet,
    theme_headers,
)

if TYPE_CHECKING:  # only for type hints
    from toolkit.export.data import ExportData

__all__ = [
    "SHEETS",
    "TABLE_FORMATS",
    "ExportPathError",
    "long_frame",
    "matrix_frame",
    "write_long",
    "write_matrix",
    "write_workbook",
]

log = logging.getLogger(__name__)

TABLE_FORMATS = ("csv", "parquet")
"""Formats of :func:`write_long` and :func:`write_matrix`."""

CSV_ENCODING = "utf-8-sig"
"""UTF-8 with a byte-order mark, so that Excel shows accents and symbols right."""

# Columns these exports add to the snapshot's (the snapshot's own names come from schema).
PARTICIPANT_COL = PARTICIPANT
"""Who said it: the interview's participant id, else the survey respondent's key, else the interview's file."""
THEME_NAME = "theme_name"
REVIEWED_BY = "reviewed_by"  # a column of ExportData.codings (see toolkit.coding.resolve_codings)

README = "Read me"
FRAMEWORK = "Framework matrix"
COUNTS = "Theme counts"
REMEDIES = "Barrier to remedy"
PRACTICES = "Practices"
PRACTICE_PASSAGES = "Practice passages"
MEMOS = "Memos"
CASES = "Cases"
CODED = "Coded segments"
QUOTES = "Quotes by theme"
SURVEY = "Survey summary"
GOOD_PRACTICE = "Good practice"
CODEBOOK = "Codebook"
SHEETS = (README, FRAMEWORK, COUNTS, REMEDIES, PRACTICES, PRACTICE_PASSAGES, MEMOS, CASES, CODED, QUOTES, SURVEY,
          GOOD_PRACTICE, CODEBOOK)
"""The workbook's sheets, in order."""

QUOTES_PER_PLACE = 3
"""Most quotes per place, per theme and polarity, on the "Quotes by theme" sheet."""

SHEET_PURPOSES = {
    FRAMEWORK: "The framework matrix as NVivo lays it out: one row per case (interviewee), grouped by place, with "
    "the case's attributes; one column per theme (a sub-theme as 'Theme › Sub-theme'). Each cell: the "
    "researcher's summary of what that person said on the theme (with who wrote it and when), then the "
    "references behind it (where in the interview; B barrier, E enabler, N neutral). After each place's cases, "
    "'All of <place>' holds the place's summary and everyone behind it, survey respondents included.",
    COUNTS: "Rows are places (then organisation types), columns are themes. Each cell: the distinct people with "
    "a coding of that theme, interviewees and survey respondents counted apart, then the number of barrier and "
    "enabler segments. Neutral codings count towards people only. The same numbers as the dashboard's matrix.",
    REMEDIES: "For each barrier one place reports on a theme, what each other place reports on the same theme: "
    "how many people report enablers there, the strongest enabler quote and that place's practices (curated by "
    "a researcher; the machine's proposals in a column of their own). A barrier no other place reports a "
    "remedy for says so.",
    PRACTICES: "Curated practices (title, status, place, theme, what it is, who runs it, the evidence that it "
    "helped, transferability) with the passages linked to them; then the practices the machine proposes from "
    "good-practice passages nobody has curated yet (grouped by meaning; hypotheticals, barriers and asides set "
    "aside), for a researcher to review.",
    PRACTICE_PASSAGES: "The passages linked to each practice (the evidence behind it), with their references.",
    MEMOS: "Every memo researchers wrote (on the project, a case, a theme, a matrix cell, a source or a passage), "
    "with its author and time.",
    CASES: "Every case (interviewee or survey respondent) with its attributes: place, organisation type, role, "
    "sector, and the study's own manifest columns with their type (text, number or date).",
    CODED: "Every coding (one row per segment and theme) with place, organisation type, role, participant, "
    "source file, character offsets, theme, polarity, confidence, review status, good practice, the reference "
    "(cited as in the dashboard and the report) and the quote.",
    QUOTES: f"Per theme and polarity, the strongest quotes, reviewed ones first, then by confidence, balanced "
    f"across places: at most {QUOTES_PER_PLACE} per place, taken in turn from each place.",
    SURVEY: "Per Likert question and place: the points of the question's scale, answers on the scale (n), "
    "% disagree (points below the scale's middle), % neutral (its middle point), % agree (points above it) and "
    "the mean position (1 = the scale's first point). Answers off the scale (e.g. 'Don't know') are counted "
    "separately.",
    GOOD_PRACTICE: "The good-practice library: enabler passages flagged as good practice, with researchers' "
    "curation (titles, notes, passages added or taken out), by theme and place.",
    CODEBOOK: "The codebook the codings use: id, name, definition, when to include and when to exclude.",
}


PSEUDONYMISED_NOTE = (
    "All text in this workbook is pseudonymised: names and other identifiers were replaced by placeholders "
    "such as [PERSON_03] before anything was stored. Pseudonymisation can miss an identifier: read a quote "
    "before you publish it."
)

NO_PLACE = NOT_RECORDED = NO_VALUE
ALL_PLACES = "All places"
ALL_ORGANISATION_TYPES = "All organisation types"



# --------------------------------------------------------------------------- public API
def write_workbook(data: ExportData, path: str | Path, *, exported_at: datetime | None = None) -> Path:
    """Write the study as a formatted Excel workbook; returns the path written.

    Sheets, in order: see :data:`SHEETS`. Every sheet has a bold, frozen header row with an
    auto-filter; quote and definition columns wrap; no cell holds a formula (text starting
    with ``=`` is written as text). A sheet with nothing to show holds a one-line explanation.

    Parameters
    ----------
    data : the snapshot to export.
    path : the ``.xlsx`` file to write; its folder must exist. An existing file is replaced.
    exported_at : the export time shown on the "Read me" sheet (default: now, UTC).

    Raises
    ------
    ExportPathError
        The folder does not exist, the path is a folder or does not end in ``.xlsx``, or the
        file cannot be written (e.g. it is open in Excel).

    Examples
    --------
    >>> write_workbook(data, "exports/study.xlsx")  # doctest: +SKIP
    PosixPath('exports/study.xlsx')
    """
    from openpyxl import Workbook

    target = _target(path, suffixes=(".xlsx",), what="Excel workbook")
    when = (exported_at or datetime.now(UTC)).replace(microsecond=0)
    coded = _coded(data)
    sheets = {
        README: [_readme(data, coded, when)],
        FRAMEWORK: framework_sheet(data),
        COUNTS: _framework(data, coded),
        REMEDIES: remedies_sheet(data),
        PRACTICES: practices_sheet(data),
        PRACTICE_PASSAGES: practice_passages_sheet(data),
        MEMOS: memos_sheet(data),
        CASES: cases_sheet(data),
        CODED: [_coded_sheet(coded)],
        QUOTES: [_quotes(data, coded)],
        SURVEY: [_survey(data)],
        GOOD_PRACTICE: [_good_practice(data, coded)],
        CODEBOOK: [_codebook(data)],
    }
    wrapped = {"Quote", "Definition", "Include", "Exclude", "Value", "Question", "Note"}
    wrapped |= set(_theme_names(data).values()) | set(theme_headers(data).values()) | FRAMEWORK_WRAPPED
    book = Workbook()
    book.remove(book.active)
    for title in SHEETS:
        fill_sheet(book.create_sheet(title), sheets[title], wrapped, **SHEET_LAYOUT.get(title, {}))
    book.properties.creator = "toolkit"
    book.properties.title = f"{data.study_name}: coded segments"
    book.properties.created = book.properties.modified = when.astimezone(UTC).replace(tzinfo=None)

    _write_atomically(target, book.save)
    log.info("wrote workbook %s: %d codings, %d sheets", target, len(coded), len(SHEETS))
    return target


def long_frame(data: ExportData) -> pd.DataFrame:
    """One row per (segment, theme) coding with its segment's metadata and text.

    Examples
    --------
    >>> long_frame(data).columns[:3].tolist()  # doctest: +SKIP
    ['segment_key', 'source_id', 'path']
    """
    coded = _coded(data)
    first = [
        s.SEGMENT_KEY, s.SOURCE_ID, s.PATH, s.PLACE, s.ORGANISATION_TYPE, s.ROLE, PARTICIPANT_COL, s.PARTICIPANT_ID,
        s.RESPONDENT_KEY, s.SPEAKER, s.QUESTION_TEXT, s.TEXT_ANSWER_ID, s.START_CHAR, s.END_CHAR,
        s.THEME, THEME_NAME, s.POLARITY, s.CONFIDENCE, s.RANK, s.GOOD_PRACTICE, s.STATUS, s.CODER, REVIEWED_BY,
        s.CODEBOOK_VERSION, s.EVIDENCE, REFERENCE, s.TEXT,
    ]
    frame = coded[[c for c in first if c in coded.columns]].copy()
    if s.EVIDENCE in frame.columns:
        frame[s.EVIDENCE] = frame[s.EVIDENCE].map(_json)
    return _tidy(frame).reset_index(drop=True)


def matrix_frame(data: ExportData) -> pd.DataFrame:
    """A 0/1 segment-by-theme matrix: one row per evidence segment, uncoded ones included.

    Metadata columns come first, then one column per codebook theme id (in codebook order;
    themes coded but missing from the codebook follow, with a warning), then ``barrier``,
    ``enabler`` and ``neutral`` (1 when any of the segment's codings has that polarity).

    Examples
    --------
    >>> matrix_frame(data)["trust_relationships"].isin([0, 1]).all()  # doctest: +SKIP
    True
    """
    segments = data.segments
    meta = [
        s.SEGMENT_KEY, s.SOURCE_ID, s.PATH, s.PLACE, s.ORGANISATION_TYPE, s.ROLE, PARTICIPANT_COL, s.PARTICIPANT_ID,
        s.RESPONDENT_KEY, s.SPEAKER, s.QUESTION_TEXT, s.TEXT_ANSWER_ID, s.START_CHAR, s.END_CHAR, s.TEXT,
    ]
    meta = [c for c in meta if c in segments.columns]
    frame = segments[meta]
    if not frame.empty:
        frame = frame.sort_values([s.PATH, s.START_CHAR, s.SEGMENT_KEY], kind="stable")
    frame = _tidy(frame.reset_index(drop=True))
    codings = data.codings
    themes = list(data.codebook.ids)
    extra = sorted(set(codings[s.THEME].dropna()) - set(themes)) if not codings.empty else []
    if extra:
        log.warning("%d coded theme(s) are not in the codebook; matrix columns added: %s", len(extra), extra)
    columns = themes + extra + list(s.POLARITIES)
    clash = sorted(set(columns) & set(meta)) or sorted({c for c in columns if columns.count(c) > 1})
    if clash:
        raise ToolkitError(
            f"Theme id(s) {', '.join(clash)} clash with the matrix's other column names "
            f"({', '.join(meta + list(s.POLARITIES))}). Rename the theme id(s) in the codebook."
        )
    keys = frame[s.SEGMENT_KEY] if not frame.empty else pd.Series([], dtype=object)
    for column, field in [(t, s.THEME) for t in themes + extra] + [(p, s.POLARITY) for p in s.POLARITIES]:
        hits = set(codings.loc[codings[field] == column, s.SEGMENT_KEY]) if not codings.empty else set()
        frame[column] = keys.isin(hits).astype("int8").to_numpy()
    return frame


def write_long(data: ExportData, path: str | Path, fmt: str = "csv") -> Path:
    """Write :func:`long_frame` as CSV (UTF-8 with BOM) or Parquet; returns the path written.

    Raises
    ------
    ExportPathError
        The folder does not exist, the path is a folder, or the file cannot be written.

    Examples
    --------
    >>> write_long(data, "exports/study_codings.csv")  # doctest: +SKIP
    PosixPath('exports/study_codings.csv')
    """
    frame = long_frame(data)
    target = _write_table(frame, path, fmt)
    log.info("wrote %s: %d codings", target, len(frame))
    return target


def write_matrix(data: ExportData, path: str | Path, fmt: str = "csv") -> Path:
    """Write :func:`matrix_frame` as CSV (UTF-8 with BOM) or Parquet; returns the path written.

    Raises
    ------
    ExportPathError
        The folder does not exist, the path is a folder, or the file cannot be written.

    Examples
    --------
    >>> write_matrix(data, "exports/study_matrix.parquet", fmt="parquet")  # doctest: +SKIP
    PosixPath('exports/study_matrix.parquet')
    """
    frame = matrix_frame(data)
    target = _write_table(frame, path, fmt)
    log.info("wrote %s: %d segments x %d columns", target, *frame.shape)
    return target


# --------------------------------------------------------------------------- files
def _target(path: str | Path, *, suffixes: tuple[str, ...], what: str, strict: bool = True) -> Path:
    """Check where an export goes before any work is done."""
    target = Path(path).expanduser()
    if target.is_dir():
        example = target / f"export{suffixes[0]}"
        raise ExportPathError(f"{target} is a folder. Give a file name for the {what}, e.g. {example}.")
    folder = target.parent
    if not folder.exists():
        raise ExportPathError(
            f"Cannot write {target}: the folder {folder} does not exist. Create it first, or choose another path."
        )
    if not folder.is_dir():
        raise ExportPathError(f"Cannot write {target}: {folder} is a file, not a folder. Choose another path.")
    if target.suffix.lower() not in suffixes:
        if strict:
            raise ExportPathError(
                f"{target.name}: an {what} must end in {' or '.join(suffixes)}, found "
                f"'{target.suffix or 'no extension'}'. Rename it, e.g. {target.with_suffix(suffixes[0]).name}."
            )
        log.warning("%s does not end in %s; writing it anyway", target.name, " or ".join(suffixes))
    return target


def _write_atomically(target: Path, write: Callable[[Path], object]) -> None:
    """Write an export through :func:`toolkit.io.atomic_write`, private to the user; say what to fix on failure."""
    from toolkit.io import atomic_write

    try:
        atomic_write(target, write, private=True)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ExportPathError(
            f"Cannot write {target}: {reason}. Check that the folder is writable and that the file is not open "
            "in another program (Excel locks the files it has open)."
        ) from exc


def _write_table(frame: pd.DataFrame, path: str | Path, fmt: str) -> Path:
    if fmt not in TABLE_FORMATS:
        raise ExportPathError(f"Unknown table format '{fmt}'. Choose one of: {', '.join(TABLE_FORMATS)}.")
    target = _target(path, suffixes=(f".{fmt}",), what=f"{fmt} file", strict=False)
    if fmt == "csv":
        safe = csv_safe(frame)
        _write_atomically(target, lambda p: safe.to_csv(p, index=False, encoding=CSV_ENCODING))
    else:
        _write_atomically(target, lambda p: frame.to_parquet(p, index=False, engine="pyarrow"))
    return target


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""Text starting with these is run as a formula when a CSV is opened in Excel or LibreOffice."""


def csv_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells that a spreadsheet would run as a formula get a leading apostrophe (CSV injection).

    A participant's "- the charter helped" or a crafted "=HYPERLINK(...)" in a survey answer
    then shows as text. Parquet and the xlsx workbook keep the text exactly (they store types).

    Examples
    --------
    >>> csv_safe(pd.DataFrame({"text": ["=1+1", "fine", "-maybe"]}))["text"].tolist()
    ["'=1+1", 'fine', "'-maybe"]
    """
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column].dtype):
            out[column] = out[column].map(
                lambda v: "'" + v if isinstance(v, str) and v.startswith(FORMULA_STARTS) else v
            )
    return out


# --------------------------------------------------------------------------- frames
def _coded(data: ExportData) -> pd.DataFrame:
    """Codings joined with their segments (who said them, their reference), plus the theme name."""
    coded = data.coded_segments()
    lost = len(data.codings) - len(coded)
    if lost:
        log.warning("%d coding(s) refer to segments missing from the snapshot and are left out", lost)
    names = _theme_names(data)
    coded[THEME_NAME] = coded[s.THEME].map(lambda t: names.get(t, t))
    return coded


def _tidy(frame: pd.DataFrame) -> pd.DataFrame:
    """Types that CSV and Parquet keep: whole-number ids as nullable integers, mixed objects as text."""
    frame = frame.copy()
    for column in (s.TEXT_ANSWER_ID, s.SOURCE_ID, s.START_CHAR, s.END_CHAR, s.RANK):
        if column in frame.columns:
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("Int64")
    if s.GOOD_PRACTICE in frame.columns:
        frame[s.GOOD_PRACTICE] = frame[s.GOOD_PRACTICE].astype("boolean")
    for column in frame.columns:
        if frame[column].dtype == object:
            frame[column] = frame[column].map(lambda v: None if _missing(v) else str(v)).astype("string")
    return frame


def _json(value) -> str | None:
    if _missing(value):
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def _theme_names(data: ExportData) -> dict[str, str]:
    return {t.id: t.name for t in data.codebook.themes}


def _theme_order(data: ExportData, coded: pd.DataFrame) -> list[str]:
    ids = list(data.codebook.ids)
    return ids + sorted(set(coded[s.THEME].dropna()) - set(ids)) if not coded.empty else ids


def _label(series: pd.Series, missing: str) -> pd.Series:
    return series.astype(object).where(series.notna(), missing)


def _note(text: str) -> pd.DataFrame:
    return pd.DataFrame({"Note": [text]})


NO_CODINGS = "No codings in this snapshot yet: run the coding stage (toolkit code <study>), then export again."


# --------------------------------------------------------------------------- sheets
def _readme(data: ExportData, coded: pd.DataFrame, when: datetime) -> pd.DataFrame:
    book = data.codebook
    corpus = corpus_counts(sources=data.sources, segments=data.segments, codings=data.codings,
                           respondents=data.respondents, likert=data.likert, text_answers=data.text_answers,
                           places=data.places)
    status_text = ", ".join(f"{n} {k}" for k, n in corpus.codings_by_status.items())
    rows = [
        ("Study", data.study_name),
        ("Exported at", when.isoformat()),
        ("Codebook", (f"{book.name}, version {book.version} (fingerprint {book.fingerprint()}), "
                     f"{len(book.themes)} themes")),
        ("Places", ", ".join(corpus.places) or "none"),
        ("Sources", f"{_count(corpus.interviews, 'transcript')}, {_count(corpus.surveys, 'survey')}"),
        ("Participants", (f"{_count(corpus.interviewees, 'interviewee')}, "
                         f"{_count(corpus.survey_respondents, 'survey respondent')}")),
        ("Evidence segments", (f"{corpus.evidence_segments} ({corpus.coded_segments} coded, "
                              f"{corpus.reviewed_coded} of them reviewed by a person)")),
        ("Codings", f"{corpus.codings}" + (f" ({status_text})" if status_text else "")),
        ("Likert answers", f"{corpus.likert_answers}"),
        ("Pseudonymised", PSEUDONYMISED_NOTE),
    ]
    rows += _validation_rows(data)
    rows += [(f"Sheet: {name}", purpose) for name, purpose in SHEET_PURPOSES.items()]
    return pd.DataFrame(rows, columns=["Item", "Value"])


def _validation_rows(data: ExportData) -> list[tuple[str, str]]:
    """Read-me rows on review and validation (issue 14): who reviewed, QA accuracy with intervals, agreement, limits."""
    from toolkit.export.validation import readme_rows

    return readme_rows(data.validation(), data.theme_names())


def _count(n, noun: str) -> str:
    return f"{int(n)} {noun}{'' if int(n) == 1 else 's'}"


def _framework(data: ExportData, coded: pd.DataFrame) -> list[pd.DataFrame]:
    """The dashboard's framework matrix (:func:`toolkit.analysis.matrix.framework_matrix`), by place then by
    organisation type, each with a total row; cells as :func:`toolkit.analysis.matrix.cell_text`."""
    if coded.empty:
        return [_note(NO_CODINGS)]
    themes = list(data.codebook.ids)
    names = _theme_names(data)
    blocks = []
    for rows, title, total in ((s.PLACE, "Place", ALL_PLACES), (s.ORGANISATION_TYPE, "Organisation type",
                                                                ALL_ORGANISATION_TYPES)):
        values = list(data.places) if rows == s.PLACE else []
        if rows == s.PLACE and not data.segments.empty:
            values += sorted(set(_label(data.segments[s.PLACE], NO_VALUE)) - set(values))
        matrix = framework_matrix(coded, rows=rows, values=values, themes=themes, theme_names=names, total=total)
        wide = matrix_cells(matrix)
        wide.index.name = title
        wide.columns.name = None
        blocks.append(wide.reset_index())
    return blocks


_CODED_COLUMNS = {
    s.PLACE: "Place",
    s.ORGANISATION_TYPE: "Organisation type",
    s.ROLE: "Role",
    PARTICIPANT_COL: "Participant",
    s.PATH: "Source",
    s.START_CHAR: "Start char",
    s.END_CHAR: "End char",
    s.SPEAKER: "Speaker",
    s.QUESTION_TEXT: "Question",
    s.THEME: "Theme id",
    THEME_NAME: "Theme",
    s.POLARITY: "Polarity",
    s.CONFIDENCE: "Confidence",
    s.STATUS: "Status",
    s.GOOD_PRACTICE: "Good practice",
    s.CODER: "Coder",
    REVIEWED_BY: "Reviewed by",
    s.TITLE: "Title",
    s.NOTE: "Note",
    REFERENCE: "Reference",
    s.TEXT: "Quote",
}
_CODED_SHEET = [c for c in _CODED_COLUMNS if c not in (s.TITLE, s.NOTE)]


def _display(coded: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    frame = coded.copy()
    if s.GOOD_PRACTICE in frame.columns:
        frame[s.GOOD_PRACTICE] = frame[s.GOOD_PRACTICE].map(lambda v: "" if _missing(v) else ("yes" if v else "no"))
    if s.CONFIDENCE in frame.columns:
        frame[s.CONFIDENCE] = pd.to_numeric(frame[s.CONFIDENCE], errors="coerce").round(3)
    present = [c for c in columns if c in frame.columns]
    return frame[present].rename(columns=_CODED_COLUMNS).reset_index(drop=True)


def _coded_sheet(coded: pd.DataFrame) -> pd.DataFrame:
    if coded.empty:
        return _note(NO_CODINGS)
    return _display(coded, _CODED_SHEET)


def _quotes(data: ExportData, coded: pd.DataFrame) -> pd.DataFrame:
    """Per theme and polarity, :func:`toolkit.analysis.quotes.select_quotes` with up to 3 quotes per place."""
    if coded.empty:
        return _note(NO_CODINGS)
    chosen = []
    polarities = list(s.POLARITIES) + sorted(set(coded[s.POLARITY].dropna()) - set(s.POLARITIES))
    for theme in _theme_order(data, coded):
        of_theme = coded[coded[s.THEME] == theme]
        for polarity in polarities:
            rows = of_theme[of_theme[s.POLARITY] == polarity]
            if not rows.empty:
                chosen.append(select_quotes(rows, limit=None, per_place=QUOTES_PER_PLACE, per_participant=None))
    frame = pd.concat(chosen, ignore_index=True) if chosen else coded.iloc[0:0]
    columns = [THEME_NAME, s.POLARITY, s.PLACE, s.ORGANISATION_TYPE, PARTICIPANT_COL, s.CONFIDENCE, s.STATUS,
               REFERENCE, s.TEXT]
    return _display(frame, columns)


_SURVEY_COLUMNS = {
    s.PLACE: "Place",
    s.QUESTION_TEXT: "Question",
    SCALE_POINTS: "Scale points",
    N_ANSWERS: "n",
    DISAGREE: "% disagree",
    NEUTRAL_ANSWER: "% neutral",
    AGREE: "% agree",
    MEAN: "Mean",
    OFF_SCALE: "Other answers",
}


def _survey(data: ExportData) -> pd.DataFrame:
    """:func:`toolkit.analysis.surveys.likert_percentages` on each question's stored scale, with an all-places row."""
    table = likert_percentages(data.likert, total=ALL_PLACES)
    if table.empty:
        return _note(
            "No Likert survey answers in this snapshot (no survey was ingested, or it has no Likert questions)."
        )
    table = table.copy()
    for column in (DISAGREE, NEUTRAL_ANSWER, AGREE):
        table[column] = pd.to_numeric(table[column], errors="coerce").round(1)
    table[MEAN] = pd.to_numeric(table[MEAN], errors="coerce").round(2)
    table[SCALE_POINTS] = table[SCALE_POINTS].astype("Int64")
    return table[list(_SURVEY_COLUMNS)].rename(columns=_SURVEY_COLUMNS)


def _good_practice(data: ExportData, coded: pd.DataFrame) -> pd.DataFrame:
    """The good-practice library (:meth:`ExportData.good_practice`, as the dashboard shows it)."""
    if coded.empty and (data.practices is None or data.practices.empty):
        return _note(NO_CODINGS)
    library = data.good_practice()
    if library.empty:
        return _note("No enabler segments are flagged as good practice in this snapshot.")
    columns = [THEME_NAME, s.PLACE, s.ORGANISATION_TYPE, PARTICIPANT_COL, s.TITLE, s.NOTE, s.STATUS, REFERENCE,
               s.TEXT]
    return _display(library, columns)


def _codebook(data: ExportData) -> pd.DataFrame:
    rows = [
        {"Theme id": t.id, "Name": t.name, "Definition": t.definition, "Include": t.include, "Exclude": t.exclude}
        for t in data.codebook.themes
    ]
    return pd.DataFrame(rows, columns=["Theme id", "Name", "Definition", "Include", "Exclude"])


# --------------------------------------------------------------------------- layout of the sheets
FRAMEWORK_WRAPPED = {"Barrier, in their words", "Enabler, in their words", "Barrier reference", "Enabler reference",
                     "Practices there", "Proposed there, not yet reviewed", "What it is", "Who runs it",
                     "Evidence that it helped", "Transferability", "References", "Memo", "About", "Role"}
"""Columns of the framework sheets whose text wraps."""
_NARROW = {"Role": 22, "Organisation type": 18, "About": 30, "Barrier reference": 26, "Enabler reference": 26,
           "Practice": 26, "Theme": 24, "Curated by": 16, "Linked to practice": 26, "Reference": 30}
SHEET_LAYOUT = {
    FRAMEWORK: {"freeze": "C2", "wrap_width": 42, "landscape": True, "grid": True, "narrow": _NARROW,
                "emphasise": ("Case", "All of "), "rich": True},
    REMEDIES: {"freeze": "C2", "wrap_width": 42, "landscape": True, "grid": True, "narrow": _NARROW},
    PRACTICES: {"freeze": "B2", "wrap_width": 42, "landscape": True, "grid": True, "narrow": _NARROW},
    MEMOS: {"grid": True, "narrow": _NARROW},
    PRACTICE_PASSAGES: {"grid": True, "narrow": _NARROW},
}
"""Per sheet: where panes freeze (the case column stays in view), how wide wrapped columns grow (``narrow``: less
for some), printing (A3 landscape), cell borders, and rows set apart (a place's own row in the framework matrix)."""
