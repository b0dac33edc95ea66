"""Everything an export needs, read once from the store (pseudonymised data only).

Exports never read raw files or the pseudonymisation key: only this snapshot of
the store, so nothing pseudonymisation removed can reach a spreadsheet, a
REFI-QDA project or a report.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pandas as pd

from toolkit import schema as s


@dataclass(frozen=True)
class ExportData:
    """A snapshot of a study for exporting.

    Attributes
    ----------
    study_name : the study's name from ``study.toml``.
    sources : one row per source: ``source_id``, ``path``, ``place``, ``kind`` (transcript/survey),
        ``format``, ``participant_id``, ``organisation_type``, ``sector``, ``role``, ``interview_date``,
        ``text`` (pseudonymised plain text; None for surveys), ``content_hash``.
    segments : evidence segments with metadata: ``segment_key``, ``source_id``, ``path``, ``place``,
        ``organisation_type``, ``role``, ``participant_id``, ``speaker``, ``respondent_key``,
        ``question_text``, ``text_answer_id``, ``start_char``, ``end_char`` (into the source text, or
        into the answer text for survey segments), ``text``.
    codings : the codings a reader should see (human decisions over machine ones), one row per
        (segment, theme): ``segment_key``, ``theme``, ``polarity``, ``confidence``, ``rank``,
        ``good_practice``, ``status`` (machine/accepted/recoded), ``coder``, ``reviewed_by``, ``evidence`` (dict).
    human_codings : every human decision (history included).
    codebook : the study's :class:`toolkit.codebook.Codebook`.
    likert : ``place``, ``organisation_type``, ``role``, ``respondent_key``, ``question_text``, ``label``, ``value``.
    text_answers : ``text_answer_id``, ``source_id``, ``path``, ``place``, ``respondent_key``, ``question_text``, ``text``.
    runs : the store's run log.
    """

    study_name: str
    sources: pd.DataFrame
    segments: pd.DataFrame
    codings: pd.DataFrame
    human_codings: pd.DataFrame
    codebook: object
    likert: pd.DataFrame
    text_answers: pd.DataFrame
    runs: pd.DataFrame

    def coded_segments(self) -> pd.DataFrame:
        """Codings joined with their segments and metadata (one row per segment and theme)."""
        if self.codings.empty:
            return self.codings.merge(self.segments, on=s.SEGMENT_KEY, how="inner")
        return self.codings.merge(self.segments, on=s.SEGMENT_KEY, how="inner").sort_values(
            [s.PATH, s.START_CHAR, s.RANK]
        )


def load_export_data(config, store) -> ExportData:
    """Read the snapshot an export works from.

    Examples
    --------
    >>> from toolkit.config import load_config
    >>> from toolkit.store import Store
    >>> config = load_config("interviews")  # doctest: +SKIP
    >>> data = load_export_data(config, Store(config.store_url))  # doctest: +SKIP
    """
    from toolkit.codebook import load_codebook
    from toolkit.coding import resolve_codings

    sources = store.table(s.SOURCES)
    segments = store.segments_frame(evidence_only=True)
    keep = [
        s.SEGMENT_KEY, s.SOURCE_ID, s.PATH, s.PLACE, s.ORGANISATION_TYPE, s.ROLE, s.PARTICIPANT_ID, s.SPEAKER,
        s.RESPONDENT_KEY, s.QUESTION_TEXT, s.TEXT_ANSWER_ID, s.START_CHAR, s.END_CHAR, s.TEXT,
    ]
    segments = segments[[c for c in keep if c in segments.columns]]
    machine = store.table(s.CODINGS)
    human = store.table(s.HUMAN_CODINGS)
    codings = resolve_codings(machine, human)
    if not codings.empty:
        codings[s.EVIDENCE] = codings[s.EVIDENCE].map(lambda e: json.loads(e) if isinstance(e, str) else (e or {}))
    codebook = load_codebook(config.resolve(config.coding.codebook) if config.coding.codebook else None)
    likert = _likert(store)
    answers = _answers(store)
    return ExportData(
        study_name=config.name,
        sources=sources,
        segments=segments,
        codings=codings,
        human_codings=human,
        codebook=codebook,
        likert=likert,
        text_answers=answers,
        runs=store.runs_frame(limit=1000),
    )


def _likert(store) -> pd.DataFrame:
    answers = store.table(s.LIKERT_ANSWERS)
    respondents = store.table(s.RESPONDENTS)
    questions = store.table(s.SURVEY_QUESTIONS)
    if answers.empty:
        return pd.DataFrame(
            columns=[s.PLACE, s.ORGANISATION_TYPE, s.ROLE, s.RESPONDENT_KEY, s.QUESTION_TEXT, s.LABEL, s.VALUE]
        )
    frame = answers.merge(respondents, on=[s.RESPONDENT_ID, s.SOURCE_ID]).merge(
        questions, on=[s.QUESTION_ID, s.SOURCE_ID]
    )
    return frame[[s.PLACE, s.ORGANISATION_TYPE, s.ROLE, s.RESPONDENT_KEY, s.QUESTION_TEXT, s.LABEL, s.VALUE]]


def _answers(store) -> pd.DataFrame:
    answers = store.table(s.TEXT_ANSWERS)
    columns = [s.TEXT_ANSWER_ID, s.SOURCE_ID, s.PATH, s.PLACE, s.RESPONDENT_KEY, s.QUESTION_TEXT, s.TEXT]
    if answers.empty:
        return pd.DataFrame(columns=columns)
    frame = (
        answers.merge(store.table(s.RESPONDENTS)[[s.RESPONDENT_ID, s.RESPONDENT_KEY, s.PLACE]], on=s.RESPONDENT_ID)
        .merge(store.table(s.SURVEY_QUESTIONS)[[s.QUESTION_ID, s.QUESTION_TEXT]], on=s.QUESTION_ID)
        .merge(store.table(s.SOURCES)[[s.SOURCE_ID, s.PATH]], on=s.SOURCE_ID)
    )
    return frame[columns]
