"""Step 3: give every column a kind (respondent id, place, role, Likert, free text...).

In order: ``[surveys]`` overrides in ``study.toml``; the header (ids, dates, vendor
bookkeeping, personal data, place/role/organisation wording); then the values (Likert
scales, emails, dates, numbers, free text or choices).
"""

from __future__ import annotations

import datetime as dt
import re
import statistics
from collections.abc import Sequence

from toolkit.config import SurveyOptions
from toolkit.ingest.surveys import likert
from toolkit.ingest.surveys.cells import (
    Column,
    Place,
    as_number,
    as_text,
    fold,
    found,
    listing,
    looks_like_emails,
    squash,
    words,
)
from toolkit.schema import (
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
)

ROW_ID = "row"
"""``surveys.id_column`` value that numbers respondents by their row ("row-7")."""

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
SINGLE_KINDS = (Q_RESPONDENT_ID, Q_PLACE, Q_ROLE, Q_ORGANISATION_TYPE)
"""Kinds that at most one column of a survey has."""

# Wording that asks for an open answer (lower-case words): always free text...
_OPEN_WORDING = re.compile(
    r"\b(please (explain|describe|specify|comment|tell|give|share|say|elaborate|provide|list)"
    r"|explain|describe|comments?|why|tell us|anything else|feedback|suggestions?|thoughts"
    r"|opinions?|rationale|free ?text|open ended|in your own words)\b"
)
# ...and wording that may: free text when the answers are mostly distinct.
_QUESTION_WORDING = re.compile(r"\b(what|how)\b")
_DATE_TEXT = re.compile(
    r"\d{4}-\d{2}-\d{2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?"
    r"|\d{1,2}[/.]\d{1,2}[/.]\d{2,4}( \d{1,2}:\d{2}(:\d{2})?( ?[AaPp][Mm])?)?"
)


def classify(columns: list[Column], options: SurveyOptions, place: Place, warnings: list[str]) -> None:
    """Give every column a kind: overrides, then header names, then values."""
    book = likert.scale_book()
    _apply_overrides(columns, options, place)
    taken = {c.kind for c in columns if c.kind in SINGLE_KINDS}
    for column in columns:
        if not column.kind:
            column.kind = _kind_from_header(column, taken, book)
    for column in columns:
        if not column.kind and looks_like_emails(column.filled):
            column.kind = Q_EMAIL
    if fold(options.id_column) != ROW_ID and not any(c.kind == Q_RESPONDENT_ID for c in columns):
        _id_by_content(columns, warnings)
    likert.assign_likert_labels(columns, book, place)
    empty = []
    for column in columns:
        if column.kind == Q_LIKERT and not column.scale:
            likert.assign_numeric_scale(column)  # named in surveys.likert_columns, answered in numbers
        elif not column.kind:
            column.kind = _kind_from_values(column, book)
            if column.kind == Q_IGNORED:
                empty.append(column.key)
    likert.share_numeric_scales(columns)
    guessed = [f"{c.key} (1-{len(c.scale)})" for c in columns if c.kind == Q_LIKERT and c.scale_guessed]
    if guessed:
        warnings.append(
            f"{len(guessed)} Likert question(s) answered in numbers do not say their scale, so its length was "
            f"taken as the smallest of 5, 7 or 10 that holds every answer: {listing(guessed)}. If a scale is "
            "longer, write it in the question ('... (1-7)') in the export, or check the percentages."
        )
    if empty:
        warnings.append(f"{len(empty)} column(s) have no answers at all and are ignored: {listing(empty)}.")


# Header words that may name a respondent id column whose exact name is not in _NAMED_KINDS
# ("Respondent", "Participant no.", "Case ref", "Record #").
_ID_WORDS = re.compile(
    r"\b(respondent|participant|interviewee|case|record|response|submission|entry|id|ref|reference|no|number|num"
    r"|serial|code|key|uid|uuid|token|identifier)\b"
)
_ID_CODE = re.compile(
    r"[A-Za-z]{0,8}[-_/.# ]?\d{1,10}[A-Za-z]?|R_[0-9A-Za-z]{6,}|[0-9A-Fa-f]{8}(-?[0-9A-Fa-f]{4}){3}-?[0-9A-Fa-f]{12}"
)


def _id_by_content(columns: list[Column], warnings: list[str]) -> None:
    """Take as the respondent id a column whose values identify rows, when no header names one.

    Under a header with an id word ('Respondent', 'Case ref') the values need only be
    unique short codes without spaces; any other column must be one of the first two,
    its values unique and all integers close to a sequence (1, 2, 3... with gaps) or
    codes of one shape (P01, P02..., R_abc123..., UUIDs), so a column of ages never is.
    """
    for column in columns:
        if column.kind or column.fixed:
            continue
        values = [as_text(v) for v in column.filled]
        if not values or len(set(values)) < len(values) or len(values) < len(column.values) * 0.9:
            continue
        hinted = bool(_ID_WORDS.search(words(f"{column.key} {column.text}")))
        short = all(len(v) <= 40 and " " not in v.strip() for v in values)
        if hinted and short and not looks_like_emails(column.filled):
            return _take_id(column, warnings, "its header names an id and its values are unique")
        if column.position > 2:
            continue
        numbers = [as_number(v) for v in column.filled]
        if all(isinstance(n, int) for n in numbers) and len(numbers) >= 2:
            if max(numbers) - min(numbers) + 1 <= 2 * len(numbers):
                return _take_id(column, warnings, "its values are unique whole numbers in sequence")
        elif all(_ID_CODE.fullmatch(v) for v in values) and len({re.sub(r"\d", "9", v) for v in values}) <= 3:
            return _take_id(column, warnings, "its values are unique codes of one shape")
    return None


def _take_id(column: Column, warnings: list[str], why: str) -> None:
    column.kind = Q_RESPONDENT_ID
    warnings.append(
        f"the respondent id is taken from '{column.key}' ({why}). Set surveys.id_column in study.toml to "
        "choose another column."
    )


def _apply_overrides(columns: list[Column], options: SurveyOptions, place: Place) -> None:
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
            if not name.strip() or (setting == "id_column" and fold(name) == ROW_ID):
                continue
            matches = [c for c in columns if fold(name) in {fold(n) for n in (c.key, c.text, *c.headers)}]
            if not matches:
                raise place.error(
                    f"surveys.{setting} names '{name}', but no column has that name. Found: {found(columns)}.",
                    f"Fix surveys.{setting} in study.toml: use a column name as it appears in any header row.",
                )
            for column in matches[:1] if kind in SINGLE_KINDS else matches:
                if not column.fixed:
                    personal_email = kind == Q_NAME and looks_like_emails(column.filled)
                    column.kind, column.fixed = (Q_EMAIL if personal_email else kind), True


def _kind_from_header(column: Column, taken: set[str], book: likert.ScaleBook) -> str:
    """The kind a column's header gives it, or '' to decide by its values."""
    names = {squash(n) for n in (column.key, column.text, *column.headers) if n}
    if _TEXT_IQ_KEY.fullmatch(fold(column.key)):
        return Q_IGNORED
    kind = next((k for k, known in _NAMED_KINDS if names & known), "")
    kind = kind or next((k for k, pattern in _NAME_PATTERNS if any(pattern.fullmatch(n) for n in names)), "")
    if not kind:
        wording = {words(column.text), words(column.key)}
        kind = next((k for k, pattern in _PHRASE_KINDS if any(pattern.search(w) for w in wording)), "")
    if kind in SINGLE_KINDS:
        if kind in taken or not _fits_single(column, kind, book):
            return ""
        taken.add(kind)
    return kind


def _fits_single(column: Column, kind: str, book: likert.ScaleBook) -> bool:
    """An id needs values that are not emails; place/role/organisation need short non-scale answers."""
    values = column.filled
    if kind == Q_RESPONDENT_ID:
        return bool(values) and not looks_like_emails(values)
    if not values:
        return True
    if all(as_number(v) is not None for v in values):
        return False  # codes or indicators, not names of places, roles or organisations
    texts = [as_text(v) for v in values]
    if statistics.median(len(t) for t in texts) > 60:
        return False
    return likert.best_fit(column, book, forced=False) is None


def _kind_from_values(column: Column, book: likert.ScaleBook) -> str:
    """Kind from the answers: dates, numbers (maybe a numeric Likert), free text or choices."""
    values = column.filled
    wording = words(column.text)
    open_ended = column.open_ended or bool(_OPEN_WORDING.search(wording))
    if not values:
        return Q_FREE_TEXT if open_ended or _QUESTION_WORDING.search(wording) else Q_IGNORED
    if all(isinstance(v, (dt.datetime, dt.date)) for v in values) or all(
        isinstance(v, str) and _DATE_TEXT.fullmatch(v) for v in values
    ):
        return Q_TIMESTAMP
    if all(isinstance(v, bool) for v in values):
        return Q_CHOICE
    numbers = [as_number(v) for v in values]
    if all(n is not None for n in numbers) and not column.open_ended:
        if likert.is_numeric_likert(column, numbers, book):
            likert.assign_numeric_scale(column)
            return Q_LIKERT
        return Q_NUMERIC
    hinted = bool(_QUESTION_WORDING.search(wording))
    return _text_kind([as_text(v) for v in values], open_ended=open_ended, hinted=hinted)


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
