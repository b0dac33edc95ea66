"""The toolkit's public Python API: what notebooks and the dashboard read and write through.

Open a study folder, then ask it for tidy DataFrames whose column names come from
:mod:`toolkit.schema` and :mod:`toolkit.analysis.columns`. :class:`Study` is a thin facade: it
reads the store and hands the frames to :mod:`toolkit.analysis`, the one read model, which the
exports and ``toolkit status`` use too, so every front door counts and cites alike. Every number
can be traced back to the segments behind it (``segment_keys`` columns, :meth:`Study.quotes`,
:meth:`Study.context`).

>>> from toolkit.api import open_study
>>> study = open_study("interviews")  # doctest: +SKIP
>>> study.framework_matrix(rows="place").head()  # doctest: +SKIP
>>> study.quotes(place="Brackenford", theme="trust_relationships", polarity="barrier")  # doctest: +SKIP

The study folder is always given: :func:`open_study` never falls back to the sample study.
Notebooks that want ``$TOOLKIT_STUDY`` ask for it explicitly with :func:`study_from_env`.
Reading never loads a language model; only :meth:`Study.run` does. An empty or half-built store
gives empty frames with the right columns, never an error. Options that are easy to swap are
keyword-only (``framework_matrix(rows=...)``, ``quotes(place=..., theme=...)``). Human decisions
are appended (never updated), so several researchers can review at once; the latest wins.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from toolkit import schema as s
from toolkit.analysis import codings as _codings
from toolkit.analysis import matrix as _matrix
from toolkit.analysis import overview as _overview
from toolkit.analysis import quotes as _quotes
from toolkit.analysis import segments as _segments
from toolkit.analysis import surveys as _surveys
from toolkit.analysis import topics as _topics
from toolkit.analysis._frames import check_option
from toolkit.analysis._frames import empty as _empty
from toolkit.analysis._frames import values as _values
from toolkit.analysis.columns import (  # noqa: F401 - the API's column names, re-exported
    CODING_COLUMNS,
    CODING_STATUSES,
    COMMENT_COLUMNS,
    CONTEXT_COLUMNS,
    COUNT_BY,
    DECISION_COLUMNS,
    DISTRIBUTION_BY,
    INTERVIEWEES,
    IS_SEGMENT,
    LIKERT_COLUMNS,
    NO_VALUE,
    ORIGIN,
    PARTICIPANT,
    PARTICIPANTS,
    PRACTICE_COLUMNS,
    REFERENCE,
    REJECTED,
    REVIEW_STATUS,
    REVIEW_STATUSES,
    REVIEWED,
    REVIEWED_AT,
    REVIEWED_BY,
    ROW_DIMENSIONS,
    SEGMENT_COLUMNS,
    SEGMENT_KEYS,
    SEGMENTS_COL,
    SHARE,
    SOURCE_KIND,
    SUMMARY_COLUMNS,
    SURVEY_RESPONDENTS,
    TEXT_ANSWER_COLUMNS,
    THEME_NAME,
    TOPIC_COLUMNS,
    UNCODED,
    UNIT,
    UNREVIEWED,
)
from toolkit.analysis.matrix import matrix_cells
from toolkit.analysis.overview import CorpusCounts
from toolkit.analysis.quotes import filter_quotes
from toolkit.api_framework import FrameworkAnalysis
from toolkit.api_writes import StudyWrites
from toolkit.errors import ConfigError, InputDataError

if TYPE_CHECKING:  # only for type hints
    from toolkit.codebook import Codebook
    from toolkit.config import StudyConfig
    from toolkit.store import Store

log = logging.getLogger(__name__)

__all__ = ["STUDY_ENV", "Study", "StudyStatus", "filter_quotes", "matrix_cells", "open_study", "study_from_env"]

STUDY_ENV = "TOOLKIT_STUDY"
"""The environment variable :func:`study_from_env` reads (the dashboard and the notebook tests set it)."""

# Tables whose change tokens make the store's change stamp (every table a read shows; not the embedding cache).
_STAMP_TABLES = (
    s.SOURCES, s.TURNS, s.SURVEY_QUESTIONS, s.RESPONDENTS, s.LIKERT_ANSWERS, s.TEXT_ANSWERS, s.SEGMENTS, s.CODINGS,
    s.HUMAN_CODINGS, s.TOPICS, s.SEGMENT_TOPICS, s.TOPIC_EDITS, s.SUMMARIES, s.PRACTICES, s.COMMENTS, s.RUNS,
    s.QA_SAMPLES, s.QA_ITEMS, s.ASSIGNMENTS, s.MEMOS, s.PRACTICE_GROUPS,
)
_SEGMENTED = (s.SOURCES, s.TURNS, s.SURVEY_QUESTIONS, s.RESPONDENTS, s.LIKERT_ANSWERS, s.TEXT_ANSWERS, s.SEGMENTS)
"""The stamp parts that change when the study is ingested or segmented again."""


# --------------------------------------------------------------------------- opening a study
def open_study(path: str | Path) -> Study:
    """Open a study folder (or its ``study.toml``) and its project store.

    The folder is required: forgetting it is an error, never a silent switch to the sample
    study. Nothing is computed and no model is loaded: frames are read when asked for.

    Raises
    ------
    ConfigError
        No folder was given, it does not exist, or its ``study.toml`` is not valid.

    Examples
    --------
    >>> study = open_study("interviews")  # doctest: +SKIP
    >>> study.places  # doctest: +SKIP
    ['Brackenford', 'Fernmouth', 'Hollowmere']
    >>> study = open_study(study_from_env(default="interviews"))  # doctest: +SKIP
    """
    from toolkit.config import load_config
    from toolkit.store import Store

    if path is None or not str(path).strip():
        raise ConfigError(
            "open_study() needs the study folder, e.g. open_study('interviews'). To use the folder named by "
            f"${STUDY_ENV}, pass it on: open_study(study_from_env())."
        )
    config = load_config(path)
    return Study(config, Store(config.store_url))


def study_from_env(default: str | Path | None = None) -> Path:
    """The study folder named by ``$TOOLKIT_STUDY``, else ``default``; an error when neither is set.

    For notebooks and scripts that run on whichever study the environment names (the test suite
    points ``TOOLKIT_STUDY`` at a built copy of the sample study) while saying so in their code.

    Examples
    --------
    >>> study = open_study(study_from_env(default=REPO / "interviews"))  # doctest: +SKIP
    """
    named = os.environ.get(STUDY_ENV, "").strip()
    if named:
        return Path(named).expanduser()
    if default is not None:
        return Path(default)
    raise ConfigError(f"${STUDY_ENV} is not set and no default study was given. Set {STUDY_ENV}=/path/to/study "
                      "or pass default='interviews'.")


@dataclass
class StudyStatus:
    """What a study's store holds and what to run next.

    Attributes
    ----------
    counts : row count per table.
    places : per place: interviews, interviewees, surveys, survey respondents, segments, coded, reviewed.
    runs : the latest runs (newest first).
    next_step : one sentence saying what to do next (``None`` when everything is done).
    next_command : the command line for it (``None`` when it is not a command).
    corpus : the study's size, counted by :func:`toolkit.analysis.overview.corpus_counts`.
    anchors : per kind of human work (decision, practice, comment): attached, moved, orphaned.
    orphaned : how many pieces of human work could not be re-attached (:meth:`Study.orphaned_work`).
    """

    counts: dict[str, int]
    places: pd.DataFrame
    runs: pd.DataFrame
    next_step: str | None = None
    next_command: str | None = None
    unreviewed: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
    corpus: CorpusCounts = field(default_factory=CorpusCounts)
    anchors: pd.DataFrame = field(default_factory=pd.DataFrame)
    orphaned: int = 0


class Study(StudyWrites, FrameworkAnalysis):
    """A study: its configuration, project store and codebook, read as DataFrames.

    Open one with :func:`open_study`. Each read takes frames from the store and computes its
    numbers with :mod:`toolkit.analysis`. Reads are memoised per store state: a new decision,
    summary or run changes :meth:`stamp` and the next read sees it; frames handed out are copies.

    Examples
    --------
    >>> study = open_study("interviews")  # doctest: +SKIP
    >>> study.segments().columns[:3].tolist()  # doctest: +SKIP
    ['segment_key', 'source_id', 'path']
    """

    def __init__(self, config: StudyConfig, store: Store, *, memo: dict[str, tuple[str, Any]] | None = None):
        self.config = config
        self.store = store
        self._codebook: Codebook | None = None
        # frames built from the store, under the store's stamp when built; ``memo`` shares them with another
        # Study of the same store (the dashboard's read and write models), so each is built once per process
        self._memo: dict[str, tuple[str, Any]] = {} if memo is None else memo

    # ------------------------------------------------------------------ basics
    @property
    def name(self) -> str:
        """The study's name from ``study.toml``."""
        return self.config.name

    @property
    def root(self) -> Path:
        """The study folder."""
        return self.config.root

    @property
    def places(self) -> list[str]:
        """Places of the study: from ``study.toml``, else those found in the store."""
        if self.config.places:
            return list(self.config.places)
        return sorted(set(self.sources()[s.PLACE].dropna().astype(str)))

    @property
    def codebook(self) -> Codebook:
        """The study's codebook (``coding.codebook`` in ``study.toml``, else the toolkit's default)."""
        if self._codebook is None:
            from toolkit.codebook import load_codebook

            path = self.config.resolve(self.config.coding.codebook) if self.config.coding.codebook else None
            self._codebook = load_codebook(path, check_patterns=False)  # no spaCy import on page render
        return self._codebook

    def theme_names(self) -> dict[str, str]:
        """``theme id -> readable name`` in codebook order."""
        return {t.id: t.name for t in self.codebook.themes}

    def stamp(self) -> str:
        """A short string that changes whenever the store's content changes (for caches).

        Made of the store's change tokens (:mod:`toolkit.store.changes`): one indexed query on a
        few rows of ``store_info``, renewed by every committed write, in-place updates included.
        """
        import hashlib

        parts = "|".join(f"{k}={v}" for k, v in self._stamp_parts().items())
        return hashlib.blake2b(parts.encode(), digest_size=8).hexdigest()

    def _stamp_parts(self) -> dict[str, Any]:
        changed = self.store.changes()
        parts = {name: changed.get(name, "-") for name in _STAMP_TABLES}
        parts["finished"] = parts[s.RUNS]  # older names of two parts, kept for callers' ``on=``
        parts["decided"] = parts[s.HUMAN_CODINGS]
        return parts

    def _cached(self, name: str, build, on: Sequence[str] | None = None) -> Any:
        """Memoise ``build()`` until the store changes (``on``: only these parts of the stamp matter).

        The stamp is read before ``build()`` reads the store, so what is kept is never older than
        the stamp it is kept under: a write in between only costs one more build.
        """
        parts = self._stamp_parts()
        stamp = "|".join(str(parts.get(k, "-")) for k in (on or parts))
        hit = self._memo.get(name)
        if hit is not None and hit[0] == stamp:
            return hit[1]
        value = build()
        self._memo[name] = (stamp, value)
        return value

    def _table(self, name: str, on: Sequence[str] | None = None) -> pd.DataFrame:
        """A store table, memoised (callers never modify it)."""
        return self._cached(f"table:{name}", lambda: self.store.table(name), on=on)

    # ------------------------------------------------------------------ sources and segments
    def sources(self) -> pd.DataFrame:
        """One row per source (transcript or survey), without its text."""
        return self._cached("sources", self.store.sources_frame, on=_SEGMENTED).copy()

    def _base(self) -> pd.DataFrame:
        """Segments with who said them and their citation: changes only when the study is re-segmented."""
        return self._cached("base", lambda: _segments.base_segments(self.store.segments_frame(evidence_only=True)),
                            on=_SEGMENTED)

    def _resolved(self) -> pd.DataFrame:
        return self._cached("resolved", lambda: _codings.resolved_codings(self._table(s.CODINGS),
                                                                          self._table(s.HUMAN_CODINGS)))

    def segments(self) -> pd.DataFrame:
        """Evidence segments with who said them, their resolved primary coding, topic and review status.

        One row per segment (:data:`SEGMENT_COLUMNS`). ``status`` is the primary coding's status:
        ``machine``, ``accepted``, ``recoded``, ``rejected`` (a person took the coding away) or
        ``uncoded``; ``review_status`` is ``reviewed`` once anyone decided; ``reference`` is the
        segment's citation (the same in the workbook and the report).

        Examples
        --------
        >>> study.segments().query("status == 'uncoded'").shape[0]  # doctest: +SKIP
        """
        def build() -> pd.DataFrame:
            topics = _segments.segment_topics(self._table(s.SEGMENT_TOPICS), self._table(s.TOPICS))
            return _segments.evidence_segments(self._base(), self._resolved(), self._table(s.HUMAN_CODINGS), topics,
                                               theme_names=self.theme_names())

        return self._cached("segments", build).copy()

    def codings(self) -> pd.DataFrame:
        """The codings a reader should see: human decisions over machine ones, one row per segment × theme.

        Rejected codings are gone; each row carries its segment's place, organisation type, role,
        participant and source kind (:data:`CODING_COLUMNS`).
        """
        return self._cached("codings", lambda: _codings.coding_view(self._resolved(), self._base(),
                                                                    self.theme_names())).copy()

    def quotes(self, *, place: str | Sequence[str] | None = None, organisation_type: str | Sequence[str] | None = None,
               role: str | Sequence[str] | None = None, theme: str | Sequence[str] | None = None,
               polarity: str | Sequence[str] | None = None, topic: int | Sequence[int] | None = None,
               source: str | Sequence[str] | None = None, status: str | Sequence[str] | None = None,
               search: str | None = None) -> pd.DataFrame:
        """Segments narrowed by any of the filters (each a value or a list; keyword-only).

        ``theme`` matches any of a segment's codings (not only the primary one) and must be a
        codebook theme; ``source`` is a source path; ``status`` a coding status (machine, accepted,
        recoded, rejected, uncoded) or a review status (reviewed, unreviewed); ``search`` is
        case-insensitive text. See :func:`toolkit.analysis.quotes.filter_quotes`.

        Examples
        --------
        >>> study.quotes(place="Fernmouth", polarity="barrier", search="consent")  # doctest: +SKIP
        """
        for wanted in _values(theme):
            self.codebook.theme(wanted)  # an unknown theme is an error that suggests the right one
        return filter_quotes(self.segments(), self.codings(), place=place, organisation_type=organisation_type,
                             role=role, theme=theme, polarity=polarity, topic=topic, source=source, status=status,
                             search=search)

    def segment(self, segment_key: str) -> dict[str, Any]:
        """One segment as a dict (see :meth:`segments`); raises ``InputDataError`` for an unknown key."""
        segments = self.segments()
        hit = segments[segments[s.SEGMENT_KEY] == segment_key]
        if hit.empty:
            raise InputDataError(
                self._store_name(), f"no evidence segment with key '{segment_key}'.",
                "Copy the key from study.segments() or the dashboard; keys change only when the study is re-segmented.",
            )
        return hit.iloc[0].to_dict()

    def segments_by_keys(self, keys: Sequence[str]) -> pd.DataFrame:
        """The segments behind a number (a ``segment_keys`` cell), in the order given."""
        return _segments.by_keys(self.segments(), list(keys))

    def context(self, segment_key: str, *, window: int = 2) -> pd.DataFrame:
        """The turns around a segment: ``window`` turns before and after, its own turn marked (``is_segment``).

        For a survey answer, the one answer. Columns: :data:`CONTEXT_COLUMNS`.

        Examples
        --------
        >>> study.context("2c0c2c8f415e7260", window=1)  # doctest: +SKIP
        """
        return _segments.context(self.segment(segment_key), self._table(s.TURNS, on=_SEGMENTED), window=window)

    def reference(self, segment_key: str) -> str:
        """The citation of a segment (:func:`toolkit.analysis.references.reference`), as every output prints it.

        Examples
        --------
        >>> study.reference("2c0c2c8f415e7260")  # doctest: +SKIP
        'BK01, Brackenford, Local authority (Programme lead), interview BK01_programme_lead.docx, characters 400-508'
        """
        return str(self.segment(segment_key)[REFERENCE])

    # ------------------------------------------------------------------ counts
    def framework_matrix(self, *, rows: str = s.PLACE, roll_up: bool = False, cases: dict | None = None,
                         total: str | None = None) -> pd.DataFrame:
        """The framework matrix, long: one row per (row value, theme or sub-theme), zero cells included.

        ``rows`` is ``place``, ``organisation_type``, ``participant`` (cases: every interviewee, in order),
        ``role``, ``sector`` or one of the study's case attributes (:meth:`row_dimensions`). Columns:
        ``<rows>``, ``theme``, ``theme_name``, ``participants``, ``interviewees``, ``survey_respondents``
        (distinct people with a coding of the theme, together and apart), ``barrier``, ``enabler``,
        ``neutral`` (segments), ``summary`` (the latest researcher summary), ``segment_keys``, ``parent``
        (a sub-theme's theme), ``references`` (where each segment is), ``summary_author`` and
        ``summary_at``. ``roll_up`` counts sub-themes' codings in their theme's cells; ``cases`` keeps
        the cases whose attributes match (``{"setting": "rural"}``). See
        :func:`toolkit.analysis.matrix.framework_matrix`; :func:`matrix_cells` gives a wide table.

        Examples
        --------
        >>> m = study.framework_matrix(rows="place")  # doctest: +SKIP
        >>> study.framework_matrix(rows="participant", cases={"place": "Fernmouth"})  # doctest: +SKIP
        """
        return self._framework(rows=rows, roll_up=roll_up, cases=cases, total=total)

    def theme_counts(self, *, by: str = s.PLACE) -> pd.DataFrame:
        """Segments and people per ``by`` value (:data:`COUNT_BY`), theme and polarity (resolved codings)."""
        return _matrix.theme_counts(self.codings(), by=by, themes=list(self.theme_names()),
                                    theme_names=self.theme_names())

    def cooccurrence(self, *, unit: str = "segment") -> pd.DataFrame:
        """Theme × theme: how many segments (``unit="segment"``) or participants are coded with both themes."""
        return _matrix.cooccurrence(self.codings(), unit=unit, themes=list(self.theme_names()))

    def cooccurring_segments(self, theme_a: str, theme_b: str) -> list[str]:
        """The segment keys coded with both themes (the segments behind a co-occurrence cell)."""
        return _matrix.cooccurring_segments(self.codings(), theme_a, theme_b)

    def cooccurring_participants(self, theme_a: str, theme_b: str) -> list[str]:
        """The participants with codings of both themes (possibly in different segments)."""
        return _matrix.cooccurring_participants(self.codings(), theme_a, theme_b)

    def _work(self) -> dict[str, pd.DataFrame]:
        return {name: self._table(name) for name in (s.HUMAN_CODINGS, s.PRACTICES, s.COMMENTS)}

    def orphaned_work(self) -> pd.DataFrame:
        """Human work (decisions, curated practices, comments) whose passage is no longer in the study.

        Kept in the store and listed here, never dropped: re-code the passage where it went, or
        restore the source. Columns: ``work``, ``segment_key`` (the old key), ``by``, ``created_at``,
        ``anchor_text`` (the passage as it was).
        """
        return _overview.orphaned_work(self._work())

    def corpus(self) -> CorpusCounts:
        """The study's size: places, interviews, interviewees, survey respondents, segments, codings, reviews."""
        return _overview.corpus_counts(sources=self.sources(), segments=self.segments(), codings=self._resolved(),
                                       respondents=self._table(s.RESPONDENTS, on=_SEGMENTED), likert=self.likert(),
                                       places=self.config.places)

    # ------------------------------------------------------------------ surveys
    def likert(self) -> pd.DataFrame:
        """Every agreement-scale answer with the respondent's place, organisation type, role and the stored scale."""
        return self._cached("likert", lambda: _surveys.likert_answers(
            self.store.table(s.LIKERT_ANSWERS), self.store.table(s.RESPONDENTS),
            self.store.table(s.SURVEY_QUESTIONS)), on=_SEGMENTED).copy()

    def likert_percentages(self) -> pd.DataFrame:
        """Per question and place: % Disagree, Neutral, Agree on the question's stored scale, and the answers counted.

        See :func:`toolkit.analysis.surveys.likert_percentages` (the report's and the workbook's numbers).
        """
        return _surveys.likert_percentages(self.likert())

    def text_answers(self) -> pd.DataFrame:
        """Free-text survey answers coded by theme: one row per answer segment (before coding, per answer)."""
        return _segments.text_answers(self.segments(), self._table(s.TEXT_ANSWERS, on=_SEGMENTED),
                                      self._table(s.RESPONDENTS, on=_SEGMENTED),
                                      self._table(s.SURVEY_QUESTIONS, on=_SEGMENTED))

    # ------------------------------------------------------------------ topics
    def topics(self) -> pd.DataFrame:
        """The topic model's topics (``keywords`` and ``representative`` as lists), outliers (-1) included."""
        return self._cached("topics", lambda: _topics.topics_frame(self.store.table(s.TOPICS))).copy()

    def topic_distribution(self, *, by: str = s.PLACE) -> pd.DataFrame:
        """Segments per ``by`` value (:data:`DISTRIBUTION_BY`) and topic, with each topic's share."""
        return _topics.topic_distribution(self.segments(), by=by)

    def candidate_themes(self) -> pd.DataFrame:
        """Candidate new themes, each with its evidence (see :func:`toolkit.analysis.topics.candidate_themes`)."""
        return _topics.candidate_themes(self.topics(), self.theme_names())

    def place_view(self, *, by: str = s.PLACE) -> pd.DataFrame:
        """Topics and keyphrases distinctive of each place, with passages (:func:`toolkit.analysis.topics.place_view`)."""
        return _topics.place_view(self.segments(), self._table(s.SEGMENT_TOPICS), self.topics(), by=by)

    def topic_relations(self) -> pd.Series:
        """How each topic stands to the codebook, in words, indexed by topic (restates, candidate, near)."""
        topics = self.topics()
        names = self.theme_names()
        return pd.Series([_topics.relation_to_codebook(r, names) for r in topics.to_dict("records")],
                         index=topics[s.TOPIC], dtype=object)

    # ------------------------------------------------------------------ review
    def review_queue(self, *, status: str = UNREVIEWED, theme: str | None = None,
                     place: str | None = None) -> pd.DataFrame:
        """Segments to review, in reading order: ``unreviewed`` (default), ``reviewed`` or ``all``."""
        check_option(status, (*REVIEW_STATUSES, "all"), "review_queue(status=...) is")
        return self.quotes(place=place, theme=theme, status=None if status == "all" else status)

    def review_session(self):
        """The review loop of this study: a queue that learns from every decision (loads the coder's models).

        See :class:`toolkit.review.queue.ReviewSession`; keep one per process (it holds the refitted coder).
        """
        from toolkit.review.queue import ReviewSession

        return ReviewSession(self)

    def validation(self):
        """How much was reviewed and by whom, QA-sample accuracy with intervals, agreement, limitations.

        See :func:`toolkit.analysis.validation.validation_summary` (the report, workbook and Overview print it).
        """
        from toolkit.analysis.validation import validation_summary

        return self._cached("validation", lambda: validation_summary(
            segments=self.segments(), codings=self.codings(), human=self._table(s.HUMAN_CODINGS),
            qa_samples=self.store.table(s.QA_SAMPLES), qa_items=self.store.table(s.QA_ITEMS),
            assignments=self.store.table(s.ASSIGNMENTS), runs=self.store.runs_frame(limit=1000),
            themes=list(self.theme_names()), theme_names=self.theme_names()))

    def decisions(self, segment_key: str | None = None) -> pd.DataFrame:
        """Every human decision, oldest first (the history: who decided what, and when)."""
        return _codings.decision_history(self._table(s.HUMAN_CODINGS), segment_key)

    def review_progress(self) -> pd.DataFrame:
        """Reviewed and unreviewed evidence segments: all, then per primary theme."""
        return _overview.review_progress(self.segments())

    # ------------------------------------------------------------------ curation and notes
    def good_practice(self, *, include_excluded: bool = False) -> pd.DataFrame:
        """The good-practice library: enabler segments flagged as good practice, plus researchers' curation."""
        return _quotes.good_practice(self.codings(), self.segments(), self.store.latest(s.PRACTICES, [s.SEGMENT_KEY]),
                                     theme_names=self.theme_names(), include_excluded=include_excluded)

    def summaries(self) -> pd.DataFrame:
        """The latest summary of every framework-matrix cell."""
        latest = self.store.latest(s.SUMMARIES, [s.ROW_DIMENSION, s.ROW_VALUE, s.THEME])
        return _empty(SUMMARY_COLUMNS) if latest.empty else latest[SUMMARY_COLUMNS]

    def comments(self, *, segment_key: str | None = None, theme: str | None = None) -> pd.DataFrame:
        """Comments, oldest first, optionally those on one segment or theme."""
        frame = self.store.table(s.COMMENTS)
        if frame.empty:
            return _empty(COMMENT_COLUMNS)
        if segment_key is not None:
            frame = frame[frame[s.SEGMENT_KEY] == segment_key]
        if theme is not None:
            frame = frame[frame[s.THEME] == theme]
        return frame.sort_values([s.CREATED_AT, s.COMMENT_ID])[COMMENT_COLUMNS].reset_index(drop=True)

    # ------------------------------------------------------------------ status and agreement
    def status(self) -> StudyStatus:
        """What the store holds, the study's size, the latest runs, and what to run next.

        Examples
        --------
        >>> study.status().next_command  # doctest: +SKIP
        'toolkit topics interviews'
        """
        counts = self.store.counts()
        root = self._cli_path()
        segments = self.segments()
        places = _overview.places_table(self.sources(), self._table(s.RESPONDENTS, on=_SEGMENTED), segments,
                                        places=self.config.places)
        anchors = _overview.anchor_states(self._work())
        status = StudyStatus(counts=counts, places=places, runs=self.store.runs_frame(limit=10), corpus=self.corpus(),
                             anchors=anchors, orphaned=int(anchors[s.ANCHOR_STATES[-1]].sum()))
        status.unreviewed = int((segments[REVIEW_STATUS] == UNREVIEWED).sum()) if not segments.empty else 0
        if counts.get(s.SOURCES, 0) == 0:
            status.next_step = "No sources yet: ingest the study's transcripts and surveys."
            status.next_command = f"toolkit ingest {root}"
        elif counts.get(s.SEGMENTS, 0) == 0:
            status.next_step = "Nothing is coded yet: segment and code the study."
            status.next_command = f"toolkit code {root}"
        elif counts.get(s.TOPICS, 0) == 0:
            status.next_step = "No topics yet: run the topic model."
            status.next_command = f"toolkit topics {root}"
        elif status.orphaned:
            status.next_step = (f"{status.orphaned} piece(s) of human work (decisions, practices, comments) could not "
                                "be re-attached after the sources changed; study.orphaned_work() lists them.")
        elif status.unreviewed:
            status.next_step = f"{status.unreviewed} coded segments are not reviewed yet: review them."
        return status

    def agreement(self, coder_a: str | None = None, coder_b: str | None = None, *, field: str = s.THEME,
                  ignore_uncoded: bool = False):
        """Agreement between two coders on the segments both coded (default: the machine and the busiest human).

        Returns a :class:`toolkit.coding.CoderComparison` (``.report``: kappa, alpha, per theme, confusion).
        """
        from toolkit.coding import compare_coders

        return compare_coders(self.store, coder_a, coder_b, field=field, ignore_uncoded=ignore_uncoded)

    def disagreements(self, coder_a: str, coder_b: str, *, field: str = s.THEME) -> pd.DataFrame:
        """Segments two coders labelled differently, with their reference and text."""
        differ = self.agreement(coder_a, coder_b, field=field).disagreements
        meta = self.segments().set_index(s.SEGMENT_KEY)[[REFERENCE, s.TEXT]]
        return differ.join(meta, how="left")

    # ------------------------------------------------------------------ helpers
    def _store_name(self) -> str:
        return self.config.store.path if not self.config.store.url else "project store"

    def _cli_path(self) -> str:
        try:
            return str(self.config.root.relative_to(Path.cwd()))
        except ValueError:
            return str(self.config.root)
