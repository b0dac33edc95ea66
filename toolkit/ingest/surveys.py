"""Read survey exports into a :class:`~toolkit.schema.Survey`.

Handles Microsoft Forms, Qualtrics (three header rows, and legacy ``V1..V10``
exports), SurveyMonkey (two header rows), Google Forms and plain researcher sheets,
saved as ``.xlsx`` or ``.csv``. Reading goes in four steps, each a small function:

1. read the file's cells into a grid (``.xlsx`` through openpyxl, cached formula
   values; ``.csv`` through :func:`~toolkit.ingest.encoding.decode_bytes` and
   :mod:`csv`);
2. find the header rows and the vendor, and turn each column into a question with a
   unique key and its full wording;
3. classify every column: ``[surveys]`` overrides first, then its header (ids, dates,
   vendor bookkeeping, personal data, place/role/organisation), then its values
   (Likert scales from ``likert_scales.toml``, numbers, free text, choices);
4. build the long tables of answers, counting in ``Survey.warnings`` everything that
   was skipped.

Answer text is never logged.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import functools
import io
import logging
import math
import re
import statistics
import tomllib
import warnings as pywarnings
import zipfile
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from toolkit.config import SurveyOptions
from toolkit.errors import ConfigError, InputDataError
from toolkit.ingest.encoding import decode_bytes
from toolkit.schema import (
    ATTRIBUTES,
    LABEL,
    ORGANISATION_TYPE,
    PERSONAL_QUESTION_KINDS,
    PLACE,
    Q_CHOICE,
    Q_EMAIL,
    Q_FREE_TEXT,
    Q_IGNORED,
    Q_LIKERT,
    Q_METADATA,
    Q_NAME,
    Q_NUMERIC,
    Q_ORGANISATION_TYPE,
    Q_PLACE,
    Q_RESPONDENT_ID,
    Q_ROLE,
    Q_TIMESTAMP,
    QUESTION_KEY,
    RESPONDENT_KEY,
    ROLE,
    ROW_NUMBER,
    TEXT,
    VALUE,
    Survey,
    SurveyQuestion,
)

__all__ = [
    "GENERIC",
    "GOOGLE_FORMS",
    "MICROSOFT_FORMS",
    "QUALTRICS",
    "ROW_ID",
    "SCALES_FILE",
    "SURVEYMONKEY",
    "VENDORS",
    "read_survey",
]

logger = logging.getLogger(__name__)

QUALTRICS = "qualtrics"
SURVEYMONKEY = "surveymonkey"
GOOGLE_FORMS = "google_forms"
MICROSOFT_FORMS = "microsoft_forms"
GENERIC = "generic"
VENDORS = (QUALTRICS, SURVEYMONKEY, GOOGLE_FORMS, MICROSOFT_FORMS, GENERIC)

ROW_ID = "row"
"""``surveys.id_column`` value that numbers respondents by their row ("row-7")."""

SCALES_FILE = Path(__file__).with_name("likert_scales.toml")
"""The ordered Likert scales the reader recognises (data, editable by researchers)."""

# --------------------------------------------------------------------------- vocabulary
# fmt: off
# Header names, lower-case with everything but letters and digits removed, whose kind
# is known from the name alone. Checked against the column key and every header row.
_NAMED_KINDS: tuple[tuple[str, frozenset[str]], ...] = (
    (
        Q_RESPONDENT_ID,
        frozenset(
            {
                "id", "responseid", "respondentid", "respondentnumber", "responsenumber",
                "participantid", "participantnumber", "participantno", "caseid", "case",
                "casenumber", "recordid", "submissionid", "uniqueid", "respid", "pid",
            }
        ),
    ),
    (
        Q_TIMESTAMP,
        frozenset(
            {
                "timestamp", "starttime", "completiontime", "lastmodifiedtime", "endtime",
                "startdate", "enddate", "recordeddate", "submitdate", "submittedat",
                "submissiondate", "submissiontime", "datesubmitted", "datemodified",
                "datecreated", "createdat", "updatedat", "completedat", "startedat",
                "responsedate", "completiondate",
            }
        ),
    ),
    (
        Q_IGNORED,
        frozenset(
            {
                "status", "progress", "duration", "durationinseconds", "durationseconds",
                "finished", "distributionchannel", "userlanguage", "responseset",
                "responsesetid", "collectorid", "locationaccuracy", "responsetype",
            }
        ),
    ),
    (
        Q_EMAIL,
        frozenset(
            {
                "email", "emailaddress", "recipientemail", "respondentemail", "contactemail",
                "workemail", "youremail", "youremailaddress", "emailaddr",
            }
        ),
    ),
    (
        Q_NAME,
        frozenset(
            {
                "name", "fullname", "firstname", "lastname", "surname", "givenname",
                "familyname", "yourname", "respondentname", "participantname",
                "recipientname", "recipientfirstname", "recipientlastname", "ipaddress", "ip",
                "locationlatitude", "locationlongitude", "latitude", "longitude",
                "externalreference", "externaldatareference", "externalref", "phone",
                "phonenumber", "telephone", "mobile", "mobilenumber", "contactnumber",
                "postcode", "zipcode", "address", "homeaddress", "dateofbirth", "dob",
                "nhsnumber",
            }
        ),
    ),
)

# Squashed header names that follow a pattern (numbered custom fields, Qualtrics "Q_"
# embedded data), and folded keys of Qualtrics Text iQ columns derived from answers.
_NAME_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        Q_IGNORED,
        re.compile(r"customdata\d*|q(recaptcha|relevantid|ballotbox|totalduration|url|chl|unanswered|datapolicy)\w*"),
    ),
)
_TEXT_IQ_KEY = re.compile(r".+ - (parent topics|topics?|topic sentiment \w+|sentiment( \w+)?|actionability)")

# Question wording (lower-case words) that marks the study's own grouping columns.
_PHRASE_KINDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        Q_PLACE,
        re.compile(
            r"^(place|area|site|locality|local authority|region|location|town|borough|district"
            r"|study site|study area|place of work|work area)$"
            r"|\b(which|what) (area|place|site|locality|region|town|borough|district|local authority)\b"
            r"|\blocal authority\b|\blocality\b|\bwhere do you work\b|\bwhere are you based\b"
        ),
    ),
    (
        Q_ROLE,
        re.compile(
            r"^(role|job|job title|job role|position|occupation|profession|staff role|role type)$"
            r"|\b(your|job|staff|professional) role\b|\bjob title\b|\boccupation\b|\bprofession\b"
        ),
    ),
    (
        Q_ORGANISATION_TYPE,
        re.compile(
            r"\btype of (organi[sz]ation|employer|service|provider|setting|agency)\b"
            r"|\borgani[sz]ation(al)? type\b"
            r"|^(organi[sz]ation|org|org type|sector|employer|employer type|agency|provider type|service type)$"
            r"|\b(which|what) (type of )?(organi[sz]ation|sector|employer)\b"
            r"|\borgani[sz]ation do you work (for|in|at)\b|\bsector do you work in\b|\bwho is your employer\b"
        ),
    ),
)
# fmt: on
_SINGLE_KINDS = (Q_RESPONDENT_ID, Q_PLACE, Q_ROLE, Q_ORGANISATION_TYPE)
_GROUP_COLUMNS = {Q_PLACE: PLACE, Q_ROLE: ROLE, Q_ORGANISATION_TYPE: ORGANISATION_TYPE}
_ATTRIBUTE_KINDS = (Q_CHOICE, Q_NUMERIC, Q_METADATA, Q_TIMESTAMP)
_ANSWER_KINDS = (Q_PLACE, Q_ROLE, Q_ORGANISATION_TYPE, Q_LIKERT, Q_FREE_TEXT, Q_CHOICE, Q_NUMERIC, Q_METADATA)

# Wording that asks for an open answer (lower-case words): always free text...
_OPEN_WORDING = re.compile(
    r"\b(please (explain|describe|specify|comment|tell|give|share|say|elaborate|provide|list)"
    r"|explain|describe|comments?|why|tell us|anything else|feedback|suggestions?|thoughts"
    r"|opinions?|rationale|free ?text|open ended|in your own words)\b"
)
# ...and wording that may: free text when the answers are mostly distinct.
_QUESTION_WORDING = re.compile(r"\b(what|how)\b")
_NUMERIC_LIKERT_HINT = re.compile(r"\b(likert|scale)\b")

# SurveyMonkey sub-headers that say nothing beyond the question above them.
_PLAIN_SUBHEADERS = frozenset({"response", "open-ended response", "open ended response"})
_OPEN_SUBHEADERS = frozenset({"open-ended response", "open ended response"})

_TEXT_PLACEHOLDERS = frozenset({"-", "--", ".", "n/a", "na", "n.a.", "n/a."})
"""Free-text answers that say nothing: skipped and counted."""
_PERSONAL_PLACEHOLDERS = frozenset({"anonymous", "anonym", "anon", "anonymous user", "n/a", "na", "-", "unknown"})
"""Values of personal columns that name nobody (Microsoft Forms writes 'anonymous')."""
_EXCEL_ERRORS = frozenset({"#N/A", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!", "#CALC!"})

_IMPORT_ID = re.compile(r"""\{\s*['"]ImportId['"]\s*:\s*['"]([^'"]*)['"]""")
_LEGACY_CODE = re.compile(r"V\d+")
_OPEN_CODE = re.compile(r"(^|[_-])TEXT($|[_-])")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")
_INTEGER = re.compile(r"[+-]?\d+")
_DECIMAL = re.compile(r"[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?")
_DATE_TEXT = re.compile(
    r"\d{4}-\d{2}-\d{2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?"
    r"|\d{1,2}[/.]\d{1,2}[/.]\d{2,4}( \d{1,2}:\d{2}(:\d{2})?( ?[AaPp][Mm])?)?"
)
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[ >/]")
_MAX_FOUND = 20
_MAX_KEY = 100


# --------------------------------------------------------------------------- records
@dataclass
class _Sheet:
    """The cells of one worksheet or CSV file: rows of cleaned values, blanks as None."""

    rows: list[list[Any]]
    name: str | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass
class _Column:
    """One column of the export while it is being classified."""

    position: int
    key: str
    text: str
    headers: tuple[str, ...]
    values: list[Any]
    open_ended: bool = False
    stem: str = ""
    """The question a sub-column belongs to (matrix rows share it)."""
    kind: str = ""
    fixed: bool = False
    scale: tuple[str, ...] = ()
    points: dict[str, int] = field(default_factory=dict)
    fuzzy: frozenset[str] = frozenset()

    @property
    def filled(self) -> list[Any]:
        return [v for v in self.values if v is not None]


@dataclass(frozen=True)
class _Place:
    """Where in which file: builds errors in the house style."""

    path: Path
    sheet: str | None

    @property
    def where(self) -> str:
        return f"sheet '{self.sheet}'" if self.sheet is not None else ""

    def error(self, problem: str, fix: str = "", row: int | None = None) -> InputDataError:
        where = ", ".join(p for p in (self.where, f"row {row}" if row else "") if p)
        return InputDataError(self.path, problem, fix, where=where)


@dataclass(frozen=True)
class _Scale:
    """One ordered answer scale from ``likert_scales.toml``."""

    name: str
    family: str
    labels: tuple[str, ...]
    lookup: Mapping[str, int]
    every_point: bool = False
    min_answers: int = 0


@dataclass(frozen=True)
class _ScaleBook:
    """Every scale, the off-scale answers and each family's hint words."""

    scales: tuple[_Scale, ...]
    off_scale: frozenset[str]
    hints: Mapping[str, re.Pattern[str]]
    spellings: Mapping[str, frozenset[str]]
    """Every spelling of every point of a family's scales."""

    @property
    def families(self) -> tuple[str, ...]:
        return tuple(self.spellings)

    def scales_of(self, family: str) -> list[_Scale]:
        return [s for s in self.scales if s.family == family]


@dataclass
class _Fit:
    """How a column's answers fit one family of scales."""

    column: _Column
    family: str
    mapping: dict[str, str]
    on: int
    unknown: int
    fuzzy: frozenset[str]


# --------------------------------------------------------------------------- public API
def read_survey(path: str | Path, *, options: SurveyOptions | None = None) -> Survey:
    """Read a survey export (``.xlsx`` or ``.csv``) into questions and long tables.

    Parameters
    ----------
    path : the export: Microsoft Forms, Qualtrics, SurveyMonkey, Google Forms or a
        plain sheet with one header row and one row per respondent.
    options : ``[surveys]`` settings of ``study.toml``: sheet, header rows and
        column overrides. ``None`` means detect everything.

    Returns
    -------
    Survey
        Its questions (one per column, classified), ``respondents``, ``likert``,
        ``texts`` and ``personal`` tables, and ``warnings`` that count what was
        skipped or guessed.

    Raises
    ------
    InputDataError
        The file is empty, damaged, encrypted, has no responses or no respondent id,
        or an override names a column or sheet that does not exist.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> csv_path = pathlib.Path(tempfile.mkdtemp()) / "survey.csv"
    >>> _ = csv_path.write_text("ID,What is your role?,I feel supported\\n1,Nurse,Agree\\n2,GP,Strongly agree\\n")
    >>> survey = read_survey(csv_path)
    >>> survey.vendor, [q.kind for q in survey.questions]
    ('generic', ['respondent_id', 'role', 'likert'])
    >>> survey.likert["value"].tolist()
    [4.0, 5.0]
    """
    options = options or SurveyOptions()
    path = Path(path)
    file_format = _file_format(path)
    raw = _read_bytes(path)
    sheet = _read_workbook(path, raw, options.sheet) if file_format == "xlsx" else _read_csv(path, raw)
    place = _Place(path, sheet.name)
    warnings = list(sheet.warnings)

    vendor, header, body, first_number = _split_header(sheet.rows, options.header_rows, place)
    if file_format == "csv":
        _check_ragged(header, body, first_number, place)
    columns = _build_columns(header, body, vendor, warnings)
    _classify(columns, options, place, warnings)
    kept, numbers = _kept_rows(columns, len(body), first_number, warnings)
    if not kept:
        raise place.error(
            "has no answers: every row after the header is blank or holds only ids, dates and bookkeeping columns.",
            "Check that this is the responses sheet, or set surveys.header_rows if the header is taller.",
        )
    keys = _respondent_keys(columns, kept, numbers, vendor, options, place, warnings)
    frames = _answer_frames(columns, kept, numbers, keys, warnings)

    questions = tuple(
        SurveyQuestion(key=c.key, text=c.text, kind=c.kind, position=c.position, scale=c.scale) for c in columns
    )
    logger.info(
        "Read survey %s (%s%s): %d questions, %d respondents, %d warnings",
        path.name,
        vendor,
        f", sheet {sheet.name!r}" if sheet.name is not None else "",
        len(questions),
        len(keys),
        len(warnings),
    )
    for warning in warnings:
        logger.debug("%s: %s", path.name, warning)
    return Survey(
        path=path,
        format=file_format,
        vendor=vendor,
        questions=questions,
        sheet=sheet.name,
        warnings=tuple(warnings),
        **frames,
    )


# --------------------------------------------------------------------------- step 1: cells
def _file_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return "xlsx"
    if suffix in (".csv", ".tsv", ".txt"):
        return "csv"
    if suffix == ".xls":
        raise InputDataError(
            path,
            "is an old Excel 97-2003 (.xls) workbook, which is not supported.",
            "Open it in Excel and save it as .xlsx (Excel Workbook).",
        )
    raise InputDataError(path, f"is not a survey export: expected .xlsx or .csv, found '{suffix or 'no extension'}'.")


def _read_bytes(path: Path) -> bytes:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        problem = f"cannot be read ({exc.strerror or exc})."
        raise InputDataError(path, problem, "Check the path and its permissions.") from None
    if not raw.strip():
        raise InputDataError(path, "the file is empty.", "Export it again or remove it from the study folder.")
    return raw


def _read_csv(path: Path, raw: bytes) -> _Sheet:
    """Decode a CSV export and split it into rows of cleaned cells."""
    if raw.startswith((b"PK\x03\x04", _OLE_MAGIC)):
        raise InputDataError(
            path,
            "is a binary file (an Excel workbook or another Office file), not CSV text.",
            "Rename it to .xlsx if it is a workbook, or export the survey again as CSV.",
        )
    text, encoding = decode_bytes(raw, path)
    delimiter = _sniff_delimiter(text)
    logger.debug("%s: CSV in %s, delimiter %r", path.name, encoding, delimiter)
    try:
        return _Sheet(_csv_rows(text, delimiter, strict=True))
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):
            problem = "a quoted cell is never closed, so the rest of the file would be read as one answer"
            raise _csv_error(path, text, delimiter, problem) from None
    # Stray quotes inside cells ('"Blue" team'): read them as a spreadsheet would.
    sheet = _Sheet(_csv_rows_or_raise(path, text, delimiter))
    sheet.warnings.append("some cells have stray quote characters; they were read as plain text.")
    return sheet


def _csv_rows(text: str, delimiter: str, *, strict: bool) -> list[list[Any]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=strict)
    return [_trim([_clean_cell(cell) for cell in record]) for record in reader]


def _csv_rows_or_raise(path: Path, text: str, delimiter: str) -> list[list[Any]]:
    try:
        return _csv_rows(text, delimiter, strict=False)
    except csv.Error as exc:
        raise _csv_error(path, text, delimiter, str(exc)) from None


def _csv_error(path: Path, text: str, delimiter: str, problem: str) -> InputDataError:
    """Name the record where lenient parsing stops making sense."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    count = 0
    try:
        for count, _ in enumerate(reader, start=1):
            pass
    except csv.Error:
        count += 1
    return InputDataError(
        path,
        f"is not well-formed CSV: {problem}.",
        "Open it in a spreadsheet program, check the quotes around that row, save it again as 'CSV UTF-8', "
        "and run again.",
        where=f"row {count}",
    )


def _sniff_delimiter(text: str) -> str:
    """The delimiter (comma, semicolon or tab) that splits the first record into most cells."""
    best, most = ",", 0
    for delimiter in (",", ";", "\t"):
        try:
            first = next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), [])
        except csv.Error:
            continue
        if len(first) > most:
            best, most = delimiter, len(first)
    return best


def _read_workbook(path: Path, raw: bytes, wanted: str) -> _Sheet:
    """Read the cached values of one worksheet: ``wanted``, else the first with data."""
    _check_workbook_bytes(path, raw)
    import openpyxl  # only workbooks need it

    with pywarnings.catch_warnings():
        pywarnings.simplefilter("ignore")  # openpyxl warns about every unsupported extension
        try:
            book = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
        except zipfile.BadZipFile as exc:
            raise InputDataError(
                path,
                f"is damaged: it is not a readable zip archive, as an .xlsx must be ({exc}).",
                "Download or export it again; if Excel can open it, save it again as .xlsx.",
            ) from None
        except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds on malformed parts
            raise InputDataError(
                path,
                f"cannot be read as an Excel workbook ({type(exc).__name__}: {exc}).",
                "Open it in Excel and save it again as .xlsx (Excel Workbook).",
            ) from None
        try:
            sheet = _pick_sheet(path, book, wanted)
        except InputDataError:
            raise
        except Exception as exc:  # noqa: BLE001 - a malformed sheet part, whatever openpyxl makes of it
            raise InputDataError(
                path,
                f"a worksheet cannot be read ({type(exc).__name__}: {exc}).",
                "Open it in Excel and save it again as .xlsx (Excel Workbook).",
            ) from None
        finally:
            book.close()
        sheet.warnings.extend(_formula_warnings(raw, sheet))
    return sheet


def _check_workbook_bytes(path: Path, raw: bytes) -> None:
    """Refuse encrypted, legacy and non-zip files before openpyxl sees them."""
    if raw.startswith(_OLE_MAGIC):
        if "EncryptedPackage".encode("utf-16-le") in raw:
            raise InputDataError(
                path,
                "is password-protected (encrypted), so it cannot be read.",
                "Open it in Excel, remove the password (File > Info > Protect Workbook > Encrypt with "
                "Password), save it, and run again.",
            )
        raise InputDataError(
            path,
            "is an old Excel 97-2003 (.xls) workbook or another binary Office file renamed .xlsx.",
            "Open it in Excel and save it as .xlsx (Excel Workbook).",
        )
    if raw.startswith(b"PK"):
        return
    head = raw[:4096]
    if head.count(0) == 0 and all(b >= 9 for b in head) and any(d in head for d in (b",", b";", b"\t")):
        raise InputDataError(
            path,
            "holds plain text, not an Excel workbook: it looks like a CSV export saved with a .xlsx name.",
            "Rename it to .csv, or open it in Excel and save it as .xlsx.",
        )
    raise InputDataError(
        path,
        "is not an Excel workbook: an .xlsx is a zip archive and this file is not one (it may be damaged "
        "or only partly downloaded).",
        "Download or export it again.",
    )


def _pick_sheet(path: Path, book: Any, wanted: str) -> _Sheet:
    sheets = list(book.worksheets)
    names = [ws.title for ws in sheets]
    listed = ", ".join(f"'{n}'" for n in book.sheetnames)
    if wanted:
        match = next((ws for ws in sheets if ws.title == wanted), None) or next(
            (ws for ws in sheets if _fold(ws.title) == _fold(wanted)), None
        )
        if match is None:
            raise InputDataError(
                path,
                f"has no worksheet named '{wanted}'. Sheets: {listed}.",
                "Fix surveys.sheet in study.toml (or leave it empty to read the first sheet with data).",
            )
        return _sheet_cells(match)
    fallback: _Sheet | None = None
    for ws in sheets:
        sheet = _sheet_cells(ws)
        filled = sum(_is_filled(row) for row in sheet.rows)
        if filled >= 2:
            if len(sheets) > 1:
                sheet.warnings.insert(
                    0,
                    f"the workbook has {len(sheets)} sheets ({', '.join(repr(n) for n in names)}); read "
                    f"'{ws.title}', the first with responses. Set surveys.sheet in study.toml to read another.",
                )
            return sheet
        if filled and fallback is None:
            fallback = sheet
    if fallback is not None:
        return fallback
    raise InputDataError(path, f"has no data in any worksheet (sheets: {listed}).", "Check that it is the right file.")


def _sheet_cells(ws: Any) -> _Sheet:
    """Every row of a worksheet, cleaned; Excel error values become blanks and are counted."""
    rows: list[list[Any]] = []
    errors = 0
    for raw_row in ws.iter_rows(values_only=True):
        row = []
        for value in raw_row:
            if isinstance(value, str) and value.strip() in _EXCEL_ERRORS:
                errors += 1
                value = None
            row.append(_clean_cell(value))
        rows.append(_trim(row))
    sheet = _Sheet(rows, name=ws.title)
    if errors:
        sheet.warnings.append(f"{errors} cell(s) hold Excel errors (#N/A, #DIV/0!, #VALUE!...) and were read as blank.")
    return sheet


def _formula_warnings(raw: bytes, sheet: _Sheet) -> list[str]:
    """Warn about formula cells whose value was never saved (they read as blank)."""
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        parts = [n for n in archive.namelist() if n.startswith("xl/worksheets/") and n.endswith(".xml")]
        if not any(_FORMULA_TAG.search(archive.read(n)) for n in parts):
            return []
    import openpyxl
    from openpyxl.utils import get_column_letter

    missing: list[str] = []
    book = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=False)
    try:
        for r, row in enumerate(book[sheet.name].iter_rows(values_only=True)):
            for c, value in enumerate(row):
                is_formula = (isinstance(value, str) and value.startswith("=")) or hasattr(value, "text")
                cached = sheet.rows[r][c] if r < len(sheet.rows) and c < len(sheet.rows[r]) else None
                if is_formula and cached is None:
                    missing.append(f"{get_column_letter(c + 1)}{r + 1}")
    finally:
        book.close()
    if not missing:
        return []
    shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
    warning = (
        f"{len(missing)} formula cell(s) have no saved value ({shown}) and were read as blank. Open the "
        "workbook in Excel, let it calculate, save it, and run again."
    )
    return [warning]


def _clean_cell(value: Any) -> Any:
    """Trim text (spaces, NBSPs, line ends) and make blanks None; keep numbers and dates."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ").strip()
        return text or None
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return None
        return int(value) if value.is_integer() and abs(value) < 2**53 else value
    return value


def _trim(row: list[Any]) -> list[Any]:
    while row and row[-1] is None:
        row.pop()
    return row


def _is_filled(row: Sequence[Any]) -> bool:
    return any(v is not None for v in row)


def _first_filled_row(rows: list[list[Any]], place: _Place) -> int:
    for index, row in enumerate(rows):
        if _is_filled(row):
            return index
    raise place.error("has no cells with data.", "Export it again or remove it from the study folder.")


def _check_ragged(header: list[list[Any]], body: list[list[Any]], first_number: int, place: _Place) -> None:
    """Refuse a CSV whose rows have cells beyond the header: they would shift onto wrong questions."""
    width = max(len(row) for row in header)
    for offset, row in enumerate(body):
        if len(row) > width:
            raise place.error(
                f"this row has {len(row)} cells but the header names only {width} columns, so its answers "
                "cannot be matched to questions.",
                "Add the missing column names to the header (or remove the stray cells) and export the CSV again.",
                row=first_number + offset,
            )


# --------------------------------------------------------------------------- step 2: layout
def _split_header(
    rows: list[list[Any]], header_rows: int, place: _Place
) -> tuple[str, list[list[Any]], list[list[Any]], int]:
    """The vendor, the header rows, the response rows and the file row number of the first response.

    Blank rows above the header and below the last response are left out (they are
    layout, not data); blank rows between responses stay, to be counted.
    """
    first = _first_filled_row(rows, place)
    last = max(i for i, row in enumerate(rows) if _is_filled(row))
    vendor, n_header = _detect_layout(rows[first:], header_rows)
    body = rows[first + n_header : last + 1]
    if not body:
        raise place.error(
            "has a header but no responses: there are no rows after the header.",
            "Export the survey again once responses have come in, or remove the file from the study folder.",
        )
    return vendor, rows[first : first + n_header], body, first + n_header + 1


def _detect_layout(rows: list[list[Any]], header_rows: int) -> tuple[str, int]:
    """The vendor and the number of header rows (``header_rows`` overrides the count)."""
    first = [_squash(_header_text(c)) for c in rows[0]]
    second = rows[1] if len(rows) > 1 else []
    third = rows[2] if len(rows) > 2 else []
    names = set(first)
    if any(isinstance(c, str) and _IMPORT_ID.match(c) for c in third):
        vendor, count = QUALTRICS, 3
    elif first[:3] == ["v1", "v2", "v3"]:
        vendor, count = QUALTRICS, 2
    elif _is_surveymonkey(names, second):
        vendor, count = SURVEYMONKEY, 2
    elif {"respondentid", "collectorid"} <= names:
        vendor, count = SURVEYMONKEY, 1
    elif "responseid" in names and names & {"finished", "progress", "recordeddate", "startdate"}:
        at = first.index("responseid")
        repeated = len(second) > at and _squash(_header_text(second[at])) == "responseid"  # header row 2 repeats row 1
        vendor, count = QUALTRICS, 2 if repeated else 1
    elif first and first[0] == "timestamp":
        vendor, count = GOOGLE_FORMS, 1
    elif {"starttime", "completiontime"} <= names:
        vendor, count = MICROSOFT_FORMS, 1
    else:
        vendor, count = GENERIC, 1
    return vendor, header_rows or count


def _is_surveymonkey(names: set[str], second: list[Any]) -> bool:
    if not second or second[0] is not None:
        return False
    subs = {_fold(_header_text(c)) for c in second if c is not None}
    return bool(subs & _PLAIN_SUBHEADERS) or {"respondentid", "collectorid"} <= names


def _build_columns(header: list[list[Any]], body: list[list[Any]], vendor: str, warnings: list[str]) -> list[_Column]:
    """One column per header cell (or data cell beyond it), with unique keys."""
    width = max(len(row) for row in header + body)
    cells = [[_header_text(row[i]) if i < len(row) else "" for i in range(width)] for row in header]
    labels = _qualtrics_labels(cells) if vendor == QUALTRICS else _stacked_labels(cells)
    columns: list[_Column] = []
    unnamed = 0
    for index, (key, text, headers, open_ended, stem) in enumerate(labels):
        values = [row[index] if index < len(row) else None for row in body]
        if not key:
            if not any(v is not None for v in values):
                continue  # no header and no answers: nothing to read
            unnamed += 1
            key = text = f"column {index + 1}"
        columns.append(_Column(index + 1, key, text, headers, values, open_ended, stem or key))
    if unnamed:
        warnings.append(f"{unnamed} column(s) with answers have no header; they are named 'column N' by position.")
    for column in columns:
        column.key = _short_key(column.key)
    _make_keys_unique(columns, warnings)
    return columns


def _short_key(text: str, limit: int = _MAX_KEY) -> str:
    """A long header cut at a word boundary, so keys fit the store; the wording stays whole."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip(" -,:;") + "\u2026"


_Label = tuple[str, str, tuple[str, ...], bool, str]
"""key, wording, header cells, open-ended, question stem"""


def _qualtrics_labels(rows: list[list[str]]) -> list[_Label]:
    """Key from the export tag (row 1), wording from row 2, text entry from the ImportId (row 3)."""
    labels = []
    for cells in zip(*rows):
        code = cells[0]
        wording = cells[1] if len(cells) > 1 else ""
        found = _IMPORT_ID.match(cells[2]) if len(cells) > 2 else None
        import_id = found.group(1) if found else ""
        key = wording if (_LEGACY_CODE.fullmatch(code) and wording) else (code or wording)
        open_ended = bool(_OPEN_CODE.search(import_id) or _OPEN_CODE.search(code))
        stem = import_id.split("-")[0] if import_id else re.sub(r"_[^_]*$", "", code)
        labels.append((key, wording or code, tuple(c for c in cells if c), open_ended, stem))
    return labels


def _stacked_labels(rows: list[list[str]]) -> list[_Label]:
    """Header rows read top-down; a blank top cell over a sub-header carries the question on.

    SurveyMonkey writes each question once over its sub-columns ('Response',
    'Open-Ended Response' or an option label); plain sheets have a single row.
    """
    labels = []
    carried = ""
    for cells in zip(*rows):
        top, below = cells[0], [c for c in cells[1:] if c]
        if top:
            carried = top
        elif below:
            top = carried
        subs = [b for b in below if _fold(b) not in _PLAIN_SUBHEADERS and b != top]
        text = " - ".join(p for p in [top, *subs] if p)
        key = text
        if len(text) > _MAX_KEY and top and subs:  # shorten the question, keep the sub-column's label
            suffix = _short_key(" - " + " - ".join(subs), 2 * _MAX_KEY // 3)
            key = _short_key(top, _MAX_KEY - len(suffix)) + suffix
        open_ended = any(_fold(b) in _OPEN_SUBHEADERS for b in below)
        labels.append((key, text, tuple(c for c in cells if c), open_ended, top))
    return labels


def _make_keys_unique(columns: list[_Column], warnings: list[str]) -> None:
    """Repeated keys get '.1', '.2' in order, as pandas names repeated headers."""
    used: set[str] = set()
    counts: Counter[str] = Counter()
    renamed = 0
    for column in columns:
        base = column.key
        key = base
        while key in used:
            counts[base] += 1
            key = f"{base}.{counts[base]}"
        if key != base:
            renamed += 1
        column.key = key
        used.add(key)
    if renamed:
        warnings.append(f"{renamed} column(s) repeat an earlier header; their keys get '.1', '.2'... suffixes.")


# --------------------------------------------------------------------------- step 3: kinds
def _classify(columns: list[_Column], options: SurveyOptions, place: _Place, warnings: list[str]) -> None:
    """Give every column a kind: overrides, then header names, then values."""
    book = _scale_book()
    _apply_overrides(columns, options, place)
    taken = {c.kind for c in columns if c.kind in _SINGLE_KINDS}
    for column in columns:
        if not column.kind:
            column.kind = _kind_from_header(column, taken, book)
    for column in columns:
        if not column.kind and _looks_like_emails(column.filled):
            column.kind = Q_EMAIL
    _assign_likert_labels(columns, book, place)
    empty = []
    for column in columns:
        if column.kind == Q_LIKERT and not column.scale:
            _assign_numeric_scale(column)  # named in surveys.likert_columns, answered in numbers
        elif not column.kind:
            column.kind = _kind_from_values(column, book)
            if column.kind == Q_IGNORED:
                empty.append(column.key)
    _share_numeric_scales(columns)
    if empty:
        warnings.append(f"{len(empty)} column(s) have no answers at all and are ignored: {_listing(empty)}.")


def _apply_overrides(columns: list[_Column], options: SurveyOptions, place: _Place) -> None:
    """Apply ``[surveys]`` column settings; a name that matches no column is an error."""
    settings: tuple[tuple[str, str, Sequence[str]], ...] = (
        ("id_column", Q_RESPONDENT_ID, (options.id_column,)),
        ("place_column", Q_PLACE, (options.place_column,)),
        ("role_column", Q_ROLE, (options.role_column,)),
        ("organisation_column", Q_ORGANISATION_TYPE, (options.organisation_column,)),
        ("ignore_columns", Q_IGNORED, options.ignore_columns),
        ("personal_columns", Q_NAME, options.personal_columns),
        ("likert_columns", Q_LIKERT, options.likert_columns),
        ("text_columns", Q_FREE_TEXT, options.text_columns),
        ("metadata_columns", Q_METADATA, options.metadata_columns),
    )
    for setting, kind, names in settings:
        for name in names:
            if not name.strip() or (setting == "id_column" and _fold(name) == ROW_ID):
                continue
            matches = [c for c in columns if _fold(name) in {_fold(n) for n in (c.key, c.text, *c.headers)}]
            if not matches:
                raise place.error(
                    f"surveys.{setting} names '{name}', but no column has that name. Found: {_found(columns)}.",
                    f"Fix surveys.{setting} in study.toml: use a column name as it appears in any header row.",
                )
            for column in matches[:1] if kind in _SINGLE_KINDS else matches:
                if not column.fixed:
                    personal_email = kind == Q_NAME and _looks_like_emails(column.filled)
                    column.kind, column.fixed = (Q_EMAIL if personal_email else kind), True


def _kind_from_header(column: _Column, taken: set[str], book: _ScaleBook) -> str:
    """The kind a column's header gives it, or '' to decide by its values."""
    names = {_squash(n) for n in (column.key, column.text, *column.headers) if n}
    if _TEXT_IQ_KEY.fullmatch(_fold(column.key)):
        return Q_IGNORED
    kind = next((k for k, known in _NAMED_KINDS if names & known), "")
    kind = kind or next((k for k, pattern in _NAME_PATTERNS if any(pattern.fullmatch(n) for n in names)), "")
    if not kind:
        wording = {_words(column.text), _words(column.key)}
        kind = next((k for k, pattern in _PHRASE_KINDS if any(pattern.search(w) for w in wording)), "")
    if kind in _SINGLE_KINDS:
        if kind in taken or not _fits_single(column, kind, book):
            return ""
        taken.add(kind)
    return kind


def _fits_single(column: _Column, kind: str, book: _ScaleBook) -> bool:
    """An id needs values that are not emails; place/role/organisation need short non-scale answers."""
    values = column.filled
    if kind == Q_RESPONDENT_ID:
        return bool(values) and not _looks_like_emails(values)
    if not values:
        return True
    if all(_as_number(v) is not None for v in values):
        return False  # codes or indicators, not names of places, roles or organisations
    texts = [_as_text(v) for v in values]
    if statistics.median(len(t) for t in texts) > 60:
        return False
    return _best_fit(column, book, forced=False) is None


def _kind_from_values(column: _Column, book: _ScaleBook) -> str:
    """Kind from the answers: dates, numbers (maybe a numeric Likert), free text or choices."""
    values = column.filled
    wording = _words(column.text)
    open_ended = column.open_ended or bool(_OPEN_WORDING.search(wording))
    if not values:
        return Q_FREE_TEXT if open_ended or _QUESTION_WORDING.search(wording) else Q_IGNORED
    if all(isinstance(v, (dt.datetime, dt.date)) for v in values) or all(
        isinstance(v, str) and _DATE_TEXT.fullmatch(v) for v in values
    ):
        return Q_TIMESTAMP
    if all(isinstance(v, bool) for v in values):
        return Q_CHOICE
    numbers = [_as_number(v) for v in values]
    if all(n is not None for n in numbers) and not column.open_ended:
        if _is_numeric_likert(column, numbers, book):
            _assign_numeric_scale(column)
            return Q_LIKERT
        return Q_NUMERIC
    hinted = bool(_QUESTION_WORDING.search(wording))
    return _text_kind([_as_text(v) for v in values], open_ended=open_ended, hinted=hinted)


def _text_kind(texts: list[str], *, open_ended: bool, hinted: bool) -> str:
    """Free text when asked for, or for long and mostly distinct answers; else choice or metadata."""
    if open_ended:
        return Q_FREE_TEXT
    n_distinct = len(set(texts))
    distinct = n_distinct / len(texts)
    median = statistics.median(len(t) for t in texts)
    wordy = sum(" " in t for t in texts) / len(texts)
    if median >= 20 and distinct >= 0.5 and wordy >= 0.5:
        return Q_FREE_TEXT
    if hinted and distinct >= 0.5 and (median >= 10 or wordy >= 0.5):
        return Q_FREE_TEXT
    if n_distinct <= 20 or distinct < 0.5:
        return Q_CHOICE
    return Q_METADATA


def _is_numeric_likert(column: _Column, numbers: list[float], book: _ScaleBook) -> bool:
    """Whole numbers within 1-7 under wording about agreeing, likelihood, satisfaction..."""
    wording = _words(f"{column.text} {column.key}")
    hinted = _NUMERIC_LIKERT_HINT.search(wording) or any(p.search(wording) for p in book.hints.values())
    whole = all(float(n).is_integer() for n in numbers)
    return bool(hinted) and whole and len(set(numbers)) >= 2 and min(numbers) >= 1 and max(numbers) <= 7


def _share_numeric_scales(columns: list[_Column]) -> None:
    """Numeric sub-columns of a matrix whose other rows are numeric Likert get the same scale."""
    scales = {c.stem: c.scale for c in columns if c.kind == Q_LIKERT and c.scale and c.scale[0] == "1"}
    for column in columns:
        scale = scales.get(column.stem)
        if column.kind != Q_NUMERIC or column.fixed or not scale:
            continue
        numbers = [_as_number(v) for v in column.filled]
        if all(isinstance(n, int) and 1 <= n <= len(scale) for n in numbers):
            column.kind, column.scale = Q_LIKERT, scale
            column.points = {label: i for i, label in enumerate(scale, start=1)}


def _assign_numeric_scale(column: _Column) -> None:
    """A 1..N scale for numeric answers (N = 5, 7, 10 or the largest answer)."""
    numbers = [_as_number(v) for v in column.filled]
    top = max((int(n) for n in numbers if n is not None), default=5)
    size = next((s for s in (5, 7, 10) if top <= s), top)
    column.kind = Q_LIKERT
    column.scale = tuple(str(i) for i in range(1, size + 1))
    column.points = {label: i for i, label in enumerate(column.scale, start=1)}


# ------------------------------------------------------------------------- Likert labels
def _assign_likert_labels(columns: list[_Column], book: _ScaleBook, place: _Place) -> None:
    """Find the columns whose answers are scale labels and give each family one scale."""
    fits = []
    for column in columns:
        forced = column.kind == Q_LIKERT
        if (column.kind and not forced) or not column.filled:
            continue
        if all(_as_number(v) is not None for v in column.filled):
            continue  # numbers: see _is_numeric_likert
        fit = _best_fit(column, book, forced=forced)
        if fit is not None:
            fits.append(fit)
        elif forced:
            labels = sorted({_as_text(v) for v in column.filled})
            raise place.error(
                f"surveys.likert_columns names '{column.key}', but its answers fit no known Likert scale "
                f"(answers: {_listing(labels, 8)}).",
                f"Add the scale to toolkit/ingest/{SCALES_FILE.name}, or remove the column from "
                "surveys.likert_columns.",
            )
    by_family: dict[str, list[_Fit]] = defaultdict(list)
    for fit in fits:
        by_family[fit.family].append(fit)
    for family, group in by_family.items():
        scales = book.scales_of(family)
        used = set().union(*(fit.mapping.values() for fit in group))
        shared = _choose_scale(scales, used, sum(fit.on for fit in group))
        for fit in group:
            scale = shared or _choose_scale(scales, set(fit.mapping.values()), fit.on) or _widest_scale(scales, fit)
            column = fit.column
            column.kind = Q_LIKERT
            column.scale = scale.labels
            column.points = {a: scale.lookup[label] for a, label in fit.mapping.items() if label in scale.lookup}
            column.fuzzy = fit.fuzzy


def _best_fit(column: _Column, book: _ScaleBook, *, forced: bool) -> _Fit | None:
    """The family of scales that a column's answers fit best, if any."""
    counts = Counter(_norm_label(_as_text(v)) for v in column.filled)
    wording = _words(f"{column.text} {column.key}")
    fits = []
    for family in book.families:
        hinted = bool(book.hints[family].search(wording))
        fit = _fit_family(column, counts, family, book, hinted=hinted, forced=forced)
        if fit is not None:
            fits.append((hinted, fit))
    if not fits:
        return None
    pool = [fit for hinted, fit in fits if hinted] or [fit for _, fit in fits]
    return max(pool, key=lambda fit: (fit.on - len(fit.fuzzy), fit.on))


def _fit_family(
    column: _Column, counts: Counter[str], family: str, book: _ScaleBook, *, hinted: bool, forced: bool
) -> _Fit | None:
    """Match answers to a family's labels (exactly, or a near spelling); None if they do not fit."""
    spellings = book.spellings[family]
    longest = max(len(s) for s in spellings) + 3
    mapping: dict[str, str] = {}
    fuzzy: set[str] = set()
    on = unknown = 0
    for answer, count in counts.items():
        if answer in book.off_scale:
            continue
        if answer in spellings:
            mapping[answer] = answer
            on += count
            continue
        close = difflib.get_close_matches(answer, spellings, n=1, cutoff=0.88) if 4 <= len(answer) <= longest else []
        if close:
            mapping[answer] = close[0]
            fuzzy.add(answer)
            on += count
        else:
            unknown += count
    if on == 0:
        return None
    if unknown and not forced:
        distinct_points = len(set(mapping.values()))
        if not hinted or on < unknown or distinct_points < 2:
            return None
    return _Fit(column, family, mapping, on, unknown, frozenset(fuzzy))


def _choose_scale(scales: list[_Scale], used: set[str], answers: int) -> _Scale | None:
    """The first scale that holds every label used (strict scales need every point used)."""
    for scale in scales:
        if not used <= scale.lookup.keys():
            continue
        if scale.every_point:
            points = {scale.lookup[label] for label in used}
            if len(points) < len(scale.labels) or answers < scale.min_answers:
                continue
        return scale
    return None


def _widest_scale(scales: list[_Scale], fit: _Fit) -> _Scale:
    """The scale holding most of a column's labels, when none holds them all."""
    return max(scales, key=lambda s: sum(1 for label in fit.mapping.values() if label in s.lookup))


@functools.cache
def _scale_book() -> _ScaleBook:
    return _load_scales(SCALES_FILE)


def _load_scales(path: Path) -> _ScaleBook:
    """Read and check ``likert_scales.toml``."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the Likert scales ({exc}).") from None
    families = data.get("families", {})
    hints = {
        name: re.compile(r"\b(" + "|".join(re.escape(_words(h)) for h in table.get("hints", [])) + r")\b")
        if table.get("hints")
        else re.compile(r"(?!x)x")
        for name, table in families.items()
    }
    scales = []
    for index, table in enumerate(data.get("scale", []), start=1):
        name = table.get("name", f"scale {index}")
        points = table.get("points", [])
        if table.get("family") not in families or not points or not all(isinstance(p, list) and p for p in points):
            raise ConfigError(f"{path}: scale '{name}' needs a family from [families] and a list of points.")
        lookup: dict[str, int] = {}
        for position, spellings in enumerate(points, start=1):
            for spelling in spellings:
                if lookup.setdefault(_norm_label(spelling), position) != position:
                    raise ConfigError(f"{path}: scale '{name}' lists '{spelling}' on two points.")
        scales.append(
            _Scale(
                name=name,
                family=table["family"],
                labels=tuple(p[0] for p in points),
                lookup=lookup,
                every_point=bool(table.get("every_point", False)),
                min_answers=int(table.get("min_answers", 0)),
            )
        )
    off_scale = frozenset(_norm_label(label) for label in data.get("off_scale", {}).get("labels", []))
    spellings: dict[str, frozenset[str]] = {}
    for scale in scales:
        spellings[scale.family] = spellings.get(scale.family, frozenset()) | frozenset(scale.lookup)
    return _ScaleBook(tuple(scales), off_scale, hints, spellings)


# --------------------------------------------------------------------------- step 4: tables
def _kept_rows(
    columns: list[_Column], n_rows: int, first_number: int, warnings: list[str]
) -> tuple[list[int], list[int]]:
    """Indices and file row numbers of the rows that hold at least one answer."""
    answer_columns = [c for c in columns if c.kind in _ANSWER_KINDS]
    kept, numbers = [], []
    blank = bookkeeping = 0
    for index in range(n_rows):
        if any(c.values[index] is not None for c in answer_columns):
            kept.append(index)
            numbers.append(first_number + index)
        elif any(c.values[index] is not None for c in columns):
            bookkeeping += 1
        else:
            blank += 1
    if blank:
        warnings.append(f"{blank} blank row(s) were skipped.")
    if bookkeeping:
        warnings.append(
            f"{bookkeeping} row(s) hold no answers (only ids, dates, names or bookkeeping) and were skipped."
        )
    return kept, numbers


def _respondent_keys(
    columns: list[_Column],
    kept: list[int],
    numbers: list[int],
    vendor: str,
    options: SurveyOptions,
    place: _Place,
    warnings: list[str],
) -> list[str]:
    """One unique key per kept row: the id column's value, else 'row-N' where allowed."""
    id_column = next((c for c in columns if c.kind == Q_RESPONDENT_ID), None)
    if id_column is None:
        if _fold(options.id_column) == ROW_ID:
            return [f"row-{n}" for n in numbers]
        if vendor in (GOOGLE_FORMS, MICROSOFT_FORMS):
            warnings.append(
                "no respondent id column: respondents are numbered by their row ('row-7'). Set "
                "surveys.id_column in study.toml if the export has one."
            )
            return [f"row-{n}" for n in numbers]
        raise place.error(
            f"no column for the respondent id. Found: {_found(columns)}.",
            f'Set surveys.id_column in study.toml (or "{ROW_ID}" to number respondents by row).',
        )
    keys: list[str] = []
    used: set[str] = set()
    repeats = missing = 0
    for index, number in zip(kept, numbers):
        value = id_column.values[index]
        base = _as_text(value) if value is not None else f"row-{number}"
        missing += value is None
        key, copy = base, 1
        while key in used:
            copy += 1
            key = f"{base}#{copy}"
        repeats += key != base
        used.add(key)
        keys.append(key)
    if repeats:
        warnings.append(
            f"{repeats} respondent id(s) in '{id_column.key}' repeat an earlier row; both rows are kept and "
            "the repeats get '#2', '#3'... keys."
        )
    if missing:
        warnings.append(
            f"{missing} row(s) have no respondent id in '{id_column.key}'; they are keyed by their row ('row-7')."
        )
    return keys


def _answer_frames(
    columns: list[_Column], kept: list[int], numbers: list[int], keys: list[str], warnings: list[str]
) -> dict[str, pd.DataFrame]:
    """The respondents, likert, texts and personal tables of the kept rows."""
    rows = list(zip(kept, keys))
    tally = _Tally()
    respondents = [_respondent(columns, index, number, key) for index, number, key in zip(kept, numbers, keys)]
    likert = [a for c in columns if c.kind == Q_LIKERT for a in _likert_answers(c, rows, tally)]
    texts = [a for c in columns if c.kind == Q_FREE_TEXT for a in _text_answers(c, rows, tally)]
    personal = [a for c in columns if c.kind in PERSONAL_QUESTION_KINDS for a in _personal_values(c, rows)]
    warnings.extend(tally.warnings())
    long = [RESPONDENT_KEY, QUESTION_KEY]
    people = [RESPONDENT_KEY, ROW_NUMBER, *_GROUP_COLUMNS.values(), ATTRIBUTES]
    return {
        "respondents": pd.DataFrame(respondents, columns=people),
        "likert": pd.DataFrame(likert, columns=[*long, LABEL, VALUE]).astype({VALUE: "float64"}),
        "texts": pd.DataFrame(texts, columns=[*long, TEXT]),
        "personal": pd.DataFrame(personal, columns=[*long, TEXT]),
    }


def _respondent(columns: list[_Column], index: int, number: int, key: str) -> dict[str, Any]:
    """One respondent: key, row, place/role/organisation and the other answers as attributes."""
    record: dict[str, Any] = {RESPONDENT_KEY: key, ROW_NUMBER: number}
    attributes: dict[str, Any] = {}
    for column in columns:
        value = column.values[index]
        if column.kind in _GROUP_COLUMNS:
            record[_GROUP_COLUMNS[column.kind]] = _as_text(value) if value is not None else None
        elif column.kind in _ATTRIBUTE_KINDS and value is not None:
            attributes[column.key] = _jsonable(value, numeric=column.kind == Q_NUMERIC)
    record[ATTRIBUTES] = attributes
    return record


def _likert_answers(column: _Column, rows: list[tuple[int, str]], tally: _Tally) -> list[dict[str, Any]]:
    """Each answer with its point on the column's scale (NaN off the scale)."""
    out = []
    for index, key in rows:
        if column.values[index] is None:
            continue
        label = _as_text(column.values[index])
        answer = _norm_label(label)
        point = column.points.get(answer)
        tally.off_scale[column.key] += point is None
        tally.respelled[column.key] += answer in column.fuzzy
        value = float(point) if point is not None else math.nan
        out.append({RESPONDENT_KEY: key, QUESTION_KEY: column.key, LABEL: label, VALUE: value})
    return out


def _text_answers(column: _Column, rows: list[tuple[int, str]], tally: _Tally) -> list[dict[str, Any]]:
    """Each non-empty free-text answer; blanks and placeholders ('-', 'n/a') are counted instead."""
    out = []
    for index, key in rows:
        value = column.values[index]
        text = _as_text(value) if value is not None else ""
        if not text:
            tally.blank_texts += 1
        elif text.casefold() in _TEXT_PLACEHOLDERS:
            tally.placeholder_texts += 1
        else:
            out.append({RESPONDENT_KEY: key, QUESTION_KEY: column.key, TEXT: text})
    return out


def _personal_values(column: _Column, rows: list[tuple[int, str]]) -> list[dict[str, Any]]:
    """Each value that identifies a person ('anonymous' and the like name nobody)."""
    out = []
    for index, key in rows:
        value = column.values[index]
        if value is not None and _as_text(value).casefold() not in _PERSONAL_PLACEHOLDERS:
            out.append({RESPONDENT_KEY: key, QUESTION_KEY: column.key, TEXT: _as_text(value)})
    return out


@dataclass
class _Tally:
    """Answers skipped or reinterpreted while the tables are built, for the warnings."""

    off_scale: Counter[str] = field(default_factory=Counter)
    respelled: Counter[str] = field(default_factory=Counter)
    blank_texts: int = 0
    placeholder_texts: int = 0

    def warnings(self) -> list[str]:
        out = []
        if self.off_scale.total():
            out.append(
                f"{self.off_scale.total()} Likert answer(s) are not on their question's scale ('Don't know', "
                f"'N/A' or an unknown label) and have value NaN: {_counted(self.off_scale)}."
            )
        if self.respelled.total():
            out.append(
                f"{self.respelled.total()} Likert answer(s) are misspelt scale labels and were read as the "
                f"nearest label: {_counted(self.respelled)}."
            )
        if self.blank_texts or self.placeholder_texts:
            out.append(
                f"free text: {self.blank_texts} blank and {self.placeholder_texts} placeholder ('-', 'n/a', 'na', "
                "'.') answer(s) were skipped."
            )
        return out


# --------------------------------------------------------------------------- small helpers
def _header_text(value: Any) -> str:
    """A header cell as one line of text, whitespace collapsed."""
    if value is None:
        return ""
    return " ".join(_as_text(value).split())


def _as_text(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _as_number(value: Any) -> int | float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        if _INTEGER.fullmatch(value):
            return int(value)
        if _DECIMAL.fullmatch(value):
            number = float(value)
            return int(number) if number.is_integer() and abs(number) < 2**53 else number
    return None


def _jsonable(value: Any, *, numeric: bool) -> Any:
    """A value for ``attributes``: str, int, float or bool (dates as ISO strings)."""
    if isinstance(value, (dt.date, dt.time)):
        return _as_text(value)
    if isinstance(value, dt.timedelta):
        return str(value)
    if numeric:
        number = _as_number(value)
        return number if number is not None else _as_text(value)
    if isinstance(value, (bool, int, float, str)):
        return value
    return _as_text(value)


def _looks_like_emails(values: list[Any]) -> bool:
    texts = [v for v in values if isinstance(v, str)]
    return bool(texts) and sum(bool(_EMAIL.fullmatch(t)) for t in texts) * 2 >= len(values)


def _squash(text: str) -> str:
    """Lower-case letters and digits only: 'Response ID' -> 'responseid'."""
    return re.sub(r"[^a-z0-9]", "", text.casefold())


def _words(text: str) -> str:
    """Lower-case words separated by single spaces: 'Qual_hobby opinions?' -> 'qual hobby opinions'."""
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.casefold()).split())


def _fold(text: str) -> str:
    """Case-folded, whitespace collapsed: how override names are compared."""
    return " ".join(text.casefold().split())


def _norm_label(text: str) -> str:
    """A scale label as compared: case-folded, straight apostrophes, no final full stop."""
    return " ".join(text.casefold().replace("\u2019", "'").replace("\u2018", "'").split()).rstrip(".").strip()


def _listing(items: Iterable[str], limit: int = 10) -> str:
    items = list(items)
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _found(columns: list[_Column]) -> str:
    return _listing([c.key for c in columns], _MAX_FOUND)


def _counted(counts: Counter[str]) -> str:
    return _listing([f"{key} ({n})" for key, n in counts.items() if n])
