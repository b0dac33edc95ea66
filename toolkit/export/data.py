"""Everything an export needs, read once from the store (pseudonymised data only), through the read model.

Exports never read raw files or the pseudonymisation key: only this snapshot of the store, so
nothing pseudonymisation removed can reach a spreadsheet, a REFI-QDA project or a report. The
snapshot's frames come from :mod:`toolkit.analysis` (the same functions :class:`toolkit.api.Study`
calls), and every number an exporter prints is computed there too: the workbook, the report and
the dashboard count and cite alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from toolkit import schema as s
from toolkit.analysis import cases as _cases
from toolkit.analysis import codings as _codings
from toolkit.analysis import memos as _memos
from toolkit.analysis import quotes as _quotes
from toolkit.analysis import remedies as _remedies
from toolkit.analysis import segments as _segments
from toolkit.analysis import surveys as _surveys
from toolkit.analysis.columns import BASE_COLUMNS, PARTICIPANT, REFERENCE, SOURCE_KIND
from toolkit.analysis.references import with_references


@dataclass(frozen=True)
class ExportData:
    """A snapshot of a study for exporting.

    Attributes
    ----------
    study_name : the study's name from ``study.toml``.
    sources : one row per source: ``source_id``, ``path``, ``place``, ``kind`` (transcript/survey),
        ``format``, ``participant_id``, ``organisation_type``, ``sector``, ``role``, ``interview_date``,
        ``text`` (pseudonymised plain text; None for surveys), ``content_hash``.
    segments : evidence segments with who and where (:data:`toolkit.analysis.columns.BASE_COLUMNS`):
        ``segment_key``, ``source_id``, ``path``, ``source_kind``, ``place``, ``organisation_type``,
        ``role``, ``participant_id``, ``respondent_key``, ``participant``, ``speaker``, ``question_text``,
        ``turn_id``, ``text_answer_id``, ``start_char``, ``end_char`` (into the source text, or into the
        answer text for survey segments), ``start_time``, ``reference`` (the one citation) and ``text``.
        A hand-made frame without ``participant``, ``source_kind`` or ``reference`` gets them computed.
    codings : the codings a reader should see (human decisions over machine ones), one row per
        (segment, theme): ``segment_key``, ``theme``, ``polarity``, ``confidence``, ``rank``,
        ``good_practice``, ``status`` (machine/accepted/recoded), ``coder``, ``reviewed_by``, ``evidence`` (dict).
    human_codings : every human decision (history included).
    codebook : the study's :class:`toolkit.codebook.Codebook`.
    likert : ``place``, ``organisation_type``, ``role``, ``respondent_key``, ``question_text``, ``label``,
        ``value`` and ``scale`` (the question's stored scale; optional).
    text_answers : ``text_answer_id``, ``source_id``, ``path``, ``place``, ``respondent_key``, ``question_text``, ``text``.
    runs : the store's run log.
    places : the study's own places (``study.toml``), listed first wherever places are rows.
    respondents : the store's ``respondents`` table (everyone who answered a survey); None when unknown.
    practices : researchers' latest good-practice curation per segment (the ``practices`` table).
    summaries : researchers' latest framework-matrix cell summaries.
    memo_table : every memo with what it is about (:func:`toolkit.analysis.memos.memo_view`).
    practice_table : curated practices and the machine's proposals
        (:func:`toolkit.analysis.practices.practice_table`).
    qa_samples, qa_items, assignments : quality-assurance samples and their items, double-coding assignments
        (read by :meth:`validation`).
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
    places: tuple[str, ...] = ()
    respondents: pd.DataFrame | None = None
    practices: pd.DataFrame = field(default_factory=pd.DataFrame)
    summaries: pd.DataFrame = field(default_factory=pd.DataFrame)
    memo_table: pd.DataFrame = field(default_factory=pd.DataFrame)
    practice_table: pd.DataFrame = field(default_factory=pd.DataFrame)
    qa_samples: pd.DataFrame = field(default_factory=pd.DataFrame)
    qa_items: pd.DataFrame = field(default_factory=pd.DataFrame)
    assignments: pd.DataFrame = field(default_factory=pd.DataFrame)

    def __post_init__(self) -> None:
        segments = self.segments
        if segments is not None and not all(c in segments.columns for c in (PARTICIPANT, SOURCE_KIND, REFERENCE)):
            object.__setattr__(self, "segments", with_references(segments))

    def coded_segments(self) -> pd.DataFrame:
        """Codings joined with their segments and who said them (one row per segment and theme), in reading order."""
        return _codings.coded_segments(self.codings, self.segments)

    def theme_names(self) -> dict[str, str]:
        """``theme id -> name`` in codebook order."""
        return {t.id: t.name for t in self.codebook.themes}

    def evidence(self) -> pd.DataFrame:
        """The segments with their primary coding and review status (as :meth:`toolkit.api.Study.segments`)."""
        return _segments.evidence_segments(self.segments, self.codings, self.human_codings, None,
                                           theme_names=self.theme_names())

    def coding_view(self) -> pd.DataFrame:
        """The codings with who said them (as :meth:`toolkit.api.Study.codings`)."""
        return _codings.coding_view(self.codings, self.segments, self.theme_names())

    def validation(self):
        """How much was reviewed, QA accuracy, agreement and limitations (as :meth:`toolkit.api.Study.validation`).

        Computed once per snapshot (the report asks for it in several sections).
        """
        from toolkit.analysis.validation import validation_summary

        if "_validation" not in self.__dict__:
            self.__dict__["_validation"] = validation_summary(
                segments=self.evidence(), codings=self.coding_view(), human=self.human_codings,
                qa_samples=self.qa_samples, qa_items=self.qa_items, assignments=self.assignments, runs=self.runs,
                themes=list(self.theme_names()), theme_names=self.theme_names())
        return self.__dict__["_validation"]

    def good_practice(self) -> pd.DataFrame:
        """The good-practice library, researchers' curation included (as :meth:`toolkit.api.Study.good_practice`)."""
        return _quotes.good_practice(self.coding_view(), self.evidence(), self.practices,
                                     theme_names=self.theme_names())

    # ------------------------------------------------------------------ framework analysis (issue 15)
    def cases(self) -> pd.DataFrame:
        """One row per case with its attributes (as :meth:`toolkit.api.Study.cases`)."""
        return _cases.case_table(self.sources, self.respondents)

    def theme_parents(self) -> dict[str, str | None]:
        """``theme id -> parent theme id`` (None for a top-level theme)."""
        return {t.id: getattr(t, "parent", None) for t in self.codebook.themes}

    def framework(self, rows: str = s.PLACE, *, total: str | None = None) -> pd.DataFrame:
        """The framework matrix (as :meth:`toolkit.api.Study.framework_matrix`)."""
        return _cases.study_framework(self.coding_view(), self.evidence(), self.cases(), rows=rows,
                                      places=self._places(), theme_names=self.theme_names(),
                                      summaries=self.summaries, parents=self.theme_parents(), total=total)

    def remedies(self) -> pd.DataFrame:
        """From barrier to remedy across places (as :meth:`toolkit.api.Study.barrier_remedies`)."""
        return _remedies.barrier_remedies(self.coding_view(), self.evidence(), self.practice_table,
                                          places=self._places(), theme_names=self.theme_names(),
                                          parents=self.theme_parents())

    @property
    def memos(self) -> pd.DataFrame:
        """Memos and curated practices as a REFI-QDA notes frame (what :func:`toolkit.exchange.refi.notes_from_export`
        picks up): memos on what they are about, practices as notes on their theme's code."""
        notes = _memos.memo_notes(self.memo_table)
        return pd.concat([notes, _practice_notes(self.practice_table)], ignore_index=True)

    def _places(self) -> list[str]:
        found = sorted(set(self.segments[s.PLACE].dropna().astype(str))) if not self.segments.empty else []
        return list(dict.fromkeys([*self.places, *found]))


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

    base = _segments.base_segments(store.segments_frame(evidence_only=True))
    human = store.table(s.HUMAN_CODINGS)
    codings = _codings.resolved_codings(store.table(s.CODINGS), human, parse_evidence=True)
    respondents = store.table(s.RESPONDENTS)
    questions = store.table(s.SURVEY_QUESTIONS)
    codebook = load_codebook(config.resolve(config.coding.codebook) if config.coding.codebook else None)
    memo_table, practice_table = _framework_tables(store, base, codings, human, codebook)
    return ExportData(
        study_name=config.name,
        sources=store.table(s.SOURCES),
        segments=base[BASE_COLUMNS].reset_index(drop=True),
        codings=codings,
        human_codings=human,
        codebook=codebook,
        likert=_surveys.likert_answers(store.table(s.LIKERT_ANSWERS), respondents, questions),
        text_answers=_answers(store, respondents, questions),
        runs=store.runs_frame(limit=1000),
        places=tuple(config.places or ()),
        respondents=respondents,
        practices=store.latest(s.PRACTICES, [s.SEGMENT_KEY]),
        summaries=store.latest(s.SUMMARIES, [s.ROW_DIMENSION, s.ROW_VALUE, s.THEME]),
        memo_table=memo_table,
        practice_table=practice_table,
        qa_samples=store.table(s.QA_SAMPLES),
        qa_items=store.table(s.QA_ITEMS),
        assignments=store.table(s.ASSIGNMENTS),
    )


def _framework_tables(store, base: pd.DataFrame, codings: pd.DataFrame, human: pd.DataFrame, codebook):
    """Issue 15: the memos (with what each is about) and the practices (curated and proposed) an export shows."""
    from toolkit.api_framework import practice_view

    names = {t.id: t.name for t in codebook.themes}
    view = _codings.coding_view(codings, base, names)
    evidence = _segments.evidence_segments(base, codings, human, None, theme_names=names)
    library = _quotes.good_practice(view, evidence, store.latest(s.PRACTICES, [s.SEGMENT_KEY]), theme_names=names,
                                    include_excluded=True)
    memo_table = _memos.memo_view(store.table(s.MEMOS), base, store.table(s.SOURCES), theme_names=names)
    practice_table = practice_view(store, library=library, segments=evidence, codings=view, theme_names=names)
    return memo_table, practice_table


def _practice_notes(practices: pd.DataFrame) -> pd.DataFrame:
    """Curated practices (not the machine's proposals) as notes on their theme's code, else on the project."""
    rows = []
    if practices is None or practices.empty:
        return pd.DataFrame(rows)
    for row in practices[practices["origin"] == "curated"].to_dict("records"):
        parts = [f"{label}: {row[key]}" for key, label in (
            (s.DESCRIPTION, "What it is"), (s.PLACE, "Where"), (s.WHO_RUNS, "Who runs it"),
            (s.EVIDENCE, "Evidence that it helped"), (s.TRANSFERABILITY, "Transferability"),
            (s.STATUS, "Review status")) if isinstance(row.get(key), str) and row[key].strip()]
        if row.get("references"):
            parts.append("Linked passages: " + "; ".join(row["references"]))
        theme = row.get(s.THEME) if isinstance(row.get(s.THEME), str) else None
        rows.append({s.TEXT: "\n".join(parts) or row[s.TITLE], s.AUTHOR: row.get(s.AUTHOR),
                     s.CREATED_AT: row.get(s.CREATED_AT), "target": "code" if theme else "project",
                     s.THEME: theme, s.TITLE: f"Practice: {row[s.TITLE]}", "note_id": f"practice-group:{row[s.GROUP_ID]}"})
    return pd.DataFrame(rows)


def _answers(store, respondents: pd.DataFrame, questions: pd.DataFrame) -> pd.DataFrame:
    answers = store.table(s.TEXT_ANSWERS)
    columns = [s.TEXT_ANSWER_ID, s.SOURCE_ID, s.PATH, s.PLACE, s.RESPONDENT_KEY, s.QUESTION_TEXT, s.TEXT]
    if answers.empty:
        return pd.DataFrame(columns=columns)
    frame = (
        answers.merge(respondents[[s.RESPONDENT_ID, s.RESPONDENT_KEY, s.PLACE]], on=s.RESPONDENT_ID)
        .merge(questions[[s.QUESTION_ID, s.QUESTION_TEXT]], on=s.QUESTION_ID)
        .merge(store.table(s.SOURCES)[[s.SOURCE_ID, s.PATH]], on=s.SOURCE_ID)
    )
    return frame[columns]
