"""Read survey exports into a :class:`~toolkit.schema.Survey`.

Handles Microsoft Forms, Qualtrics (three header rows, and legacy ``V1..V10``
exports), SurveyMonkey (two header rows), Google Forms and plain researcher sheets,
saved as ``.xlsx`` or ``.csv``. Reading goes in four pure steps, one module each:

1. :mod:`.read` -- the file's bytes into a grid of cells (``.xlsx`` through openpyxl,
   cached formula values; ``.csv`` in any encoding through :mod:`csv`);
2. :mod:`.layout` -- the header rows and the vendor; one column per question, with a
   unique key and its full wording;
3. :mod:`.classify` -- every column's kind: ``[surveys]`` overrides first, then its
   header, then its values (:mod:`.likert` scales from ``likert_scales.toml``,
   numbers, free text, choices);
4. :mod:`.answers` -- the long tables of answers, counting in ``Survey.warnings``
   everything that was skipped.

:mod:`.cells` holds what the steps pass on. Answer text is never logged.
"""

from __future__ import annotations

import logging
from pathlib import Path

from toolkit.config import SurveyOptions
from toolkit.ingest.limits import LIMITS, Limits
from toolkit.ingest.surveys import answers, classify, layout, read
from toolkit.ingest.surveys.cells import Place
from toolkit.ingest.surveys.classify import ROW_ID
from toolkit.ingest.surveys.layout import GENERIC, GOOGLE_FORMS, MICROSOFT_FORMS, QUALTRICS, SURVEYMONKEY, VENDORS
from toolkit.ingest.surveys.likert import SCALES_FILE, load_scales
from toolkit.schema import Survey, SurveyQuestion

__all__ = [
    "GENERIC",
    "GOOGLE_FORMS",
    "MICROSOFT_FORMS",
    "QUALTRICS",
    "ROW_ID",
    "SCALES_FILE",
    "SURVEYMONKEY",
    "VENDORS",
    "load_scales",
    "read_survey",
]

logger = logging.getLogger(__name__)


def read_survey(path: str | Path, *, options: SurveyOptions | None = None, limits: Limits = LIMITS) -> Survey:
    """Read a survey export (``.xlsx`` or ``.csv``) into questions and long tables.

    Parameters
    ----------
    path : the export: Microsoft Forms, Qualtrics, SurveyMonkey, Google Forms or a
        plain sheet with one header row and one row per respondent.
    options : ``[surveys]`` settings of ``study.toml``: sheet, header rows and
        column overrides. ``None`` means detect everything.
    limits : size limits (default :data:`toolkit.ingest.limits.LIMITS`).

    Returns
    -------
    Survey
        Its questions (one per column, classified), ``respondents``, ``likert``,
        ``texts`` and ``personal`` tables, and ``warnings`` that count what was
        skipped or guessed.

    Raises
    ------
    InputDataError
        The file is empty, damaged, encrypted, past a size limit, has no responses,
        or an override names a column or sheet that does not exist. A survey without
        a respondent id is not refused: its respondents are numbered by row.

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
    file_format = read.file_format(path)
    sheet = read.read_sheet(path, file_format, options.sheet, limits=limits)
    place = Place(path, sheet.name)
    warnings = list(sheet.warnings)

    vendor, header, body, first_number = layout.split_header(sheet.rows, options.header_rows, place)
    if file_format == "csv":
        layout.check_ragged(header, body, first_number, place)
    columns = layout.build_columns(header, body, vendor, warnings)
    classify.classify(columns, options, place, warnings)
    kept, numbers = answers.kept_rows(columns, len(body), first_number, warnings)
    if not kept:
        raise place.error(
            "has no answers: every row after the header is blank or holds only ids, dates and bookkeeping columns.",
            "Check that this is the responses sheet, or set surveys.header_rows if the header is taller.",
        )
    keys = answers.respondent_keys(columns, kept, numbers, options, warnings)
    frames = answers.answer_frames(columns, kept, numbers, keys, warnings)

    questions = tuple(
        SurveyQuestion(key=c.key, text=c.text, kind=c.kind, position=c.position, scale=c.scale) for c in columns
    )
    # counts only: a file or sheet name may name a person, and the warnings are shown once pseudonymised
    logger.info("Read a survey (%s): %d questions, %d respondents, %d warnings", vendor, len(questions), len(keys),
                len(warnings))
    return Survey(
        path=path,
        format=file_format,
        vendor=vendor,
        questions=questions,
        sheet=sheet.name,
        warnings=tuple(warnings),
        **frames,
    )
